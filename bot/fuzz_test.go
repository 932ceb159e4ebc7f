package bot_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/internal/slackfake"
	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// The interaction handler fuzzed through HTTP, as Slack reaches it: a
// signed form whose payload is anything. Whatever it holds, the answer is
// a 200 or a 400, never a panic or a 5xx, and no money moves unless the
// click names the one stored request from its own channel.

const (
	fuzzSecret  = "fuzz-signing-secret"
	seededID    = "0123456789abcdef0123" // the one stored request, awaiting approval
	seededChan  = "C0SEED001"
	seededOwner = "U0SEED001"
)

// fakeOVH is OVHcloud in memory: one service with one strategy, and a
// count of the calls that spend money.
type fakeOVH struct{ posts atomic.Int64 }

var fuzzService = renew.Service{ID: 10001, Name: "vps-1.example.net", DisplayName: "web-front", RenewMode: "manual",
	Expiration: time.Now().AddDate(0, 1, 0)}

var fuzzStrategy = renew.Strategy{Period: renew.Period{Months: 12}, Services: []int64{10001},
	Price: renew.Money{Ucents: 79_20_000_000, Currency: "EUR"}}

func (o *fakeOVH) ServiceIDs(_ context.Context, name string) ([]int64, error) {
	if name == fuzzService.Name {
		return []int64{fuzzService.ID}, nil
	}
	return nil, nil
}

func (o *fakeOVH) Service(_ context.Context, id int64) (renew.Service, error) {
	if id != fuzzService.ID {
		return renew.Service{}, &renew.APIError{Status: 404, Message: "not found"}
	}
	return fuzzService, nil
}

func (o *fakeOVH) Strategies(context.Context, int64) ([]renew.Strategy, error) {
	return []renew.Strategy{fuzzStrategy}, nil
}

func (o *fakeOVH) CreateOrder(_ context.Context, _ int64, in renew.OrderInput) (renew.Order, error) {
	if !in.DryRun {
		o.posts.Add(1)
	}
	return renew.Order{ID: 42, Expiration: time.Now().Add(24 * time.Hour)}, nil
}

func (o *fakeOVH) OrderStatus(context.Context, int64) (renew.OrderStatus, error) {
	return renew.OrderNotPaid, nil
}

func (o *fakeOVH) DefaultPaymentMethod(context.Context) (int64, error) { return 7, nil }

func (o *fakeOVH) PayOrder(context.Context, int64, int64) error { o.posts.Add(1); return nil }

func (o *fakeOVH) PayWithMean(context.Context, int64, string, int64) error {
	o.posts.Add(1)
	return nil
}

// quietPoster is a Slack that accepts everything and says nothing.
type quietPoster struct{ calls atomic.Int64 }

func (p *quietPoster) Post(context.Context, string, bot.Message) (string, error) {
	p.calls.Add(1)
	return "1.000100", nil
}

func (p *quietPoster) Update(context.Context, string, string, bot.Message) error {
	p.calls.Add(1)
	return nil
}

func (p *quietPoster) Ephemeral(context.Context, bot.Target, bot.Message) error {
	p.calls.Add(1)
	return nil
}

// fuzzWorkspace is the workspace of slackfake's payloads.
var fuzzWorkspace = bot.Workspace{TeamID: "T0001", AppID: "A0001"}

// fuzzEnv is what every fuzz input runs against: one store (a SQLite
// file) with one request awaiting approval, and the fake OVHcloud.
type fuzzEnv struct {
	store *sqlstore.Store
	ovh   *fakeOVH
	out   *quietPoster
	log   *slog.Logger
}

