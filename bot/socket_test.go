package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/slackfake"
	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/ovhcloud"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

const (
	testAppToken = "xapp-1-A0001-1-0123456789abcdef-socket-secret"
	testBotToken = "xoxb-0123456789-socket-bot-secret"
	opsChannel   = "C0OPS0001"
	alice        = "U0ALICE01"
)

// socketRig is a real Bot (renewer over the fake OVHcloud, SQLite store,
// Slack Web API over the fake Slack) served over the fake Socket Mode.
type socketRig struct {
	t     *testing.T
	slack *slackfake.Server
	sm    *slackfake.SocketMode
	ovh   *ovhfake.Server
	pool  *Pool
	bot   *Bot
	logs  *lockedBuffer
	obs   *recorder

	cancel context.CancelFunc
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recorder is an Observer that keeps the Slack requests it hears.
type recorder struct {
	mu       sync.Mutex
	requests []string // kind/outcome
	slowest  time.Duration
	busy     int
}

func (o *recorder) SlackRequest(kind, outcome string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, kind+"/"+outcome)
	o.slowest = max(o.slowest, d)
}

func (o *recorder) Busy()               { o.mu.Lock(); o.busy++; o.mu.Unlock() }
func (o *recorder) Payment(renew.Money) {}

func (o *recorder) seen() ([]string, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.requests...), o.slowest
}

func newSocketRig(t *testing.T, workers, queue int) *socketRig {
	t.Helper()
	return newSocketRigOn(t, workers, queue, nil)
}

// newSocketRigOn is newSocketRig with the bot's pacing and sampled logs
// on clock (the system's when nil).
func newSocketRigOn(t *testing.T, workers, queue int, clock Clock) *socketRig {
	t.Helper()
	r := &socketRig{t: t, slack: slackfake.New(), ovh: ovhfake.SampleAccount(time.Now()), logs: &lockedBuffer{}}
	t.Cleanup(r.slack.Close)
	r.slack.Join(opsChannel) // the bot was invited there
	r.sm = r.slack.SocketMode()
	t.Cleanup(r.sm.Close)
	ovhURL := r.ovh.Start()
	t.Cleanup(r.ovh.Close)

	ovh, err := ovhcloud.New(ovhcloud.Config{Endpoint: ovhURL, ApplicationKey: "app-key", ApplicationSecret: "app-secret", ConsumerKey: "consumer-key", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "renewbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := slack.New(testBotToken, slack.OptionAppLevelToken(testAppToken), slack.OptionAPIURL(r.slack.APIURL()))
	account := &renew.Account{OVH: ovh}
	rn := &renew.Renewer{
		OVH: ovh, Store: store, Lookup: account.Services,
		Policy:    &renew.Policy{Approvals: 1, TTL: time.Hour},
		FollowFor: time.Second, FollowEvery: 100 * time.Millisecond,
	}
	r.pool = NewPool(workers, queue, time.Minute)
	t.Cleanup(func() { _ = r.pool.Close(context.Background()) })
	r.obs = &recorder{}
	r.bot = New(Config{Renewer: rn, Out: &SlackPoster{API: api, Log: log}, Pool: r.pool, Log: log, Account: account, Observer: r.obs,
		Workspace: Workspace{TeamID: "T0001", AppID: "A0001"}, Clock: clock})

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.bot.ServeSocketMode(ctx, NewSocketClient(api, log)) }()
	t.Cleanup(r.stop)
	if err := r.sm.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, r.logs)
	}
	return r
}

// stop ends ServeSocketMode and checks it returns nil, promptly.
func (r *socketRig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("ServeSocketMode returned %v, want nil when its context ends", err)
		}
	case <-time.After(5 * time.Second):
		r.t.Error("ServeSocketMode did not return within 5s of its context's end")
	}
	for _, secret := range []string{testAppToken, testBotToken, "ticket="} {
		if strings.Contains(r.logs.String(), secret) {
			r.t.Errorf("the logs hold %q:\n%s", secret, r.logs)
		}
	}
}

