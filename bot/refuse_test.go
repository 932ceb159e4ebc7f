package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/slackfake"
	"github.com/renewbot/renewbot/renew"
)

const floodSecret = "flood-signing-secret"

// slowSlack is a Slack whose every answer to a user hangs until it is
// released, as when Slack is slow: whatever the bot does meanwhile must
// not grow with the number of requests.
type slowSlack struct {
	release    chan struct{}
	ephemerals atomic.Int64
}

func (s *slowSlack) Post(context.Context, string, Message) (string, error) { return "1.000001", nil }
func (s *slowSlack) Update(context.Context, string, string, Message) error { return nil }
func (s *slowSlack) Ephemeral(ctx context.Context, _ Target, _ Message) error {
	s.ephemerals.Add(1)
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counter is an Observer that counts.
type counter struct {
	mu       sync.Mutex
	requests map[string]int // kind/outcome
	busy     int
}

func (c *counter) SlackRequest(kind, outcome string, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.requests == nil {
		c.requests = map[string]int{}
	}
	c.requests[kind+"/"+outcome]++
}
func (c *counter) Busy()               { c.mu.Lock(); c.busy++; c.mu.Unlock() }
func (c *counter) Payment(renew.Money) {}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if key == "busy" {
		return c.busy
	}
	return c.requests[key]
}

// floodRig is a Bot behind its HTTP routes with a pool of one worker.
type floodRig struct {
	t     *testing.T
	bot   *Bot
	mux   *http.ServeMux
	pool  *Pool
	clock *fakeclock.Clock
	out   *slowSlack
	obs   *counter
	logs  *lockedBuffer
	forms *slackfake.Server
}

func newFloodRig(t *testing.T) *floodRig {
	t.Helper()
	r := &floodRig{t: t, clock: fakeclock.New(time.Now()), out: &slowSlack{release: make(chan struct{})},
		obs: &counter{}, logs: &lockedBuffer{}, pool: NewPool(1, 1, time.Minute), forms: slackfake.New()}
	t.Cleanup(r.forms.Close)
	t.Cleanup(func() { _ = r.pool.Close(context.Background()) })
	log := slog.New(slog.NewTextHandler(r.logs, nil))
	r.bot = New(Config{Renewer: newTestRenewer(), Out: r.out, Pool: r.pool, Log: log, Clock: r.clock, Observer: r.obs,
		Workspace: Workspace{TeamID: "T0001", AppID: "A0001"}}) // slackfake's forms
	r.mux = http.NewServeMux()
	Routes(r.mux, r.bot, floodSecret)
	return r
}

// fill occupies the worker and fills both queues until release is closed.
func (r *floodRig) fill() (release func()) {
	hold, started := make(chan struct{}), make(chan struct{})
	r.pool.Submit(func(context.Context) { close(started); <-hold })
	<-started
	if !r.pool.Submit(func(context.Context) { <-hold }) || !r.pool.SubmitUrgent(func(context.Context) { <-hold }) {
		r.t.Fatal("the queues did not take the jobs that fill them")
	}
	return func() { close(hold) }
}

// serve sends one request through the routes and returns the answer.
func (r *floodRig) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	return rec
}

