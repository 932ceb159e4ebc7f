package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

// session is `renewbot console` run by run() with a pipe for its stdin,
// as `printf … | renewbot console` would.
type session struct {
	t    *testing.T
	in   *os.File
	out  *syncBuffer
	logs *syncBuffer
	done chan error
	seen int  // output already returned by a step
	over bool // run returned
}

// startConsole runs the console with env set over a clean environment,
// and waits for its first prompt.
func startConsole(t *testing.T, env map[string]string) *session {
	t.Helper()
	for _, k := range []string{"OVH_ENDPOINT", "RENEWBOT_DATABASE_URL", "RENEWBOT_CHANNELS", "RENEWBOT_APPROVERS",
		"RENEWBOT_REQUESTERS", "RENEWBOT_SELF_APPROVAL", "RENEWBOT_DRY_RUN", "RENEWBOT_AUDIT_CHANNEL", "LOG_LEVEL"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin := os.Stdin
	os.Stdin = r // run hands os.Stdin to the console
	s := &session{t: t, in: w, out: &syncBuffer{}, logs: &syncBuffer{}, done: make(chan error, 1)}
	go func() { s.done <- run(context.Background(), []string{"console"}, s.out, s.logs) }()
	t.Cleanup(func() {
		s.quit()
		os.Stdin = stdin
		r.Close()
	})
	s.wait("the first prompt")
	return s
}

// wait waits for the console to prompt again, with every one of want
// in what it printed since the last step, and returns that.
func (s *session) wait(what string, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		all := s.out.String()
		got := all[s.seen:]
		ok := strings.HasSuffix(got, "> ")
		for _, w := range want {
			ok = ok && strings.Contains(got, w)
		}
		if ok {
			s.seen = len(all)
			return got
		}
		select {
		case err := <-s.done:
			s.over = true
			s.t.Fatalf("the console stopped (%v) waiting for %s; it printed:\n%s\nlogs:\n%s", err, what, got, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s with %q; the console printed:\n%s\nlogs:\n%s", what, want, got, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// step types line and returns what the console printed until its next
// prompt, once that holds every one of want.
func (s *session) step(line string, want ...string) string {
	s.t.Helper()
	if _, err := fmt.Fprintln(s.in, line); err != nil {
		s.t.Fatal(err)
	}
	return s.wait(fmt.Sprintf("the answer to %q", line), want...)
}

// quit closes stdin, as Ctrl-D does, and waits for the console to end.
func (s *session) quit() {
	if s.in == nil {
		return
	}
	s.in.Close()
	s.in = nil
	if s.over {
		return
	}
	s.over = true
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("console: %v\nlogs:\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		s.t.Error("the console did not stop within 30s of the end of its input")
	}
}

// button finds the number of the first button labelled label printed
// after the text after in out.
func button(t *testing.T, out, after, label string) string {
	t.Helper()
	i := strings.Index(out, after)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", after, out)
	}
	m := regexp.MustCompile(`\[(\d+)\] ` + regexp.QuoteMeta(label)).FindStringSubmatch(out[i:])
	if m == nil {
		t.Fatalf("no [N] %s after %q in:\n%s", label, after, out)
	}
	return m[1]
}

// The walk through, on the sandbox with no configuration: list,
// renew, choose, a refused self-approval, another user, approve, paid.
func TestConsoleSandboxFlow(t *testing.T) {
	s := startConsole(t, nil)
	banner := s.out.String()
	for _, want := range []string{"sandbox", "nothing is ordered or paid for real", "temporary SQLite", "/renew web-front", "as bob", "@alice"} {
		if !strings.Contains(strings.ToLower(banner), strings.ToLower(want)) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	out := s.step("/renew list", "web-front", "storage-1")
	if !strings.Contains(out, "Sandbox") {
		t.Errorf("the list does not say sandbox:\n%s", out)
	}
	if strings.Contains(out, "channel>") {
		t.Errorf("the sandbox shows a test fixture to a newcomer:\n%s", out)
	}

	out = s.step("/renew web-front", "web-front", "vps-1.example.net", "1 year", "79.20", "Choose")
	if !strings.Contains(out, "only visible to @alice") {
		t.Errorf("the command's ack is not shown as ephemeral:\n%s", out)
	}
	if !strings.Contains(out, "Sandbox: OVHcloud is simulated") {
		t.Errorf("the request message does not say sandbox:\n%s", out)
	}
	choose := button(t, out, "Renew for 1 year", "Choose")

	out = s.step(choose, "Approve and pay", "123456789", "95.04", "Cancel")
	approve := button(t, out, "Order", "Approve and pay")

	out = s.step(approve, "Approve and pay?", "Pay 95.04 € with tax to OVHcloud to renew web-front?", "[y] Pay 95.04 €")
	out = s.step("y", "a teammate has to approve")
	if !strings.Contains(out, "only visible to @alice") || strings.Contains(out, "Paid") {
		t.Errorf("self-approval: want a refusal only alice sees and no payment:\n%s", out)
	}

	s.step("as bob", "You are now @bob (U0BOB0001)", "@bob> ")
	s.step(approve, "Approve and pay?")
	out = s.step("y", "Paid", "95.04", "by @bob", "123456789")
	if strings.Contains(out, "Approve and pay") {
		t.Errorf("the paid message still offers Approve and pay:\n%s", out)
	}
}

// Cancel asks what Slack's dialog asks: a confirmation, then an optional
// reason, which the message and the history show.
func TestConsoleCancelAsksAReason(t *testing.T) {
	s := startConsole(t, nil)
	out := s.step("/renew web-front 1y", "Choose")
	out = s.step(button(t, out, "Renew for 1 year", "Choose"), "Approve and pay")
	cancel := button(t, out, "Approve and pay", "Cancel")
	s.step(cancel, "Cancel the renewal of web-front? Nothing will be paid.", "[y] Cancel renewal   [n] Keep it", "y/n> ")
	s.step("n", "Keep it: nothing changed.")
	s.step(cancel, "[y] Cancel renewal")
	s.step("y", "Why? (optional, shown to the channel) Press Enter for none.", "reason> ")
	out = s.step("moved to another host", "Cancelled by @alice", "Reason: moved to another host")
	if strings.Contains(out, "Approve and pay") {
		t.Errorf("the cancelled message still offers Approve and pay:\n%s", out)
	}
	s.step("/renew history", "cancelled by @alice: moved to another host")
}

// A display name with spaces can be typed as it is, or quoted, with or
// without a period after it; the same parser serves Slack.
func TestConsoleNamesWithSpaces(t *testing.T) {
	s := startConsole(t, nil)
	out := s.step("/renew example.com website", "Service       www.example.com", "Display name  example.com website", "Choose")
	if strings.Contains(out, "not a period") {
		t.Errorf("a display name with a space was read as a period:\n%s", out)
	}
	for _, cmd := range []string{`/renew "example.com website" 1y`, "/renew example.com website 1y", "/renew “example.com website”"} {
		s.step(cmd, "Service       www.example.com", "Renew for 1 year", "Choose")
	}
	// The whole text is tried as a name first, but a shorter name still
	// wins over nothing: the domain is not its hosting.
	s.step("/renew example.com 2y", "Domain name .com", "Renew for 2 years")
	s.step(`/renew "example.com website`, "The quote before `example.com website` is not closed.", "Put a name with spaces between quotes")
}

// Approvers given as a Slack user group cannot be read in the console,
// which has no Slack: the approval is refused, and nothing is paid.
func TestConsoleGroupApproversAreRefused(t *testing.T) {
	ovh := watchSandbox(t)
	var slackCalls atomic.Int64
	team := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slackCalls.Add(1)
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(team.Close)
	s := startConsole(t, map[string]string{"RENEWBOT_APPROVERS": "S0TEAM001", "SLACK_BOT_TOKEN": "xoxb-team-token", "SLACK_API_URL": team.URL + "/api/"})
	out := s.step("/renew web-front 1m", "Choose")
	out = s.step(button(t, out, "Renew for 1 month", "Choose"), "Approve and pay")
	approve := button(t, out, "Order", "Approve and pay")
	s.step("as bob", "@bob> ")
	s.step(approve, "Approve and pay?")
	s.step("y", "I can't check who may approve right now")
	if n := len((*ovh).CallsTo("POST", "/me/order/*/pay")); n != 0 {
		t.Errorf("%d payments, want none", n)
	}
	if n := slackCalls.Load(); n != 0 {
		t.Errorf("the console called the team's Slack %d times", n)
	}
}

// The calls OVHcloud gets from the console are the flow's, checked on the
// sandbox's own account.
func TestConsoleCallsOVHcloud(t *testing.T) {
	ovh := watchSandbox(t)
	s := startConsole(t, nil)
	out := s.step("/renew web-front 1y", "1 year", "79.20")
	out = s.step(button(t, out, "Renew for 1 year", "Choose"), "Approve and pay")
	approve := button(t, out, "Order", "Approve and pay")
	s.step("as bob", "@bob> ")
	s.step(approve, "Approve and pay?")
	s.step("y", "Paid")

	renews := (*ovh).CallsTo("POST", "/service/*/renew")
	if len(renews) != 1 || renews[0].Path != "/service/10001/renew" || body(renews[0]) != `{"dryRun":false,"duration":"P1Y","services":[10001]}` {
		t.Errorf("renew calls = %+v, want one POST /service/10001/renew for P1Y", renews)
	}
	if n := len((*ovh).CallsTo("GET", "/me/order/*/status")); n < 1 {
		t.Error("the order status was not checked before paying")
	}
	pays := (*ovh).CallsTo("POST", "/me/order/*/pay")
	if len(pays) != 1 || pays[0].Path != "/me/order/123456789/pay" || body(pays[0]) != `{"paymentMethod":{"id":42}}` {
		t.Errorf("pay calls = %+v, want one POST /me/order/123456789/pay with the default method", pays)
	}
}

// watchSandbox makes the next sandbox account the one returned, for the
// test to read the calls it gets once the console made it.
func watchSandbox(t *testing.T) **ovhfake.Server {
	t.Helper()
	var fake *ovhfake.Server
	before := sandboxAccount
	sandboxAccount = func(now time.Time) *ovhfake.Server {
		fake = ovhfake.SampleAccount(now)
		return fake
	}
	t.Cleanup(func() { sandboxAccount = before })
	return &fake
}

// The console is a sandbox whatever the environment says: with the team's
// database and a real OVHcloud endpoint configured, it opens neither, and
// a whole paid renewal happens on the sample account and a temporary file.
func TestConsoleIsAlwaysASandbox(t *testing.T) {
	var ovhCalls atomic.Int64
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ovhCalls.Add(1)
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(real.Close)
	pg, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	var pgConns atomic.Int64
	go func() {
		for {
			c, err := pg.Accept()
			if err != nil {
				return
			}
			pgConns.Add(1)
			c.Close()
		}
	}()
	team := t.TempDir()
	for _, database := range []string{"sqlite:" + filepath.Join(team, "renewbot.db"), "postgres://renewbot:secret@" + pg.Addr().String() + "/renewbot"} {
		t.Run(strings.Split(database, ":")[0], func(t *testing.T) {
			sandbox := watchSandbox(t)
			s := startConsole(t, map[string]string{
				"RENEWBOT_DATABASE_URL":  database,
				"OVH_ENDPOINT":           real.URL,
				"OVH_APPLICATION_KEY":    "team-app-key",
				"OVH_APPLICATION_SECRET": "team-app-secret",
				"OVH_CONSUMER_KEY":       "team-consumer-key",
			})
			banner := s.out.String()
			for _, want := range []string{"OVHcloud: sandbox", "Database: a temporary SQLite file", "Ignored: OVH_ENDPOINT and RENEWBOT_DATABASE_URL"} {
				if !strings.Contains(banner, want) {
					t.Errorf("the banner lacks %q:\n%s", want, banner)
				}
			}
			out := s.step("/renew web-front 1m", "Sandbox", "7.00")
			out = s.step(button(t, out, "Renew for 1 month", "Choose"), "Approve and pay")
			approve := button(t, out, "Order", "Approve and pay")
			s.step("as bob", "@bob> ")
			s.step(approve, "Approve and pay?")
			s.step("y", "Paid")
			s.quit()

			if n := len((*sandbox).CallsTo("POST", "/me/order/*/pay")); n != 1 {
				t.Errorf("%d payments on the sandbox, want 1", n)
			}
		})
	}
	if n := ovhCalls.Load(); n != 0 {
		t.Errorf("the console called the configured OVHcloud endpoint %d times", n)
	}
	if n := pgConns.Load(); n != 0 {
		t.Errorf("the console connected %d times to the configured PostgreSQL", n)
	}
	if left, err := os.ReadDir(team); err != nil || len(left) != 0 {
		t.Errorf("the configured SQLite database's directory holds %v (%v), want nothing", left, err)
	}
}

// The temporary database is gone when the console ends.
func TestConsoleDatabase(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := startConsole(t, nil)
	s.step("/renew web-front", "Choose")
	s.quit()
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("%s left behind in the temporary directory", e.Name())
	}
}

// The README's console transcript is what the console prints for the
// same input: its lines appear in the same order in a real run, dates
// aside; "…" stands for lines left out.
func TestReadmeTranscript(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "```\n@alice> /renew web-front\n")
	if start < 0 {
		t.Fatal("no console transcript in the README")
	}
	block := readme[start+4:]
	block = block[:strings.Index(block, "```")]
	prompt := regexp.MustCompile(`^(@\w+|y/n|reason)> (.*)$`)
	var input []string
	for _, l := range strings.Split(block, "\n") {
		if m := prompt.FindStringSubmatch(l); m != nil && m[2] != "" {
			input = append(input, m[2])
		}
	}

	s := startConsole(t, nil)
	for _, l := range input {
		s.step(l)
	}
	s.quit()
	dates := regexp.MustCompile(`\d{4}-\d{2}-\d{2}( \d{2}:\d{2}( UTC)?)?`)
	got := turns(dates.ReplaceAllString(s.out.String(), "DATE"), prompt)
	want := turns(dates.ReplaceAllString(block, "DATE"), prompt)
	// What the bot prints after one input comes from several goroutines
	// (a message edit, a thread reply): within a turn, each of the
	// README's blocks must be one the run printed, in any order.
	for i, blocks := range want {
		if i >= len(got) {
			t.Fatalf("the README's transcript has %d turns, a real run %d; the run printed:\n%s", len(want), len(got), s.out)
		}
		for _, b := range blocks {
			if !slices.ContainsFunc(got[i], func(g []string) bool { return printedAs(g, b) }) {
				t.Fatalf("the README's transcript says, after %q:\n%s\nwhich a real run does not print there; the run printed:\n%s",
					firstLine(got[i]), strings.Join(b, "\n"), s.out)
			}
		}
	}
}

// turns splits a console session at its prompts, each turn into blocks
// (runs of lines between blank lines).
func turns(out string, prompt *regexp.Regexp) [][][]string {
	var (
		all   [][][]string
		block []string
	)
	flush := func() {
		if len(block) > 0 && len(all) > 0 {
			all[len(all)-1] = append(all[len(all)-1], block)
		}
		block = nil
	}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, " ")
		switch {
		case prompt.MatchString(l):
			flush()
			all = append(all, [][]string{{l}})
		case l == "":
			flush()
		default:
			block = append(block, l)
		}
	}
	flush()
	return all
}