// ackReply is a Reply as read back from JSON (slack.Block is an
// interface: the blocks stay raw).
type ackReply struct {
	ResponseType   string            `json:"response_type"`
	Text           string            `json:"text"`
	Blocks         json.RawMessage   `json:"blocks"`
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

// ack waits for the ack of envelope id and decodes its payload.
func (r *socketRig) ack(id string) (slackfake.Ack, ackReply) {
	r.t.Helper()
	a, err := r.sm.WaitAck(id, 10*time.Second)
	if err != nil {
		r.t.Fatalf("%v\nlogs:\n%s", err, r.logs)
	}
	if a.EnvelopeID != id {
		r.t.Fatalf("ack of %q, want %q", a.EnvelopeID, id)
	}
	var reply ackReply
	if a.Payload != nil {
		if err := json.Unmarshal(a.Payload, &reply); err != nil {
			r.t.Fatalf("ack payload %s: %v", a.Payload, err)
		}
	}
	return a, reply
}

// slowWorkStarted waits until a call to the slowed OVHcloud is in
// progress: the ack came first, while the work is still running.
func (r *socketRig) slowWorkStarted() {
	r.t.Helper()
	r.eventually("a call to OVHcloud in progress", func() bool {
		for _, c := range r.ovh.Calls() {
			if c.Status == 0 {
				return true
			}
		}
		return false
	})
}

func (r *socketRig) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s\nlogs:\n%s", what, r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// value finds the value of the first element with actionID in a
// message's blocks JSON.
func value(t *testing.T, raw, actionID string) string {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	var found string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["action_id"] == actionID && found == "" {
				found, _ = x["value"].(string)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	if found == "" {
		t.Fatalf("no %s element in %s", actionID, raw)
	}
	return found
}

// The whole transport: hello, an answer in the ack, a request posted
// after the ack, a click, a dropped connection and a command after it.
func TestSocketModeServesCommandsAndClicks(t *testing.T) {
	r := newSocketRig(t, 4, 16)

	// /renew help: the usage is the ack's payload, as in the HTTP answer.
	help := r.sm.SendSlashCommand(r.slack.Command(opsChannel, alice, "help"))
	_, reply := r.ack(help)
	if reply.ResponseType != slack.ResponseTypeEphemeral || reply.Text != blocks.HelpText() || len(reply.Blocks) == 0 {
		t.Errorf("help ack = %+v, want the ephemeral usage with blocks", reply)
	}

	// /renew web-front: acked at once although OVHcloud is slow; the
	// request message comes after.
	r.ovh.SetLatency(2 * time.Second)
	id := r.sm.SendSlashCommand(r.slack.Command(opsChannel, alice, "web-front"))
	a, reply := r.ack(id)
	if a.Delay > time.Second {
		t.Errorf("the command was acked after %v: the ack must not wait for OVHcloud", a.Delay)
	}
	if !strings.Contains(reply.Text, "Looking up `web-front`") {
		t.Errorf("command ack = %+v, want a 'Looking up' answer", reply)
	}
	r.slowWorkStarted()
	if n := len(r.slack.Messages(opsChannel)); n != 0 {
		t.Fatalf("%d messages before OVHcloud answered", n)
	}
	r.ovh.SetLatency(0)
	var msg slackfake.Message
	r.eventually("the request message", func() bool {
		ms := r.slack.Messages(opsChannel)
		if len(ms) == 0 {
			return false
		}
		msg = ms[0]
		return strings.Contains(msg.Raw, `"choose"`)
	})

	// A click on Choose: a plain ack at once, then the order.
	r.ovh.SetLatency(2 * time.Second)
	click := r.slack.Click(opsChannel, msg.TS, alice, blocks.ActionChoose, value(t, msg.Raw, blocks.ActionChoose))
	id = r.sm.SendInteractive([]byte(click.Get("payload")))
	a, _ = r.ack(id)
	if a.Payload != nil || a.Delay > time.Second {
		t.Errorf("click ack = %s after %v, want a plain ack at once", a.Payload, a.Delay)
	}
	r.slowWorkStarted()
	r.ovh.SetLatency(0)
	r.eventually("the renew order", func() bool { return len(r.ovh.CallsTo("POST", "/service/*/renew")) == 1 })
	if calls := r.ovh.CallsTo("POST", "/service/*/renew"); calls[0].Path != "/service/10001/renew" {
		t.Errorf("renew order on %s, want /service/10001/renew", calls[0].Path)
	}

	// The websocket drops: the client reconnects by itself.
	if n := r.sm.Drop(); n != 1 {
		t.Fatalf("Drop cut %d connections, want 1", n)
	}
	if err := r.sm.WaitConnections(2, 20*time.Second); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, r.logs)
	}
	if n := r.sm.Connections(); n != 2 {
		t.Errorf("Connections() = %d, want 2", n)
	}
	id = r.sm.SendSlashCommand(r.slack.Command(opsChannel, alice, "status"))
	if a, reply := r.ack(id); a.Conn != 2 || !strings.Contains(reply.Text, "open requests") {
		t.Errorf("after the reconnection: ack %+v with %+v, want the status answer on connection 2", a, reply)
	}

	// Every envelope was acked exactly once.
	seen := map[string]int{}
	for _, a := range r.sm.Acks() {
		seen[a.EnvelopeID]++
	}
	if len(seen) != 4 {
		t.Errorf("%d envelopes acked, want 4: %+v", len(seen), r.sm.Acks())
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("envelope %s acked %d times", id, n)
		}
	}
	reqs, slowest := r.obs.seen()
	if strings.Join(reqs, " ") != "command/ok command/ok interaction/ok command/ok" || slowest > time.Second {
		t.Errorf("observed %v, slowest ack %v; want 3 commands and 1 interaction acked fast", reqs, slowest)
	}
	for _, want := range []string{"socket mode: connected", "connection=2"} {
		if !strings.Contains(r.logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, r.logs)
		}
	}
}