func (r *floodRig) logLines() []string {
	s := strings.TrimSpace(r.logs.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// A flood of clicks and commands while the pool is full and Slack hangs:
// every one is answered at once and counted busy, and the goroutines,
// the answers sent and the log lines stay within a constant.
func TestFloodWhileBusyStaysBounded(t *testing.T) {
	r := newFloodRig(t)
	release := r.fill()
	defer release()
	const n = 1000
	before := runtime.NumGoroutine()
	for i := range n {
		user := fmt.Sprintf("U0FLOOD%04d", i)
		click := slackfake.SignedRequest("http://bot/slack/interactions", floodSecret, r.forms.Click("C0OPS0001", "1.000001", user, "choose", "0123456789abcdef0123:0"))
		if rec := r.serve(click); rec.Code != http.StatusOK {
			t.Fatalf("click %d: %d %s", i, rec.Code, rec.Body)
		}
		cmd := slackfake.SignedRequest("http://bot/slack/commands", floodSecret, r.forms.Command("C0OPS0001", user, "web-front"))
		rec := r.serve(cmd)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "busy") {
			t.Fatalf("command %d: %d %s, want a busy answer", i, rec.Code, rec.Body)
		}
	}
	if grown := runtime.NumGoroutine() - before; grown > 4 {
		t.Errorf("%d more goroutines after %d refused clicks and commands, want a constant (at most 4)", grown, 2*n)
	}
	if got := r.obs.get("busy"); got != 2*n {
		t.Errorf("renewbot_busy_total counted %d, want %d", got, 2*n)
	}
	if got := r.out.ephemerals.Load(); got > 1 {
		t.Errorf("%d answers started while Slack hangs, want 1 at a time", got)
	}
	// One line per reason: clicks answered busy, clicks left without an
	// answer, commands.
	if lines := r.logLines(); len(lines) > 3 {
		t.Errorf("%d log lines for %d refusals, want at most 3, one per reason:\n%s", len(lines), 2*n, r.logs)
	}

	// Slack answers again: the queued answers go, in their turn, and no
	// more than the queue held.
	close(r.out.release)
	waitFor(t, "the answers' queue to drain", func() bool {
		if r.bot.refusals.queued() == 0 {
			return true
		}
		r.clock.Next()
		return false
	})
	if got := r.out.ephemerals.Load(); got < 2 || got > refusalQueue+1 {
		t.Errorf("%d busy answers sent for %d refused clicks, want at most %d (the one sending and the queue)", got, n, refusalQueue+1)
	}
}

// A burst of bad signatures is counted one by one but logged in a line,
// then one line per interval with how many were held back.
func TestBadSignaturesLogAFewLines(t *testing.T) {
	r := newFloodRig(t)
	forged := func() *http.Request {
		return slackfake.SignedRequest("http://bot/slack/commands", "not-the-secret", r.forms.Command("C0OPS0001", "U0EVE0001", "web-front"))
	}
	const n = 500
	for i := range n {
		if rec := r.serve(forged()); rec.Code != http.StatusUnauthorized {
			t.Fatalf("forged request %d: %d, want 401", i, rec.Code)
		}
	}
	if got := r.obs.get("command/unauthorized"); got != n {
		t.Errorf("%d refusals counted, want %d", got, n)
	}
	lines := r.logLines()
	if len(lines) != 1 || !strings.Contains(lines[0], "request refused") || !strings.Contains(lines[0], "reason=unauthorized") {
		t.Fatalf("%d log lines for %d forged requests, want 1 saying why:\n%s", len(lines), n, r.logs)
	}
	// The interval passes: one line tells how many were not logged.
	waitFor(t, "the held-back refusals to wait for the interval", func() bool { return r.clock.Waiting() == 1 })
	r.clock.Advance(refusalLogEvery)
	waitFor(t, "the line of held-back refusals", func() bool { return len(r.logLines()) == 2 })
	if line := r.logLines()[1]; !strings.Contains(line, "unauthorized=499") {
		t.Errorf("the second line does not count the %d held back: %s", n-1, line)
	}
	for range n {
		r.serve(forged())
	}
	if lines := r.logLines(); len(lines) != 2 {
		t.Errorf("a second burst in the same interval wrote %d more lines, want none yet:\n%s", len(lines)-2, r.logs)
	}
}

// countingBody is a request body that counts the bytes read from it.
type countingBody struct {
	left int64
	read atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.left))
	clear(p[:n])
	b.left -= int64(n)
	b.read.Add(int64(n))
	return n, nil
}

// What the headers alone condemn is refused before a byte of the body is
// read; a body announced too large too; and reading stops at the limit.
func TestRefusedBeforeTheBodyIsRead(t *testing.T) {
	r := newFloodRig(t)
	const huge = 4 * MaxBody
	send := func(length int64, headers func(http.Header)) (*httptest.ResponseRecorder, int64) {
		body := &countingBody{left: huge}
		req := httptest.NewRequest(http.MethodPost, "/slack/commands", body)
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		headers(req.Header)
		return r.serve(req), body.read.Load()
	}
	now := r.clock.Now()
	for _, tc := range []struct {
		name    string
		length  int64 // -1: not announced
		headers func(http.Header)
		status  int
		maxRead int64
	}{
		{"no signature headers", -1, func(http.Header) {}, http.StatusUnauthorized, 0},
		{"no signature headers, length announced", huge, func(http.Header) {}, http.StatusUnauthorized, 0},
		{"malformed signature", -1, func(h http.Header) {
			h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
			h.Set("X-Slack-Signature", "v0=not-hex")
		}, http.StatusUnauthorized, 0},
		{"stale timestamp", -1, func(h http.Header) { slackfake.Sign(h, floodSecret, now.Add(-6*time.Minute), "text=x") }, http.StatusUnauthorized, 0},
		{"timestamp from the future", -1, func(h http.Header) { slackfake.Sign(h, floodSecret, now.Add(6*time.Minute), "text=x") }, http.StatusUnauthorized, 0},
		{"announced over the limit", huge, func(h http.Header) { slackfake.Sign(h, floodSecret, now, "text=x") }, http.StatusRequestEntityTooLarge, 0},
		{"over the limit, not announced", -1, func(h http.Header) { slackfake.Sign(h, floodSecret, now, "text=x") }, http.StatusRequestEntityTooLarge, MaxBody + 1},
	} {
		rec, read := send(tc.length, tc.headers)
		if rec.Code != tc.status || read > tc.maxRead {
			t.Errorf("%s: status %d after reading %d bytes, want %d after at most %d", tc.name, rec.Code, read, tc.status, tc.maxRead)
		}
	}
	if got := r.obs.get("command/too_large"); got != 2 {
		t.Errorf("%d too_large counted, want 2", got)
	}
}

