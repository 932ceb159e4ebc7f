package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/pgtest"
	"github.com/renewbot/renewbot/internal/slackfake"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetrics(t *testing.T) {
	// Requests by state are counted in the background every sweep.
	h := newHarness(t, map[string]string{"RENEWBOT_SWEEP_EVERY": "100ms"})
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	h.post("/slack/commands", h.slack.Command(channel, alice, "help"))
	var body string
	h.eventually("the paid request counted", func() bool {
		var status int
		status, body = get(t, h.admin+"/metrics")
		return status == http.StatusOK && strings.Contains(body, `renewbot_requests{state="paid"} 1`)
	})
	for _, want := range []string{
		`renewbot_slack_requests_total{kind="command",outcome="ok"} 2`,
		`renewbot_slack_requests_total{kind="interaction",outcome="ok"} 2`,
		`renewbot_slack_ack_seconds_count{kind="command"} 2`,
		`renewbot_ovh_calls_total{method="POST",route="/service/{id}/renew",status="200"} 1`,
		`renewbot_ovh_calls_total{method="POST",route="/me/order/{id}/pay",status="200"} 1`,
		`renewbot_ovh_call_seconds_count{method="GET",route="/services/{id}"}`,
		`renewbot_requests{state="paid"} 1`,
		`renewbot_payments_total{currency="EUR"} 1`,
		`renewbot_payments_amount_total{currency="EUR"} 95.04`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	status, body := get(t, h.admin+"/readyz")
	if status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", status, body)
	}
}

// Health, readiness and metrics (payment totals, database errors) answer
// on RENEWBOT_ADMIN_ADDR only; Slack's address serves Slack's routes
// only, so exposing it to the internet exposes nothing else.
func TestAdminRoutesOnlyOnTheAdminAddress(t *testing.T) {
	h := newHarness(t, nil)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if status, _ := get(t, h.admin+path); status != http.StatusOK {
			t.Errorf("GET %s on the admin address: %d, want 200", path, status)
		}
		if status, body := get(t, h.base+path); status != http.StatusNotFound {
			t.Errorf("GET %s on Slack's address: %d %q, want 404", path, status, body)
		}
	}
	resp, err := http.DefaultClient.Do(slackfake.SignedRequest(h.admin+"/slack/commands", secret, h.slack.Command(channel, alice, "help")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a Slack command on the admin address: %s, want 404", resp.Status)
	}
	if status, body := h.post("/slack/commands", h.slack.Command(channel, alice, "help")); status != http.StatusOK || !strings.Contains(body, "renew") {
		t.Errorf("a Slack command on Slack's address: %d %q", status, body)
	}
	// renewbot healthcheck probes the admin address: pointed at Slack's,
	// it finds no /healthz.
	t.Setenv("RENEWBOT_ADMIN_ADDR", strings.TrimPrefix(h.base, "http://"))
	if err := run(context.Background(), []string{"healthcheck"}, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck found /healthz on Slack's address")
	}
}

// Tokens, the signing secret, OVHcloud keys and order passwords never
// reach a log line, even at debug level, even when things fail.
func TestSecretsStayOutOfTheLogs(t *testing.T) {
	h := newHarness(t, map[string]string{"LOG_FORMAT": "json", "LOG_LEVEL": "debug", "RENEWBOT_STUCK_AFTER": settleAfter.String()})
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 403, Message: "This order can't be paid with paypal", Times: 1})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.click(bob, m.TS, "approve", approve.Value)
	h.ephemeral(bob, "paypal")
	m = h.settleRefusal(1, m.TS, approve.Value, bob)
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	h.post("/slack/commands", h.slack.Command(channel, alice, "web-front"))
	h.stop()
	logs := h.logs.String()
	secrets := []string{h.env["SLACK_BOT_TOKEN"], secret, h.env["OVH_APPLICATION_KEY"], h.env["OVH_APPLICATION_SECRET"], h.env["OVH_CONSUMER_KEY"]}
	for _, o := range h.ovh.Orders() {
		secrets = append(secrets, o.Password, "orderPassword")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the logs contain the secret %q", s)
		}
	}
	if !strings.Contains(logs, `"request"`) || !strings.Contains(logs, `"user":"U0BOB0001"`) ||
		!strings.Contains(logs, `"order":123456789`) || !strings.Contains(logs, `"service":"vps-1.example.net"`) {
		t.Errorf("log lines do not carry the request, the user, the service and the order:\n%s", logs)
	}
}