// Slack sends an envelope again when it missed the ack: it is acked
// again with the same answer, and the command does not run twice.
func TestSocketModeRedeliveryRunsOnce(t *testing.T) {
	r := newSocketRig(t, 4, 16)
	id := r.sm.SendSlashCommand(r.slack.Command(opsChannel, alice, "web-front"))
	_, first := r.ack(id)
	r.sm.Redeliver(id)
	r.eventually("the second ack", func() bool { return len(r.sm.AcksOf(id)) == 2 })
	acks := r.sm.AcksOf(id)
	if !bytes.Equal(acks[0].Payload, acks[1].Payload) || !strings.Contains(first.Text, "Looking up") {
		t.Errorf("acks %s and %s, want the same 'Looking up' answer twice", acks[0].Payload, acks[1].Payload)
	}
	r.eventually("the request message", func() bool { return len(r.slack.Messages(opsChannel)) >= 1 })
	time.Sleep(300 * time.Millisecond) // a second proposal would post by now
	if n := len(r.slack.Messages(opsChannel)); n != 1 {
		t.Errorf("%d request messages, want 1: the redelivered command ran again", n)
	}
}

// A modal submission refused for lack of room answers in the ack with
// response_action errors; events are acked and ignored; Slack's
// disconnect (a refresh) is followed by a new connection.
func TestSocketModeSubmissionEventsAndDisconnect(t *testing.T) {
	r := newSocketRig(t, 1, 0)
	release := make(chan struct{})
	defer close(release)
	r.eventually("the only worker busy", func() bool { return r.pool.Submit(func(context.Context) { <-release }) })

	sub := r.slack.ViewSubmission(alice, blocks.CallbackCancel, "R1", map[string]map[string]string{blocks.BlockReason: {blocks.ActionReason: "not needed"}})
	id := r.sm.SendInteractive([]byte(sub.Get("payload")))
	if _, reply := r.ack(id); reply.ResponseAction != "errors" || reply.Errors[blocks.BlockReason] == "" {
		t.Errorf("submission ack = %+v, want response_action errors on %s", reply, blocks.BlockReason)
	}

	id = r.sm.Send("events_api", map[string]any{"type": "event_callback", "event": map[string]any{"type": "app_mention", "text": "hi"}}, false)
	if a, _ := r.ack(id); a.Payload != nil {
		t.Errorf("event ack payload %s, want none", a.Payload)
	}

	r.sm.Disconnect("refresh_requested")
	if err := r.sm.WaitConnections(2, 20*time.Second); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, r.logs)
	}
	r.eventually("the new connection logged", func() bool { return strings.Contains(r.logs.String(), "connection=2") })
}

// A refused app-level token stops ServeSocketMode with ErrAppToken
// instead of retrying forever, and the token is never logged.
func TestSocketModeRefusedToken(t *testing.T) {
	for name, tc := range map[string]struct{ token, refuse, code string }{
		"invalid":   {testAppToken, "invalid_auth", "invalid_auth"},
		"bot token": {testBotToken, "", "not_allowed_token_type"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := slackfake.New()
			defer fake.Close()
			fake.SocketMode().Refuse(tc.refuse)
			var logs lockedBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			b := &Bot{log: log}
			api := slack.New(testBotToken, slack.OptionAppLevelToken(tc.token), slack.OptionAPIURL(fake.APIURL()))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := b.ServeSocketMode(ctx, NewSocketClient(api, log))
			if !errors.Is(err, ErrAppToken) || !strings.Contains(err.Error(), tc.code) {
				t.Fatalf("ServeSocketMode = %v, want ErrAppToken with %s", err, tc.code)
			}
			if ctx.Err() != nil {
				t.Error("ServeSocketMode retried until its context ended")
			}
			if strings.Contains(logs.String(), tc.token) || strings.Contains(err.Error(), tc.token) {
				t.Errorf("the token leaked: %v\n%s", err, logs.String())
			}
		})
	}
}

// A connection that goes silent (no ping from Slack, as when the network
// drops without a word) is given up and replaced.
func TestSocketModeSilentConnectionReplaced(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	sm := fake.SocketMode()
	sm.SetPingInterval(0)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	api := slack.New(testBotToken, slack.OptionAppLevelToken(testAppToken), slack.OptionAPIURL(fake.APIURL()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Bot{log: log}).ServeSocketMode(ctx, NewSocketClient(api, log, socketmode.OptionPingInterval(200*time.Millisecond)))
	}()
	err := sm.WaitConnections(2, 10*time.Second)
	cancel()
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if err := <-done; err != nil {
		t.Errorf("ServeSocketMode = %v, want nil", err)
	}
}