// Commands from another workspace where the app is installed are each
// refused, and logged in a line, not one each.
func TestForeignRequestsLogAFewLines(t *testing.T) {
	r := newFloodRig(t)
	const n = 300
	for i := range n {
		form := r.forms.Command("C0OPS0001", "U0EVE0001", "web-front")
		form.Set("team_id", "T0OTHER01")
		rec := r.serve(slackfake.SignedRequest("http://bot/slack/commands", floodSecret, form))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "only acts for members") {
			t.Fatalf("foreign command %d: %d %s, want the refusal", i, rec.Code, rec.Body)
		}
	}
	if lines := r.logLines(); len(lines) != 1 || !strings.Contains(lines[0], "outside the workspace") {
		t.Errorf("%d log lines for %d foreign commands, want 1:\n%s", len(lines), n, r.logs)
	}
}

// A flood of Home tab openings while the queue is full: each gets a 503
// (Slack delivers it again later), and a log line for all of them.
func TestEventsWhileBusyLogAFewLines(t *testing.T) {
	r := newFloodRig(t)
	release := r.fill()
	defer release()
	const n = 300
	for i := range n {
		body := fmt.Sprintf(`{"type":"event_callback","team_id":"T0001","api_app_id":"A0001","event_id":"Ev%06d",`+
			`"event":{"type":"app_home_opened","tab":"home","user":"U0FLOOD%04d"}}`, i, i)
		req := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		slackfake.Sign(req.Header, floodSecret, time.Now(), body)
		if rec := r.serve(req); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("event %d: %d %s, want 503 while the queue is full", i, rec.Code, rec.Body)
		}
	}
	if got := r.obs.get("busy"); got != n {
		t.Errorf("%d busy counted, want %d", got, n)
	}
	if lines := r.logLines(); len(lines) != 1 || !strings.Contains(lines[0], "event refused") {
		t.Errorf("%d log lines for %d refused events, want 1:\n%s", len(lines), n, r.logs)
	}
}

// The sampled log writes the first refusal of each reason at once, then
// one line for every reason held back, once the interval is over.
func TestSampledLogOneLinePerReasonAndInterval(t *testing.T) {
	clock := fakeclock.New(time.Now())
	var buf lockedBuffer
	l := newSampledLog(slog.New(slog.NewTextHandler(&buf, nil)), clock, time.Minute)
	refuse := func(reason string) {
		if l.admit(reason) {
			l.log.Warn("refused", "reason", reason)
		}
	}
	for range 100 {
		refuse("unauthorized")
	}
	for range 101 {
		refuse("busy_click")
	}
	lines := func() []string { return strings.Split(strings.TrimSpace(buf.String()), "\n") }
	if got := lines(); len(got) != 2 || !strings.Contains(got[0], "reason=unauthorized") || !strings.Contains(got[1], "reason=busy_click") {
		t.Fatalf("lines %q, want the first of each reason", got)
	}
	waitFor(t, "the held-back refusals to wait for the interval", func() bool { return clock.Waiting() == 1 })
	clock.Advance(time.Minute)
	waitFor(t, "the line of held-back refusals", func() bool { return len(lines()) == 3 })
	if last := lines()[2]; !strings.Contains(last, "busy_click=100") || !strings.Contains(last, "unauthorized=99") {
		t.Errorf("held back: %s, want busy_click=100 unauthorized=99", last)
	}
}

// Signed commands and clicks the bot cannot read (a script, a stale
// client) are each answered and counted, but logged in a few lines, not
// one each.
func TestMalformedRequestsLogAFewLines(t *testing.T) {
	r := newFloodRig(t)
	close(r.out.release) // Slack answers at once
	const n = 75         // of each kind: 300 requests, no flood yet
	for i := range n {
		user := fmt.Sprintf("U0FLOOD%04d", i)
		for _, req := range []*http.Request{
			slackfake.SignedRequest("http://bot/slack/commands", floodSecret, r.forms.Command("C0OPS0001", user, "list soon")),
			slackfake.SignedRequest("http://bot/slack/interactions", floodSecret, r.forms.Click("C0OPS0001", "1.000001", user, "no_such_button", "x")),
			slackfake.SignedRequest("http://bot/slack/interactions", floodSecret, r.forms.Click("C0OPS0001", "1.000001", user, "approve", "not a value")),
			slackfake.SignedRequest("http://bot/slack/interactions", floodSecret, r.forms.Click("C0OPS0001", "1.000001", user, "home_approve", "0123456789abcdef0123:0")),
		} {
			if rec := r.serve(req); rec.Code != http.StatusOK {
				t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
			}
		}
	}
	if got := r.obs.get("command/ok"); got != n {
		t.Errorf("%d malformed commands counted, want %d", got, n)
	}
	if got := r.obs.get("interaction/ok"); got != 3*n {
		t.Errorf("%d malformed clicks counted, want %d", got, 3*n)
	}
	if lines := r.logLines(); len(lines) > 3 {
		t.Errorf("%d log lines for %d malformed requests, want at most 3:\n%s", len(lines), 4*n, strings.Join(lines[:min(len(lines), 10)], "\n"))
	}
}
