package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// ErrAppToken says Slack refused the app-level token used for Socket
// Mode: retrying cannot help.
var ErrAppToken = errors.New("socket mode: Slack refused the app-level token")

// refusedToken lists the apps.connections.open errors that no retry
// can cure. slack-go gives up by itself on some of them and retries the
// others forever.
var refusedToken = map[string]string{
	"invalid_auth":           "the token is not valid",
	"not_authed":             "no token was sent",
	"account_inactive":       "the app or workspace is deactivated",
	"token_revoked":          "the token was revoked",
	"token_expired":          "the token expired",
	"not_allowed_token_type": "it is not an app-level token (xapp-…)",
	"missing_scope":          "it lacks the connections:write scope",
}

// ackTimeout bounds the wait to queue one ack while the client has no
// connection; Slack gives up on an envelope after a few seconds anyway.
const ackTimeout = 3 * time.Second

// NewSocketClient returns a Socket Mode client over api, which must carry
// the app-level token (slack.OptionAppLevelToken) and, in tests, the fake
// Slack's URL (slack.OptionAPIURL). slack-go's own debug output, off
// unless enabled, would go to log at debug level; other opts are passed
// on (e.g. socketmode.OptionPingInterval).
//
// A websocket message is read whole into memory, so the client reads at
// most MaxBody per message, as the HTTP transport does per body (slack-go
// reads without a limit by default): a bigger one closes the connection,
// and the client reconnects. slack-go then passes the envelopes on one at
// a time through a small channel, and ServeSocketMode handles them one at
// a time with the same bounded Command and Interaction as HTTP: a flood
// of envelopes waits in the socket, not in memory.
func NewSocketClient(api *slack.Client, log *slog.Logger, opts ...socketmode.Option) *socketmode.Client {
	if log == nil {
		log = slog.Default()
	}
	opts = append([]socketmode.Option{
		socketmode.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelDebug)),
		socketmode.OptionReadLimit(MaxBody),
	}, opts...)
	return socketmode.New(api, opts...)
}

// ServeSocketMode serves Slack over Socket Mode until ctx ends: it runs
// client (which connects, and reconnects when the websocket drops or
// Slack asks it to) and hands slash commands and interactions to the
// same Command and Interaction as the HTTP transport. Each envelope is
// acked as soon as the handler returns, which is at once (they only
// queue work), with the handler's Reply as payload: the ack is Socket
// Mode's HTTP response.
//
// It returns nil when ctx ends, and an error wrapping ErrAppToken when
// Slack refuses the app-level token. client must not be run elsewhere.
func (b *Bot) ServeSocketMode(ctx context.Context, client *socketmode.Client) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s := &socketServer{bot: b, client: client, log: b.log.With("transport", "socket_mode"), seen: newEnvelopeCache(envelopeCacheSize)}

	ran := make(chan error, 1)
	go func() { ran <- client.RunContext(ctx) }()
	s.log.Info("socket mode: connecting to Slack")
	for {
		select {
		case ev := <-client.Events:
			if ctx.Err() != nil {
				continue // stopping: take no new work, let Slack redeliver
			}
			if err := s.handle(ctx, ev); err != nil {
				cancel(err) // RunContext stops and returns below
			}
		case err := <-ran:
			if cause := context.Cause(ctx); cause != nil {
				if errors.Is(cause, ErrAppToken) {
					return cause
				}
				s.log.Info("socket mode: stopped")
				return nil
			}
			// RunContext stops by itself only when it can't go on.
			return s.fatal(err)
		}
	}
}

// socketServer is one ServeSocketMode run. Events are handled one at a
// time, by one goroutine, so it needs no lock.
type socketServer struct {
	bot    *Bot
	client *socketmode.Client
	log    *slog.Logger
	seen   *envelopeCache
}

// fatal explains why the client gave up.
func (s *socketServer) fatal(err error) error {
	var se slack.SlackErrorResponse
	code := err.Error()
	if errors.As(err, &se) {
		code = se.Err
	}
	if why, ok := refusedToken[code]; ok {
		s.log.Error("socket mode: Slack refused the app-level token", "error", code, "reason", why)
		return fmt.Errorf("%w (%s): %s", ErrAppToken, code, why)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		// apps.connections.open answered 404: slack-go reports it as
		// invalid auth and gives up.
		s.log.Error("socket mode: apps.connections.open failed", "status", sc.Code)
		return fmt.Errorf("%w (HTTP %d from apps.connections.open)", ErrAppToken, sc.Code)
	}
	s.log.Error("socket mode: stopped", "error", err)
	return fmt.Errorf("socket mode: %w", err)
}