// A flood of envelopes while the pool is full is a flood of HTTP
// requests: each is acked at once and counted busy, the refused clicks'
// answers go through the same bounded queue, and nothing grows.
func TestSocketModeFloodWhileBusyStaysBounded(t *testing.T) {
	clock := fakeclock.New(time.Now())
	r := newSocketRigOn(t, 1, 1, clock)
	hold, started := make(chan struct{}), make(chan struct{})
	defer close(hold)
	r.pool.Submit(func(context.Context) { close(started); <-hold })
	<-started
	if !r.pool.Submit(func(context.Context) { <-hold }) || !r.pool.SubmitUrgent(func(context.Context) { <-hold }) {
		t.Fatal("the queues did not take the jobs that fill them")
	}
	const n = 200
	before := runtime.NumGoroutine()
	var ids []string
	for i := range n {
		user := fmt.Sprintf("U0FLOOD%04d", i)
		click := r.slack.Click(opsChannel, "1.000001", user, blocks.ActionChoose, "0123456789abcdef0123:0")
		ids = append(ids, r.sm.SendInteractive([]byte(click.Get("payload"))), r.sm.SendSlashCommand(r.slack.Command(opsChannel, user, "web-front")))
	}
	for i, id := range ids {
		_, reply := r.ack(id)
		if i%2 == 1 && !strings.Contains(reply.Text, "busy") {
			t.Fatalf("command ack %+v, want the busy answer", reply)
		}
	}
	// The constant: the answers' sender, the sampled log's, and the
	// connection to the fake Slack (both ends are in this process).
	if grown := runtime.NumGoroutine() - before; grown > 8 {
		t.Errorf("%d more goroutines after %d refused envelopes, want a constant (at most 8)", grown, 2*n)
	}
	r.obs.mu.Lock()
	busy := r.obs.busy
	r.obs.mu.Unlock()
	if busy != 2*n {
		t.Errorf("%d busy counted, want %d", busy, 2*n)
	}
	// The clock stands still: the answers' first burst, no more.
	time.Sleep(100 * time.Millisecond) // let a wrongly unbounded sender show itself
	if got := len(r.slack.Calls("response_url")); got > refusalRate.Burst {
		t.Errorf("%d busy answers sent at once, want at most %d", got, refusalRate.Burst)
	}
	// One line per reason: clicks answered busy, clicks left without an
	// answer, commands.
	if got := strings.Count(r.logs.String(), "queue full"); got > 3 {
		t.Errorf("%d log lines about the full queue, want at most 3, one per reason", got)
	}
}

// A websocket message over MaxBody is not read into memory: the
// connection is dropped, the envelope is never handled, and the client
// reconnects and goes on.
func TestSocketModeReadLimit(t *testing.T) {
	r := newSocketRig(t, 4, 16)
	huge := r.sm.SendSlashCommand(r.slack.Command(opsChannel, alice, strings.Repeat("x", 2*MaxBody)))
	if err := r.sm.WaitConnections(2, 20*time.Second); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, r.logs)
	}
	// The fake keeps a message it could not write whole for the next
	// connection, as Slack redelivers: the client may reconnect a few
	// times, and a command sent meanwhile may be lost with its
	// connection. One of a few gets through.
	acked := false
	for range 10 {
		help := r.sm.SendSlashCommand(r.slack.Command(opsChannel, alice, "help"))
		if _, err := r.sm.WaitAck(help, 2*time.Second); err == nil {
			acked = true
			break
		}
	}
	if !acked {
		t.Fatalf("no command acked after the oversized message\nlogs:\n%s", r.logs)
	}
	if acks := r.sm.AcksOf(huge); len(acks) != 0 {
		t.Errorf("the oversized envelope was acked: %+v", acks)
	}
}

func TestEnvelopeCacheForgetsOldest(t *testing.T) {
	c := newEnvelopeCache(2)
	r := &Reply{Text: "a"}
	c.put("a", r)
	c.put("b", nil)
	c.put("a", nil) // already there: unchanged, not moved
	if got, ok := c.get("a"); !ok || got != r {
		t.Fatalf("a = %v, %v", got, ok)
	}
	c.put("c", nil)
	if _, ok := c.get("a"); ok {
		t.Error("a not forgotten after two newer envelopes")
	}
	for _, id := range []string{"b", "c"} {
		if _, ok := c.get(id); !ok {
			t.Errorf("%s forgotten", id)
		}
	}
}
