package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// The end-to-end tests run the whole program (run) against a fake Slack
// and a fake OVHcloud, and talk to it only through HTTP, signed like Slack.

const (
	secret  = "e2e-signing-secret-0123456789abcdef"
	channel = "C0OPS0001"
	alice   = "U0ALICE01"
	bob     = "U0BOB0001"
	carol   = "U0CAROL01"
	eve     = "U0EVE0001"
)

type harness struct {
	t     *testing.T
	slack *slackfake.Server
	ovh   *ovhfake.Server
	base  string // Slack's routes (RENEWBOT_ADDR)
	admin string // health, readiness, metrics (RENEWBOT_ADMIN_ADDR)
	env   map[string]string
	logs  *syncBuffer
	// clock is the bot's own clock (time.Now when nil): replicas can be
	// made to disagree.
	clock func() time.Time
	// maxConns bounds each listener's connections (the default when 0).
	maxConns int

	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newHarness starts the fakes and the bot. env overrides the defaults.
func newHarness(t *testing.T, env map[string]string) *harness {
	t.Helper()
	h := newFakes(t)
	for k, v := range env {
		h.env[k] = v
	}
	if h.env["SLACK_APP_TOKEN"] != "" {
		h.slack.SocketMode() // before the bot connects
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

// newFakes starts a fake Slack and a fake OVHcloud and returns a harness
// whose environment points a bot at them, on a free port and a fresh
// SQLite file, with the admin routes on another free port. Nothing runs
// the bot yet.
func newFakes(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, slack: slackfake.New(), ovh: ovhfake.SampleAccount(time.Now()), logs: &syncBuffer{}}
	t.Cleanup(h.slack.Close)
	// The team invited the bot to its channel (/invite @renewbot): Slack
	// refuses its messages anywhere else (not_in_channel).
	h.slack.Join(channel)
	h.slack.SetMembers(channel, alice, bob, carol, dave, eve)
	t.Cleanup(func() {
		// Whatever the test did, the bot never sent Slack blocks it refuses.
		for _, r := range h.slack.Refusals() {
			t.Errorf("Slack refused the bot's %s: %s %v", r.Method, r.Error, r.Messages)
		}
	})
	ovhURL := h.ovh.Start()
	t.Cleanup(h.ovh.Close)
	addr, admin := freeAddr(t), freeAddr(t)
	h.base, h.admin = "http://"+addr, "http://"+admin
	h.env = map[string]string{
		"SLACK_BOT_TOKEN":        "xoxb-e2e-token",
		"SLACK_SIGNING_SECRET":   secret,
		"SLACK_API_URL":          h.slack.APIURL(),
		"OVH_ENDPOINT":           ovhURL,
		"OVH_APPLICATION_KEY":    "e2e-app-key",
		"OVH_APPLICATION_SECRET": "e2e-app-secret",
		"OVH_CONSUMER_KEY":       "e2e-consumer-key",
		"RENEWBOT_ADDR":          addr,
		"RENEWBOT_ADMIN_ADDR":    admin,
		"RENEWBOT_DATABASE_URL":  "sqlite:" + filepath.Join(t.TempDir(), "renewbot.db"),
		"LOG_LEVEL":              "debug",
	}
	return h
}

// start runs the program with the harness's environment and waits until
// it answers /healthz on its admin address.
func (h *harness) start() {
	h.t.Helper()
	for k, v := range h.env {
		h.t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	d := deps{now: h.clock, limits: &testLimits, maxConns: h.maxConns}
	if d.now == nil {
		d.now = time.Now
	}
	go func() { h.done <- runWith(ctx, d, nil, io.Discard, h.logs) }()
	h.waitHealthy(10*time.Second, func() string {
		select {
		case err := <-h.done:
			return fmt.Sprintf("renewbot stopped at start: %v", err)
		default:
			return ""
		}
	})
}

// waitHealthy polls the admin address's /healthz until it answers 200,
// failing the test after timeout or as soon as died reports why the bot
// is gone.
func (h *harness) waitHealthy(timeout time.Duration, died func() string) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(h.admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if why := died(); why != "" {
			h.t.Fatalf("%s\n%s", why, h.logs)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("renewbot did not start\n%s", h.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop shuts the program down as SIGTERM would.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("renewbot stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Error("renewbot did not stop within 30s")
	}
	h.cancel = nil
}

func (h *harness) restart() {
	h.stop()
	h.start()
}

// post sends a signed form to the bot.
func (h *harness) post(path string, form url.Values) (int, string) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(slackfake.SignedRequest(h.base+path, secret, form))
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// command types /renew text as user and returns the ack's text.
func (h *harness) command(user, text string) string {
	h.t.Helper()
	status, body := h.post("/slack/commands", h.slack.Command(channel, user, text))
	if status != http.StatusOK {
		h.t.Fatalf("/renew %s: status %d: %s", text, status, body)
	}
	var reply struct {
		Text string `json:"text"`
	}
	if body != "" {
		_ = json.Unmarshal([]byte(body), &reply)
	}
	return reply.Text
}

// click presses a button of the message ts as user.
func (h *harness) click(user, ts, actionID, value string) {
	h.t.Helper()
	status, body := h.post("/slack/interactions", h.slack.Click(channel, ts, user, actionID, value))
	if status != http.StatusOK {
		h.t.Fatalf("click %s: status %d: %s", actionID, status, body)
	}
}

// eventually polls cond until it holds or 20 s pass.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s\nlogs:\n%s", what, h.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// message waits for the channel's n-th message (1-based) to contain every
// one of want, and returns it.
func (h *harness) message(n int, want ...string) slackfake.Message {
	h.t.Helper()
	var m slackfake.Message
	h.eventually(fmt.Sprintf("message %d with %q", n, want), func() bool {
		ms := h.slack.Messages(channel)
		if len(ms) < n {
			return false
		}
		m = ms[n-1]
		txt := blockText(m.Raw)
		for _, w := range want {
			if !strings.Contains(txt, w) {
				return false
			}
		}
		return true
	})
	return m
}

// ephemeral waits for an ephemeral answer to user containing want.
func (h *harness) ephemeral(user, want string) slackfake.Response {
	h.t.Helper()
	var got slackfake.Response
	h.eventually(fmt.Sprintf("an ephemeral answer to %s with %q", user, want), func() bool {
		for _, r := range h.slack.Responses(user) {
			if strings.Contains(r.Text+blockText(r.Raw), want) {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// blockText gathers every text of a Block Kit JSON document.
func blockText(raw string) string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for k, c := range x {
				if k != "text" || !isString(c) {
					walk(c)
				}
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return b.String()
}

func isString(v any) bool { _, ok := v.(string); return ok }

// element is an interactive element of a message.
type element struct {
	ActionID string
	Value    string
	Text     string // the button's text
	Context  string // text of the section it belongs to, and the period heading above it
	Confirm  string // the confirm dialog's text, if any
	Options  []string
}

// elements lists the interactive elements of a message, in order.
func elements(raw string) []element {
	var blocks []map[string]any
	_ = json.Unmarshal([]byte(raw), &blocks)
	var out []element
	heading := ""
	str := func(m map[string]any, keys ...string) string {
		var cur any = m
		for _, k := range keys {
			mm, ok := cur.(map[string]any)
			if !ok {
				return ""
			}
			cur = mm[k]
		}
		s, _ := cur.(string)
		return s
	}
	add := func(e map[string]any, ctx string) {
		el := element{ActionID: str(e, "action_id"), Value: str(e, "value"), Text: str(e, "text", "text"),
			Context: heading + "\n" + ctx, Confirm: str(e, "confirm", "text", "text")}
		if opts, ok := e["options"].([]any); ok {
			for _, o := range opts {
				el.Options = append(el.Options, str(o.(map[string]any), "value"))
			}
		}
		if groups, ok := e["option_groups"].([]any); ok {
			for _, g := range groups {
				for _, o := range g.(map[string]any)["options"].([]any) {
					el.Options = append(el.Options, str(o.(map[string]any), "value"))
				}
			}
		}
		out = append(out, el)
	}
	for _, b := range blocks {
		text := str(b, "text", "text")
		switch b["type"] {
		case "section":
			if acc, ok := b["accessory"].(map[string]any); ok {
				add(acc, text)
			} else if strings.HasPrefix(text, "*Renew for") {
				heading = text
			}
		case "actions":
			for _, e := range b["elements"].([]any) {
				add(e.(map[string]any), "")
			}
		}
	}
	return out
}

// find returns the element with actionID whose context contains want.
func (h *harness) find(m slackfake.Message, actionID, want string) element {
	h.t.Helper()
	for _, e := range elements(m.Raw) {
		if e.ActionID == actionID && strings.Contains(e.Context+"\n"+e.Text, want) {
			return e
		}
	}
	h.t.Fatalf("no %s element about %q in message:\n%s", actionID, want, blockText(m.Raw))
	return element{}
}

func hasAction(m slackfake.Message, actionID string) bool {
	for _, e := range elements(m.Raw) {
		if e.ActionID == actionID {
			return true
		}
	}
	return false
}

// workCalls are the Slack calls the bot made for requests it served: all
// but auth.test and bots.info, which tell it at start which workspace it
// serves.
func (h *harness) workCalls() []slackfake.Call {
	var out []slackfake.Call
	for _, c := range h.slack.Calls("") {
		if c.Method != "auth.test" && c.Method != "bots.info" {
			out = append(out, c)
		}
	}
	return out
}

// testLimits are Slack's rate limits (bot.SlackLimits) ten times faster:
// the bot still paces what it sends on its own, as in production, but a
// test does not wait seconds for its thread replies at shutdown. Pacing
// itself is tested on a manual clock in package bot.
var testLimits = func() bot.Limits {
	l := bot.Limits{Methods: map[string]bot.Limit{}, Channel: bot.SlackLimits.Channel}
	for m, lim := range bot.SlackLimits.Methods {
		lim.Every /= 10
		l.Methods[m] = lim
	}
	l.Channel.Every /= 10
	return l
}()