// newFuzzEnv opens a store in f's temporary directory with the seeded
// request. Every fuzz worker runs this once and then its inputs one after
// the other against the same store.
func newFuzzEnv(f *testing.F) *fuzzEnv {
	st, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	now := time.Now()
	chosen := fuzzStrategy
	r := &renew.Request{
		ID: seededID, State: renew.StateAwaitingApproval, Channel: seededChan,
		InitiatedBy: seededOwner, RequestedBy: seededOwner, Service: fuzzService,
		Options: []renew.Strategy{fuzzStrategy}, Chosen: &chosen,
		Order:       &renew.Order{ID: 42, Expiration: now.Add(365 * 24 * time.Hour)},
		OrderStatus: renew.OrderNotPaid, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(365 * 24 * time.Hour),
	}
	if err := st.Create(context.Background(), r, renew.Event{At: now, Actor: seededOwner, Action: "ordered"}); err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{store: st, ovh: &fakeOVH{}, out: &quietPoster{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// serve runs one signed POST through a fresh Bot and waits for the work
// it queued, so its effects can be checked.
func (e *fuzzEnv) serve(t *testing.T, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	rn := &renew.Renewer{OVH: e.ovh, Store: e.store, Policy: &renew.Policy{}, StuckAfter: time.Minute}
	pool := bot.NewPool(2, 64, 5*time.Second)
	b := bot.New(bot.Config{Renewer: rn, Out: e.out, Pool: pool, Log: e.log, Workspace: fuzzWorkspace})
	mux := http.NewServeMux()
	bot.Routes(mux, b, fuzzSecret)
	req := slackfake.SignedRequest("http://bot"+path, fuzzSecret, form)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pool.Close(ctx); err != nil {
		t.Fatalf("the work queued by the request did not finish: %v", err)
	}
	return rec
}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, input string) {
	t.Helper()
	switch rec.Code {
	case http.StatusOK:
		if b := rec.Body.Bytes(); len(b) > 0 && !json.Valid(b) {
			t.Fatalf("input %q: 200 with a body that is not JSON: %q", input, b)
		}
	case http.StatusBadRequest:
	default:
		t.Fatalf("input %q: status %d (%s), want 200 or 400", input, rec.Code, rec.Body)
	}
}

// FuzzInteraction fuzzes the whole payload form value.
func FuzzInteraction(f *testing.F) {
	for _, s := range []string{
		"", "{}", "null", "[]", `"x"`, "{", `{"type":"block_actions"}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":[]}`,
		`{"type":"block_actions","user":{"id":"U1"},"channel":{"id":"C1"},"actions":[{"action_id":"approve","value":"` + seededID + `"}]}`,
		`{"type":"block_actions","user":{"id":"U1"},"container":{"channel_id":"C1","message_ts":"1.0"},"actions":[{"action_id":"choose","value":"` + seededID + `:0"}]}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"choose_select","selected_option":{"value":"` + seededID + `:99"}}]}`,
		`{"type":"view_submission","user":{"id":"U1"},"view":{"callback_id":"cancel_request","private_metadata":"` + seededID + `"}}`,
		`{"type":"view_submission","user":{"id":"U1"},"view":{"callback_id":"cancel_request","private_metadata":"nosuch","state":{"values":{"reason":{"reason_input":{"type":"plain_text_input","value":"x"}}}}}}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"renew_service","value":"10001"}]}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"list_page","value":"30:2"}]}`,
		`{"type":"shortcut","user":{"id":"U1"}}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"approve","value":1}]}`,
	} {
		f.Add(s)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, payload string) {
		before := e.ovh.posts.Load()
		rec := e.serve(t, "/slack/interactions", url.Values{"payload": {payload}})
		checkAnswer(t, rec, payload)
		if e.ovh.posts.Load() != before && !strings.Contains(payload, seededID) {
			t.Fatalf("payload %q names no stored request but reached OVHcloud with a POST", payload)
		}
	})
}

// FuzzInteractionAction fuzzes a well-formed click: its type, action id,
// value, selected option, channels and user.
func FuzzInteractionAction(f *testing.F) {
	add := func(typ, action, value, selected, ch, container, user string) {
		f.Add(typ, action, value, selected, ch, container, user)
	}
	add("block_actions", "approve", seededID, "", "C0ELSE001", "", "U0EVE0001")
	add("block_actions", "cancel", seededID, "", "C0ELSE001", "C0ELSE001", "U0EVE0001")
	add("block_actions", "choose", seededID+":0", "", seededChan, seededChan, "U0EVE0001")
	add("block_actions", "choose_select", "", seededID+":-1", seededChan, "", seededOwner)
	add("block_actions", "approve", "nosuchrequest0000000", "", seededChan, "", "U0EVE0001")
	add("block_actions", "approve", "../../etc/passwd", "", seededChan, "", "U0EVE0001")
	add("block_actions", "frobnicate", seededID, "", seededChan, "", "U0EVE0001")
	add("block_actions", "renew_service", "10001", "", "", "", "U0EVE0001")
	add("block_actions", "renew_service", "-1", "", "", "", "U0EVE0001")
	add("block_actions", "list_page", "30:999999999", "", "", "", "U0EVE0001")
	add("block_actions", "list_page_previous", "x:y", "", "", "", "U0EVE0001")
	add("view_submission", "cancel", seededID, "", seededChan, "", "U0EVE0001")
	add("block_actions", "approve", seededID, "", seededChan, "", "")
	add("block_actions", "", "", "", "", "", "U1")
	add("interactive_message", "approve", seededID+":0:0", "", "\x00", "\xff", "U1")
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, typ, action, value, selected, ch, container, user string) {
		payload := map[string]any{
			"type":       typ,
			"user":       map[string]any{"id": user},
			"channel":    map[string]any{"id": ch},
			"container":  map[string]any{"type": "message", "message_ts": "1.000100", "channel_id": container},
			"trigger_id": "t",
			"actions": []map[string]any{{
				"type": "button", "action_id": action, "block_id": "b", "value": value,
				"selected_option": map[string]any{"value": selected},
			}},
			"view": map[string]any{"callback_id": action, "private_metadata": value},
		}
		raw, err := json.Marshal(payload)
		if err != nil {
			t.Skip()
		}
		before := e.ovh.posts.Load()
		rec := e.serve(t, "/slack/interactions", url.Values{"payload": {string(raw)}})
		checkAnswer(t, rec, string(raw))
		if e.ovh.posts.Load() == before {
			return
		}
		// Money moved: only a click on the stored request, from its own
		// channel, may do that.
		names := strings.HasPrefix(value, seededID) || strings.HasPrefix(selected, seededID)
		where := ch
		if where == "" {
			where = container
		}
		if !names || (where != seededChan && where != "") {
			t.Fatalf("%s %q (selected %q) from channel %q reached OVHcloud with a POST", action, value, selected, where)
		}
	})
}

