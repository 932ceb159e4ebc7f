package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/renewbot/renewbot/internal/slackfake"
)

// outcome is what came of one request to the bot.
type outcome int

const (
	waiting   outcome = iota // no answer yet
	failed                   // no 200 ack: HTTP error, timeout, refused connection
	busy                     // the bot said it is busy (in the ack or ephemerally)
	posted                   // the channel message it led to is there
	ephemeral                // an ephemeral answer other than busy (an error)
)

// exchange is one request to the bot (a command or a click) and the answer
// it led to.
type exchange struct {
	sent    time.Time
	ack     time.Duration // time to the HTTP response; 0 until then
	acked   bool          // a 200 came back
	done    time.Time     // when Slack got the answer
	outcome outcome
	detail  string // the error or the ephemeral text
}

// op is one user typing /renew in their own channel, and with -clicks
// clicking "Choose" on the message the bot posts.
type op struct {
	channel, user string
	service       string // what its /renew names
	cmd, click    exchange
	clicked       bool // the click was sent
	responses     int  // ephemeral answers already seen for user
}

// awaiting is the exchange an answer to op's user belongs to, if any.
func (o *op) awaiting() *exchange {
	switch {
	case o.clicked && o.click.outcome == waiting:
		return &o.click
	case !o.clicked && o.cmd.outcome == waiting:
		return &o.cmd
	}
	return nil
}

// tracker holds every op; the senders and the watcher record into it.
type tracker struct {
	mu        sync.Mutex
	ops       []*op
	byChannel map[string]*op
	byUser    map[string]*op
	clicks    bool
}

func newTracker(n int, clicks bool) *tracker {
	t := &tracker{byChannel: map[string]*op{}, byUser: map[string]*op{}, clicks: clicks}
	for i := range n {
		o := &op{channel: fmt.Sprintf("CLOAD%05d", i), user: fmt.Sprintf("ULOAD%05d", i)}
		t.ops = append(t.ops, o)
		t.byChannel[o.channel] = o
		t.byUser[o.user] = o
	}
	return t
}

// record stores what the bot's HTTP answer to e said.
func (t *tracker) record(e *exchange, sent time.Time, status int, body string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.sent, e.ack = sent, time.Since(sent)
	switch {
	case err != nil:
		e.outcome, e.detail = failed, err.Error()
	case status != http.StatusOK:
		e.outcome, e.detail = failed, fmt.Sprintf("HTTP %d: %s", status, strings.TrimSpace(body))
	default:
		e.acked = true
		if text := ackText(body); isBusy(text) {
			settle(e, sent.Add(e.ack), busy, text)
		}
	}
}

// settle stores the answer Slack got for e at t, unless e has one.
// t.mu must be held.
func settle(e *exchange, at time.Time, o outcome, detail string) {
	if e.outcome != waiting {
		return
	}
	if o == ephemeral && isBusy(detail) {
		o = busy
	}
	e.outcome, e.done, e.detail = o, at, detail
}

// pending counts the exchanges still waiting for an answer: commands, and
// with -clicks the clicks due on posted messages.
func (t *tracker) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, o := range t.ops {
		if o.cmd.outcome == waiting || t.clicks && o.cmd.outcome == posted && o.click.outcome == waiting {
			n++
		}
	}
	return n
}

func isBusy(text string) bool { return strings.Contains(strings.ToLower(text), "busy") }

// ackText is the text of the bot's JSON ack (empty for an empty ack).
func ackText(body string) string {
	var reply struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal([]byte(body), &reply)
	return reply.Text
}

// loader sends signed requests to the bot.
type loader struct {
	base   string
	client *http.Client
	slack  *slackfake.Server
	t      *tracker
}