func (s *socketServer) handle(ctx context.Context, ev socketmode.Event) error {
	switch ev.Type {
	case socketmode.EventTypeSlashCommand:
		s.command(ctx, ev)
	case socketmode.EventTypeInteractive:
		s.interactive(ctx, ev)
	case socketmode.EventTypeEventsAPI:
		s.event(ctx, ev) // events.go: the path of POST /slack/events

	case socketmode.EventTypeConnecting:
		if d, ok := ev.Data.(*slack.ConnectingEvent); ok {
			s.log.Debug("socket mode: connecting", "attempt", d.Attempt, "connection", d.ConnectionCount+1)
		}
	case socketmode.EventTypeConnected:
		// Never log the event's Info.URL: its ticket opens the socket.
		n := 0
		if d, ok := ev.Data.(*socketmode.ConnectedEvent); ok {
			n = d.ConnectionCount + 1
		}
		s.log.Info("socket mode: connected", "connection", n)
	case socketmode.EventTypeHello:
		if ev.Request != nil {
			s.log.Debug("socket mode: hello", "connections", ev.Request.NumConnections, "host", ev.Request.DebugInfo.Host)
		}
	case socketmode.EventTypeConnectionError:
		d, _ := ev.Data.(*slack.ConnectionErrorEvent)
		if d == nil {
			s.log.Warn("socket mode: connection failed")
			return nil
		}
		var se slack.SlackErrorResponse
		if errors.As(d.ErrorObj, &se) {
			if _, ok := refusedToken[se.Err]; ok {
				return s.fatal(d.ErrorObj)
			}
		}
		s.log.Warn("socket mode: connection failed, retrying", "attempt", d.Attempt, "backoff", d.Backoff, "error", d.ErrorObj)
	case socketmode.EventTypeInvalidAuth:
		// slack-go sends it when apps.connections.open answers 404.
		return s.fatal(slack.StatusCodeError{Code: 404, Status: "404 Not Found"})
	case socketmode.EventTypeDisconnect: // not sent by slack-go v0.35
		reason := ""
		if ev.Request != nil {
			reason = ev.Request.Reason
		}
		s.log.Info("socket mode: Slack asked to reconnect", "reason", reason)
	case socketmode.EventTypeIncomingError:
		// Also what a connection closed at Slack's request looks like
		// (slack-go does not pass its disconnect on): not a warning.
		if d, ok := ev.Data.(*slack.IncomingEventError); ok {
			s.log.Info("socket mode: connection closed, reconnecting", "error", d.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if d, ok := ev.Data.(*socketmode.ErrorWriteFailed); ok {
			id := ""
			if d.Response != nil {
				id = d.Response.EnvelopeID
			}
			s.log.Warn("socket mode: ack not sent", "envelope", id, "error", d.Cause)
		}
	case socketmode.EventTypeErrorBadMessage:
		// The message itself may hold user data: only its size is logged.
		if d, ok := ev.Data.(*socketmode.ErrorBadMessage); ok {
			s.bot.noteRefused(reasonBadRequest, "socket mode: unreadable message ignored", "error", d.Cause, "bytes", len(d.Message))
		}
	default:
		if ev.Request != nil && ev.Request.EnvelopeID != "" {
			s.log.Debug("socket mode: envelope ignored", "type", ev.Request.Type, "envelope", ev.Request.EnvelopeID)
			s.ack(ctx, ev.Request, nil)
		}
	}
	return nil
}

func envelopeID(ev socketmode.Event) string {
	if ev.Request == nil {
		return ""
	}
	return ev.Request.EnvelopeID
}

// command runs a slash command and acks it with the answer.
func (s *socketServer) command(ctx context.Context, ev socketmode.Event) {
	start := time.Now()
	if s.redelivered(ctx, ev) {
		s.observe("command", "ok", start)
		return
	}
	sc, ok := ev.Data.(slack.SlashCommand)
	if !ok || sc.UserID == "" || sc.ChannelID == "" {
		s.bot.noteRefused(reasonBadRequest, "socket mode: slash command without a user or channel", "envelope", envelopeID(ev))
		s.done(ctx, ev, nil)
		s.observe("command", "bad_request", start)
		return
	}
	s.done(ctx, ev, s.bot.Command(ctx, sc))
	s.observe("command", "ok", start)
}

// interactive runs a click or a modal submission and acks it.
func (s *socketServer) interactive(ctx context.Context, ev socketmode.Event) {
	start := time.Now()
	if s.redelivered(ctx, ev) {
		s.observe("interaction", "ok", start)
		return
	}
	cb, ok := ev.Data.(slack.InteractionCallback)
	if !ok || cb.User.ID == "" {
		s.bot.noteRefused(reasonBadRequest, "socket mode: interaction without a user", "envelope", envelopeID(ev))
		s.done(ctx, ev, nil)
		s.observe("interaction", "bad_request", start)
		return
	}
	s.done(ctx, ev, s.bot.Interaction(ctx, cb))
	s.observe("interaction", "ok", start)
}

// observe reports a request and how long its ack took to queue, as the
// HTTP transport reports its answers, and counts it for the flood meter.
func (s *socketServer) observe(kind, outcome string, start time.Time) {
	if s.bot.flood != nil {
		s.bot.flood.hit()
	}
	if s.bot.obs != nil {
		s.bot.obs.SlackRequest(kind, outcome, time.Since(start))
	}
}

// redelivered acks again, with the same answer, an envelope that was
// already handled: Slack sends it again when it missed the ack (a
// connection lost at the wrong moment), and the work must not be done
// twice (two request messages for one /renew).
func (s *socketServer) redelivered(ctx context.Context, ev socketmode.Event) bool {
	if ev.Request == nil {
		return false
	}
	reply, ok := s.seen.get(ev.Request.EnvelopeID)
	if !ok {
		return false
	}
	s.log.Info("socket mode: envelope received again, acked again, not run again", "envelope", ev.Request.EnvelopeID, "retry", ev.Request.RetryAttempt)
	s.ack(ctx, ev.Request, reply)
	return true
}

// done remembers a handled envelope and acks it.
func (s *socketServer) done(ctx context.Context, ev socketmode.Event, reply *Reply) {
	if ev.Request == nil {
		return
	}
	s.seen.put(ev.Request.EnvelopeID, reply)
	s.ack(ctx, ev.Request, reply)
}

// ack acknowledges req with reply as payload (none when nil). Slack drops
// acks of 20 KB or more: such an answer is cut down to its text, and at
// worst to a plain ack, so Slack never retries a handled envelope.
func (s *socketServer) ack(ctx context.Context, req *socketmode.Request, reply *Reply) {
	if req == nil || req.EnvelopeID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	var payload any
	if reply != nil {
		payload = reply // a nil *Reply in an any would be sent as null
	}
	err := s.client.AckCtx(ctx, req.EnvelopeID, payload)
	if err != nil && payload != nil && ctx.Err() == nil {
		s.log.Warn("socket mode: answer too large for an ack, sending its text only", "envelope", req.EnvelopeID, "error", err)
		short := &Reply{ResponseType: reply.ResponseType, Text: reply.Text, ResponseAction: reply.ResponseAction, Errors: reply.Errors}
		if err = s.client.AckCtx(ctx, req.EnvelopeID, short); err != nil && ctx.Err() == nil {
			err = s.client.AckCtx(ctx, req.EnvelopeID, nil)
		}
	}
	if err != nil {
		s.log.Warn("socket mode: ack not queued", "envelope", req.EnvelopeID, "error", err)
	}
}

// envelopeCacheSize is how many handled envelopes are remembered for
// redeliveries: Slack retries within minutes, and far fewer envelopes
// arrive meanwhile.
const envelopeCacheSize = 512

// envelopeCache remembers the answers of the last envelopes handled.
type envelopeCache struct {
	replies map[string]*Reply
	order   []string // ring of ids, oldest at next
	next    int
}

func newEnvelopeCache(n int) *envelopeCache {
	return &envelopeCache{replies: make(map[string]*Reply, n), order: make([]string, n)}
}

func (c *envelopeCache) get(id string) (*Reply, bool) {
	r, ok := c.replies[id]
	return r, ok
}

func (c *envelopeCache) put(id string, r *Reply) {
	if id == "" {
		return
	}
	if _, ok := c.replies[id]; ok {
		return
	}
	if old := c.order[c.next]; old != "" {
		delete(c.replies, old)
	}
	c.order[c.next] = id
	c.next = (c.next + 1) % len(c.order)
	c.replies[id] = r
}