func TestDryRun(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_DRY_RUN": "true"})
	h.command(alice, "web-front")
	m := h.message(1, "Dry run")
	h.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	m = h.message(1, "95.04")
	if hasAction(m, "approve") {
		t.Fatal("a dry run offers to pay")
	}
	calls := h.ovh.CallsTo("POST", "/service/*/renew")
	if len(calls) != 1 || !strings.Contains(body(calls[0]), `"dryRun":true`) {
		t.Fatalf("renew calls = %v, want one with dryRun true", calls)
	}
	// Even a forged approve click pays nothing.
	h.click(bob, m.TS, "approve", h.find(m, "cancel", "").Value)
	h.ephemeral(bob, "dry-run")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls in dry-run mode", n)
	}
}

// SIGTERM while a payment is in flight: the payment completes and the
// message says so before the process exits.
func TestShutdownFinishesAPaymentInFlight(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Delay: 1500 * time.Millisecond})
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.eventually("the pay call in flight", func() bool { return h.payCalls() == 1 })
	h.stop()
	if c := h.ovh.CallsTo("POST", "/me/order/*/pay"); len(c) != 1 || c[0].Status != http.StatusOK {
		t.Fatalf("pay call = %+v, want one answered 200", c)
	}
	if !strings.Contains(blockText(h.message(1).Raw), "Paid") {
		t.Fatalf("after shutdown the message says:\n%s", blockText(h.message(1).Raw))
	}
}