// FuzzSignature: a request whose signature headers and body are anything
// is refused with a 401 before it is read, and does nothing.
func FuzzSignature(f *testing.F) {
	f.Add("payload=%7B%7D", "1764147600", "v0=00")
	f.Add("text=web-front&user_id=U1&channel_id=C1", "", "")
	f.Add("", "0", "v0=")
	f.Add("a=b", "-1", "v1=abc")
	f.Add("a=b", "99999999999999999999", "v0="+strings.Repeat("f", 64))
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body, ts, sig string) {
		rn := &renew.Renewer{OVH: e.ovh, Store: e.store, Policy: &renew.Policy{}}
		pool := bot.NewPool(1, 4, time.Second)
		defer pool.Close(context.Background())
		b := bot.New(bot.Config{Renewer: rn, Out: e.out, Pool: pool, Log: e.log, Workspace: fuzzWorkspace})
		mux := http.NewServeMux()
		bot.Routes(mux, b, fuzzSecret)
		calls := e.out.calls.Load() + e.ovh.posts.Load()
		for _, path := range []string{"/slack/interactions", "/slack/commands"} {
			send := func(what string, sign func(http.Header)) {
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				sign(req.Header)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("%s %s (body %q, ts %q, sig %q): status %d, want 401", path, what, body, ts, sig, rec.Code)
				}
			}
			send("random headers", func(h http.Header) {
				h.Set("X-Slack-Request-Timestamp", ts)
				h.Set("X-Slack-Signature", sig)
			})
			send("another secret", func(h http.Header) { slackfake.Sign(h, "not-"+fuzzSecret, time.Now(), body) })
			send("stale", func(h http.Header) { slackfake.Sign(h, fuzzSecret, time.Now().Add(-6*time.Minute), body) })
			send("another body", func(h http.Header) { slackfake.Sign(h, fuzzSecret, time.Now(), body+"&x=1") })
		}
		if e.out.calls.Load()+e.ovh.posts.Load() != calls {
			t.Fatal("an unverified request made the bot act")
		}
	})
}