// printedAs reports whether the printed block holds the README's lines in
// order; "…" in the README stands for lines left out.
func printedAs(printed, readme []string) bool {
	i := 0
	for _, w := range readme {
		if w == "│ …" || w == "…" {
			continue
		}
		for i < len(printed) && printed[i] != w {
			i++
		}
		if i == len(printed) {
			return false
		}
		i++
	}
	return true
}

func firstLine(blocks [][]string) string {
	if len(blocks) == 0 || len(blocks[0]) == 0 {
		return ""
	}
	return blocks[0][0]
}

func TestConsoleRefusesArguments(t *testing.T) {
	err := run(context.Background(), []string{"console", "extra"}, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "no arguments") {
		t.Fatalf("run console extra = %v, want an error about arguments", err)
	}
}

// Switching to a configured approver is quiet; switching to a name nobody
// met or configured (a typo) says so, naming the users the console knows.
func TestConsoleNamesAStranger(t *testing.T) {
	s := startConsole(t, map[string]string{"RENEWBOT_APPROVERS": "U0DAVE001"})
	if out := s.step("as U0DAVE001", "@"); strings.Contains(out, "is new here") {
		t.Errorf("switching to a configured approver printed a notice:\n%s", out)
	}
	s.step("as bbo", "is new here", "@alice", "@bob")
}