func TestCheck(t *testing.T) {
	h := newHarness(t, nil)
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err != nil {
		t.Fatalf("check failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"[ok  ] Slack auth.test", "[ok  ] OVHcloud access rules", "[ok  ] default payment method: 42", "[ok  ] database"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	var rules []ovhfake.Rule
	for _, r := range ovhfake.NeededRules() {
		if r.Path != "/me/order/*/pay" {
			rules = append(rules, r)
		}
	}
	h.ovh.SetCredential(ovhfake.Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: rules})
	out.Reset()
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed with a missing access rule:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[FAIL] OVHcloud access rule: POST /me/order/*/pay is not granted") {
		t.Errorf("check does not name the missing rule:\n%s", out.String())
	}
}

// createDatabase creates and migrates the harness's database, as the
// bot does when it starts: check and remind --dry-run create none.
func (h *harness) createDatabase() {
	h.t.Helper()
	st, err := sqlstore.Open(context.Background(), h.env["RENEWBOT_DATABASE_URL"])
	if err != nil {
		h.t.Fatal(err)
	}
	st.Close()
}

// check opens the database as it is: a SQLite file that is not there
// fails and is not created, and migrations not applied yet are said and
// left to the bot.
func TestCheckCreatesAndMigratesNothing(t *testing.T) {
	h := newFakes(t)
	for k, v := range h.env {
		t.Setenv(k, v)
	}
	path := strings.TrimPrefix(h.env["RENEWBOT_DATABASE_URL"], "sqlite:")
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed with no database:\n%s", out.String())
	}
	if want := "[FAIL] database: no database at " + path + ": start the bot once to create it\n"; !strings.Contains(out.String(), want) {
		t.Errorf("check output lacks %q:\n%s", want, out.String())
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("check created %s: %v", path, err)
	}

	// A database one migration behind this binary.
	st, err := sqlstore.Open(context.Background(), h.env["RENEWBOT_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	pending := func() []int {
		p, err := st.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)")
	db.Close()
	if err != nil || len(pending()) != 1 {
		t.Fatalf("forget the last migration: %v, pending %v", err, pending())
	}
	last := fmt.Sprintf("%04d", pending()[0])
	st.Close()
	out.Reset()
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"[ok  ] database\n", "[info] database: migration " + last + " not applied yet: the bot applies it when it starts\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	if st, err = sqlstore.Open(context.Background(), h.env["RENEWBOT_DATABASE_URL"], sqlstore.NoMigrate()); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p := pending(); len(p) != 1 {
		t.Fatalf("after check, pending %v: check migrated", p)
	}
}

// An answer from Slack larger than 4 MiB is an error, not read whole: here
// a valid auth.test answer of 10 MiB.
func TestSlackAnswersAreBounded(t *testing.T) {
	h := newFakes(t)
	h.createDatabase()
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"url":"https://example.slack.com/","team":"Example","user":"renewbot","team_id":"T0EXAMPLE","user_id":"U0RENEWBOT","pad":"%s"}`, strings.Repeat("x", 10<<20))
	}))
	defer huge.Close()
	h.env["SLACK_API_URL"] = huge.URL + "/api/"
	for k, v := range h.env {
		t.Setenv(k, v)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed on a 10 MiB answer:\n%s", out.String())
	}
	if want := "[FAIL] Slack auth.test: Slack's answer is larger than 4 MiB\n"; !strings.Contains(out.String(), want) {
		t.Errorf("check output lacks %q:\n%s", want, out.String())
	}
	err := run(context.Background(), nil, io.Discard, io.Discard)
	if want := "Slack auth.test failed, so the bot can't tell which workspace it serves: Slack's answer is larger than 4 MiB"; err == nil || err.Error() != want {
		t.Errorf("run = %v, want %q", err, want)
	}
}

// A Slack that cannot be reached is said so, with the URL tried, in one
// line.
func TestCheckSaysSlackCannotBeReached(t *testing.T) {
	newHarness(t, nil)
	closed := freeAddr(t) // nothing listens there
	t.Setenv("SLACK_API_URL", "http://"+closed+"/api/")
	var out strings.Builder
	err := run(context.Background(), []string{"check"}, &out, io.Discard)
	if err == nil || err.Error() != "1 check failed" {
		t.Errorf("check = %v, want 1 check failed", err)
	}
	want := "[FAIL] Slack auth.test: cannot reach Slack at http://" + closed + "/api/ (SLACK_API_URL): connection refused\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("check output lacks %q:\n%s", want, out.String())
	}
}

// A bot that cannot reach Slack at start says where from, without
// blaming the token, and leaves no database behind; a token Slack refuses
// is named.
func TestStartWithoutSlack(t *testing.T) {
	h := newFakes(t)
	closed := freeAddr(t) // nothing listens there
	h.env["SLACK_API_URL"] = "http://" + closed + "/api/"
	for k, v := range h.env {
		t.Setenv(k, v)
	}
	path := strings.TrimPrefix(h.env["RENEWBOT_DATABASE_URL"], "sqlite:")
	err := run(context.Background(), nil, io.Discard, io.Discard)
	if want := "cannot reach Slack at http://" + closed + "/api/ (SLACK_API_URL): connection refused"; err == nil || err.Error() != want {
		t.Errorf("run = %v, want %q", err, want)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a start that failed to reach Slack created %s: %v", path, err)
	}
	t.Setenv("SLACK_API_URL", h.slack.APIURL())
	h.slack.Revoke(h.env["SLACK_BOT_TOKEN"])
	err = run(context.Background(), nil, io.Discard, io.Discard)
	if want := "Slack refused SLACK_BOT_TOKEN: token_revoked"; err == nil || err.Error() != want {
		t.Errorf("run with a revoked token = %v, want %q", err, want)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	fakeSlack := slackfake.New() // the database is opened once Slack answered
	defer fakeSlack.Close()
	for env, want := range map[string]string{
		"RENEWBOT_APPROVALS=two":           "RENEWBOT_APPROVALS: expected a whole number",
		"RENEWBOT_MAX_AMOUNT=lots":         "RENEWBOT_MAX_AMOUNT:",
		"RENEWBOT_APPROVERS=bob":           `RENEWBOT_APPROVERS: "bob" is not a user id (U…, W…) or a user group id (S…) like U0123ABCD`,
		"RENEWBOT_REMINDER_CHANNEL=C1":     `RENEWBOT_REMINDER_CHANNEL: "C1" is not a channel id like C0123ABCD (C… or G…)`,
		"RENEWBOT_CHANNELS=C0123ABCD,#ops": `RENEWBOT_CHANNELS: "#ops" is not a channel id like C0123ABCD (C…, G… or D…)`,
		"RENEWBOT_DATABASE_URL=sqlite:/nonexistent-renewbot-dir/renewbot.db": "RENEWBOT_DATABASE_URL: cannot open the SQLite file /nonexistent-renewbot-dir/renewbot.db: " +
			"its directory /nonexistent-renewbot-dir does not exist",
		"RENEWBOT_DATABASE_URL=postgres://renewbot:s3cret@127.0.0.1:1/team": "RENEWBOT_DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:1 (user renewbot, database team): connection refused",
		"RENEWBOT_REQUEST_TTL=forever":                                      "RENEWBOT_REQUEST_TTL: expected a duration",
		"RENEWBOT_PAYMENT=cash":                                             "RENEWBOT_PAYMENT:",
		"RENEWBOT_DATABASE_URL=mysql://x":                                   "RENEWBOT_DATABASE_URL:",
		"SLACK_BOT_TOKEN=":                                                  "SLACK_BOT_TOKEN: required",
		"OVH_APPLICATION_SECRET=":                                           "OVH_APPLICATION_SECRET",
		"RENEWBOT_REMINDER_AT=9 o'clock":                                    "RENEWBOT_REMINDER_AT:",
		"RENEWBOT_ADMIN_ADDR=127.0.0.1:0":                                   "RENEWBOT_ADMIN_ADDR: expected another address than RENEWBOT_ADDR",
	} {
		t.Run(env, func(t *testing.T) {
			base := map[string]string{
				"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "OVH_ENDPOINT": "ovh-eu",
				"OVH_APPLICATION_KEY": "k", "OVH_APPLICATION_SECRET": "s", "OVH_CONSUMER_KEY": "c",
				"RENEWBOT_DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db", "RENEWBOT_ADDR": "127.0.0.1:0",
				"SLACK_API_URL": fakeSlack.APIURL(),
			}
			k, v, _ := strings.Cut(env, "=")
			base[k] = v
			for k, v := range base {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("run = %v; want one line with %q", err, want)
			}
		})
	}
}

// postgresURL returns the URL of a fresh schema, dropped when the test ends
// (see internal/pgtest).
func postgresURL(t *testing.T) string { t.Helper(); return pgtest.URL(t) }

// Two replicas on one PostgreSQL behave as one bot.
func TestTwoReplicas(t *testing.T) {
	url := postgresURL(t)
	// A lease of 5 × 1 s: long enough that a holder slowed down by the
	// race detector on a busy machine still renews it in time.
	h := newHarness(t, map[string]string{"RENEWBOT_DATABASE_URL": url, "RENEWBOT_SWEEP_EVERY": "1s", "RENEWBOT_APPROVALS": "2"})
	second := *h
	second.env = map[string]string{}
	for k, v := range h.env {
		second.env[k] = v
	}
	addr, admin := freeAddr(t), freeAddr(t)
	second.env["RENEWBOT_ADDR"], second.env["RENEWBOT_ADMIN_ADDR"] = addr, admin
	second.base, second.admin = "http://"+addr, "http://"+admin
	second.logs = &syncBuffer{}
	second.start()
	t.Cleanup(second.stop)

	// Propose on one, choose on the other.
	h.command(alice, "web-front")
	m := h.message(1, "Choose")
	second.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	m = h.message(1, "Approve and pay")
	approve := h.find(m, "approve", "")

	start := time.Now()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := h
			if i%2 == 1 {
				target = &second
			}
			target.post("/slack/interactions", h.slack.Click(channel, m.TS, []string{bob, carol, dave, eve}[i%4], "approve", approve.Value))
		}()
	}
	wg.Wait()
	h.message(1, "Paid")
	t.Logf("40 approvals split across two replicas: paid in %v", time.Since(start))
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls from two replicas, want exactly 1", n)
	}

	// Background work runs on one replica and moves to the other when it
	// stops: at its next sweep, since a replica that stops releases it.
	holder, other := h, &second
	if !strings.Contains(h.logs.String(), "took the lease") {
		holder, other = &second, h
	}
	if strings.Contains(other.logs.String(), "took the lease") {
		t.Fatal("both replicas hold the background lease")
	}
	holder.stop()
	stopped := time.Now()
	other.eventually("the other replica to take the background lease", func() bool {
		return strings.Contains(other.logs.String(), "took the lease")
	})
	t.Logf("background lease moved %v after its holder stopped (sweeps every 1 s)", time.Since(stopped).Round(10*time.Millisecond))
}

// A bot restarted in dry-run mode pays nothing, even for an order created
// before, even from a stale message.
func TestDryRunSwitchPaysNothing(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.env["RENEWBOT_DRY_RUN"] = "true"
	h.restart()
	h.click(bob, m.TS, "approve", approve.Value)
	h.ephemeral(bob, "dry-run")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls from a bot in dry-run mode", n)
	}
}

// Slack so slow that a message update outlasts the time the reconciler
// gives a payment. No Slack call sits between claiming a payment and the
// pay call, so the click pays at once, before any update; the reconciler
// never takes over a payment in flight, and nothing is paid twice.
func TestSlowSlackNeverLetsTheReconcilerPayTwice(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_STUCK_AFTER": "1s", "RENEWBOT_SWEEP_EVERY": "100ms"})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.slack.Slow("chat.update", 1500*time.Millisecond, 2)
	h.click(bob, m.TS, "approve", approve.Value)
	h.message(1, "Paid", bob)
	// Well past the reconciler's delay, and clicks from others.
	time.Sleep(1500 * time.Millisecond)
	h.click(carol, m.TS, "approve", approve.Value)
	h.ephemeral(carol, "already paid")
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls, want exactly 1", n)
	}
	// Had a Slack call come before the pay call, the click would have
	// given up at ¾ of the 1 s (each update takes 1.5 s) and paid nothing.
}

// Each listener serves a bounded number of connections at once: slow
// clients sending half a header past the limit wait in the kernel's
// backlog and cost the bot no goroutine. Headers past 16 KiB get 431.
func TestConnectionsAndHeadersAreBounded(t *testing.T) {
	const limit, more = 4, 40
	h := newFakes(t)
	h.maxConns = limit
	h.start()
	t.Cleanup(h.stop)

	var conns []net.Conn
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	defer closeAll()
	for range limit + more {
		c, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "POST /slack/commands HTTP/1.1\r\nHost: renewbot\r\nX-Slow: "+strings.Repeat("a", 1000)); err != nil {
			t.Fatal(err)
		}
	}
	// The bot takes limit of them; give it every chance to take more.
	h.eventually("the bot reading the first requests", func() bool { return readingRequests() >= limit })
	for range 50 {
		// The fakes may be reading a request of the bot's too.
		if n := readingRequests(); n > limit+2 {
			t.Fatalf("%d requests read at once of %d half-sent ones, want at most %d", n, limit+more, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	closeAll()

	for _, u := range []string{h.base + "/slack/commands", h.admin + "/healthz"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Pad", strings.Repeat("a", 32<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s with a 32 KiB header: %s, want 431", u, resp.Status)
		}
	}
	// Freed slots serve again.
	if status, _ := get(t, h.admin+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz after the flood: %d", status)
	}
}

// readingRequests counts the goroutines of this process reading a
// request's header, one per connection net/http accepted and read
// nothing complete from yet (an idle keep-alive connection waits
// elsewhere).
func readingRequests() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "net/http.(*conn).readRequest(")
		}
		buf = make([]byte, 2*len(buf))
	}
}