func newLoader(base string, concurrency int, timeout time.Duration, slack *slackfake.Server, t *tracker) *loader {
	for ch := range t.byChannel {
		slack.Join(ch) // each user's channel invited the bot, or Slack refuses its messages
	}
	tr := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, IdleConnTimeout: time.Minute}
	return &loader{base: base, client: &http.Client{Transport: tr, Timeout: timeout}, slack: slack, t: t}
}

// send posts one signed form to the bot and records the ack in e.
func (l *loader) send(ctx context.Context, e *exchange, path string, form url.Values) {
	req := slackfake.SignedRequest(l.base+path, signingSecret, form).WithContext(ctx)
	sent := time.Now()
	resp, err := l.client.Do(req)
	var body []byte
	status := 0
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	l.t.record(e, sent, status, string(body), err)
}

// command types /renew SERVICE as op's user in op's channel.
func (l *loader) command(ctx context.Context, o *op, service string) {
	l.send(ctx, &o.cmd, "/slack/commands", l.slack.Command(o.channel, o.user, service))
}

// click presses "Choose" (or picks in the menu) on the message o's
// command led to.
func (l *loader) click(ctx context.Context, o *op, c choice) {
	ts := l.messageTS(ctx, o.channel)
	form := l.slack.Click(o.channel, ts, o.user, c.actionID, c.value)
	if c.menu {
		form = l.slack.Select(o.channel, ts, o.user, c.actionID, c.value)
	}
	l.send(ctx, &o.click, "/slack/interactions", form)
}

// messageTS is the ts of channel's message. The fake records a call
// just before it stores the message, so the message may lag a moment.
func (l *loader) messageTS(ctx context.Context, channel string) string {
	for range 100 {
		if ms := l.slack.Messages(channel); len(ms) > 0 {
			return ms[0].TS
		}
		if sleep(ctx, 5*time.Millisecond) != nil {
			break
		}
	}
	return ""
}

// parallel runs do for each of items with at most c at once.
func parallel[T any](items <-chan T, c int, do func(T)) {
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				do(it)
			}
		}()
	}
	wg.Wait()
}

// runLoad sends every command, clicks when asked to, and waits until each
// accepted one is answered (or o.wait passes).
func runLoad(ctx context.Context, o options, f *fakes, bot *botProcess) (*Result, error) {
	t := newTracker(o.n, o.clicks)
	l := newLoader(bot.base, o.c, o.ackTimeout, f.slack, t)
	clicks := make(chan clickJob, o.n)
	w := &watcher{slack: f.slack, t: t, clicks: clicks, wantClicks: o.clicks}
	stopWatch := w.run(10 * time.Millisecond)

	clicking := make(chan struct{})
	go func() {
		defer close(clicking)
		parallel(clicks, o.c, func(j clickJob) { l.click(ctx, j.op, j.choice) })
	}()

	services := make([]string, len(t.ops))
	if o.clicks {
		services = f.cloneServices(len(t.ops))
	}
	for i, op := range t.ops {
		op.service = o.service
		if services[i] != "" {
			op.service = services[i]
		}
	}
	cmds := make(chan *op)
	go func() {
		defer close(cmds)
		for _, op := range t.ops {
			cmds <- op
		}
	}()
	whole, acking := startPhase(bot.pid()), startPhase(bot.pid())
	parallel(cmds, o.c, func(op *op) { l.command(ctx, op, op.service) })
	acked := acking.stop()

	err := waitAnswered(ctx, t, bot, o.wait)
	run := whole.stop()
	stopWatch()
	close(clicks)
	<-clicking
	if err != nil {
		return nil, err
	}
	r := t.result()
	r.OVHCalls = len(f.ovh.Calls())
	r.Acking, r.Run = acked, run
	return r, nil
}

// waitAnswered polls the tracker until nothing is pending, the bot stops,
// ctx ends or wait passes (what is still pending then is reported
// unanswered).
func waitAnswered(ctx context.Context, t *tracker, bot *botProcess, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for t.pending() > 0 && time.Now().Before(deadline) {
		if err := bot.gone(); err != nil {
			return err
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
