package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
)

// Message is what the bot posts: a notification text (also what screen
// readers and notifications show) and Block Kit blocks.
type Message struct {
	Text     string
	Blocks   []slack.Block
	ThreadTS string // set: a reply in that message's thread
}

// Target is where an ephemeral answer goes: to User, through ResponseURL
// when Slack gave one (it works even where the bot is not a member), else
// with chat.postEphemeral in Channel.
type Target struct {
	Channel     string
	User        string
	ResponseURL string
	// Replace replaces the ephemeral message the response_url came from
	// (a list page) instead of adding one.
	Replace bool
	// Home: User acted on their Home tab, and is answered there.
	Home bool
}

// Poster is how the bot talks back. SlackPoster implements it over the Web
// API; the console implements it on a terminal.
type Poster interface {
	Post(ctx context.Context, channel string, m Message) (ts string, err error)
	Update(ctx context.Context, channel, ts string, m Message) error
	Ephemeral(ctx context.Context, to Target, m Message) error
}

// WebAPI is the part of slack-go's client the bot calls.
type WebAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
}

// Modals is a Poster that can open a Slack modal (views.open), as
// SlackPoster and the console do. Without it, Cancel asks no reason.
type Modals interface {
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
}

// Permalinker is a Poster that can link to a message (chat.getPermalink).
type Permalinker interface {
	Permalink(ctx context.Context, channel, ts string) (string, error)
}

// SlackPoster posts through Slack's Web API and response_url, retrying
// within bounds when Slack rate-limits or fails.
type SlackPoster struct {
	API  WebAPI
	HTTP *http.Client // for response_url
	Log  *slog.Logger
	// Attempts bounds tries per call (default 4); MaxWait bounds one
	// wait between tries (default 30s).
	Attempts int
	MaxWait  time.Duration
}

var (
	_ Poster        = (*SlackPoster)(nil)
	_ Modals        = (*SlackPoster)(nil)
	_ Permalinker   = (*SlackPoster)(nil)
	_ HomePublisher = (*SlackPoster)(nil)
	_ WebAPI        = (*slack.Client)(nil)
)

// PublishHome publishes user's Home tab (views.publish), retrying within
// bounds when Slack rate-limits it.
func (p *SlackPoster) PublishHome(ctx context.Context, user string, view slack.HomeTabViewRequest) error {
	return p.retry(ctx, "views.publish", func() error {
		_, err := p.API.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	})
}

// OpenView opens a modal. A trigger id lives three seconds: no retry.
func (p *SlackPoster) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	_, err := p.API.OpenViewContext(ctx, triggerID, view)
	if err != nil {
		return fmt.Errorf("views.open: %w", err)
	}
	return nil
}

// Permalink returns a link to a message.
func (p *SlackPoster) Permalink(ctx context.Context, channel, ts string) (string, error) {
	var link string
	err := p.retry(ctx, "chat.getPermalink", func() error {
		var err error
		link, err = p.API.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
		return err
	})
	return link, err
}

func msgOptions(m Message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
	if m.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.ThreadTS))
	}
	return opts
}

// Post sends a channel message.
func (p *SlackPoster) Post(ctx context.Context, channel string, m Message) (string, error) {
	var ts string
	err := p.retry(ctx, "chat.postMessage", func() error {
		var err error
		_, ts, err = p.API.PostMessageContext(ctx, channel, msgOptions(m)...)
		return err
	})
	return ts, err
}

// Update replaces a channel message.
func (p *SlackPoster) Update(ctx context.Context, channel, ts string, m Message) error {
	return p.retry(ctx, "chat.update", func() error {
		_, _, _, err := p.API.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
		return err
	})
}

// Ephemeral answers one user: through the response_url when there is one,
// else, or when Slack no longer takes that response_url, with
// chat.postEphemeral in the channel.
func (p *SlackPoster) Ephemeral(ctx context.Context, to Target, m Message) error {
	if to.ResponseURL != "" {
		msg := &slack.WebhookMessage{Text: m.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: to.Replace}
		if len(m.Blocks) > 0 {
			msg.Blocks = &slack.Blocks{BlockSet: m.Blocks}
		}
		hc := p.HTTP
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		err := p.retry(ctx, "response_url", func() error {
			return slack.PostWebhookCustomHTTPContext(ctx, to.ResponseURL, hc, msg)
		})
		if err == nil || !spentResponseURL(err) || to.Channel == "" || to.User == "" {
			return err
		}
		p.log().Info("response_url spent or expired, answering with chat.postEphemeral", "user", to.User, "channel", to.Channel)
	}
	return p.retry(ctx, "chat.postEphemeral", func() error {
		_, err := p.API.PostEphemeralContext(ctx, to.Channel, to.User, msgOptions(m)...)
		return err
	})
}

// retry runs call until it succeeds, fails for good, or runs out of
// attempts. Rate limits wait what Slack asks; other transient failures back
// off exponentially.
func (p *SlackPoster) retry(ctx context.Context, method string, call func() error) error {
	attempts, maxWait := p.Attempts, p.MaxWait
	if attempts <= 0 {
		attempts = 4
	}
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	wait := 500 * time.Millisecond
	var err error
	for i := 1; ; i++ {
		err = call()
		if err == nil {
			return nil
		}
		d, retryable := retryAfter(err, wait)
		p.log().Warn("slack call failed", "method", method, "error", SlackErrorCode(err), "attempt", i, "retryable", retryable)
		if !retryable || i >= attempts {
			return fmt.Errorf("%s: %w", method, err)
		}
		d = min(d, maxWait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (after %v)", method, ctx.Err(), err)
		case <-time.After(d):
		}
		wait *= 2
	}
}

func (p *SlackPoster) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

// retryAfter says whether err is worth another try, and after how long.
func retryAfter(err error, backoff time.Duration) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, 100*time.Millisecond), true
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return backoff, true
		}
		return 0, false
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return backoff, sc.Code >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return backoff, true
	}
	return 0, false
}

// spentResponseURL reports whether a response_url was refused for good:
// Slack takes five posts to one within thirty minutes, then refuses
// (404 with expired_url or used_url as seen; Slack documents neither the
// code nor the body). Any refusal but a malformed message (400) and a
// rate limit (429, retried) counts: chat.postEphemeral still reaches
// the person.
func spentResponseURL(err error) bool {
	var sc slack.StatusCodeError
	return errors.As(err, &sc) && sc.Code >= 400 && sc.Code < 500 &&
		sc.Code != http.StatusBadRequest && sc.Code != http.StatusTooManyRequests
}

// SlackErrorCode returns Slack's error code ("not_in_channel",
// "ratelimited"…) when err carries one, else err's text.
func SlackErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited"
	}
	if err == nil {
		return ""
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Its text holds the URL, and a response_url is a credential.
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
