package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

func TestListAndRenewButton(t *testing.T) {
	h := newHarness(t, nil)
	// A display name typed by a customer is shown as typed, never read
	// as a mention or markup.
	ovhfake.AddEscapeService(h.ovh, time.Now().AddDate(0, 0, 20))
	h.command(alice, "list")
	l := h.ephemeral(alice, "web-front")
	text := blockText(l.Raw)
	if !strings.Contains(text, "&lt;!channel&gt; &amp; &lt;b&gt;") || strings.Contains(text, "<!channel>") {
		t.Errorf("/renew list does not escape the display name <!channel> & <b>:\n%s", text)
	}
	for _, want := range []string{"legacy-app", "suspended-box", "db-primary", "storage-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("/renew list lacks %s:\n%s", want, text)
		}
	}
	if strings.Index(text, "legacy-app") > strings.Index(text, "web-front") {
		t.Error("an expired service is not listed before the ones expiring soon")
	}
	if strings.Contains(text, "api-back") {
		t.Error("a service expiring in 40 days is listed within 30 days")
	}
	var renew element
	for _, e := range elements(l.Raw) {
		if e.ActionID == "renew_service" && e.Value == "10001" {
			renew = e
		}
	}
	if renew.Value == "" {
		t.Fatalf("no Renew… button for web-front:\n%s", l.Raw)
	}
	// The button starts the normal flow in the channel.
	h.click(bob, "1764147000.000100", "renew_service", renew.Value)
	m := h.message(1, "vps-1.example.net", "Choose")
	h.click(bob, m.TS, "choose", h.find(m, "choose", "1 month").Value)
	h.message(1, "Approve and pay")

	// Listed again while that renewal waits: no Renew… for web-front, a
	// line saying where it stands instead.
	before := len(h.slack.Responses(alice))
	h.command(alice, "list")
	h.eventually("the list again", func() bool { return len(h.slack.Responses(alice)) > before })
	again := h.slack.Responses(alice)[before]
	for _, e := range elements(again.Raw) {
		if e.ActionID == "renew_service" && e.Value == "10001" {
			t.Fatalf("Renew… offered for web-front while a renewal of it waits for approval:\n%s", blockText(again.Raw))
		}
	}
	if text := blockText(again.Raw); !strings.Contains(text, "A renewal is open in") {
		t.Errorf("the list does not say web-front is being renewed:\n%s", text)
	}
}

func TestListPages(t *testing.T) {
	h := newHarness(t, nil)
	for i := range 45 {
		id := int64(70000 + i)
		h.ovh.AddService(ovhfake.Service{ID: id, Name: "vps-bulk-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".example.net",
			Product: "vps", ProductText: "VPS", RoutePath: "/vps/{serviceName}", Expiration: time.Now().AddDate(0, 0, 2+i%20),
			RenewMode: "manual", RenewPeriod: "P1M"})
	}
	h.command(alice, "list")
	first := h.ephemeral(alice, "Next")
	var next element
	for _, e := range elements(first.Raw) {
		if e.ActionID == "list_page" {
			next = e
		}
	}
	if next.Value == "" {
		t.Fatalf("no Next button on a 50-service list:\n%s", blockText(first.Raw))
	}
	h.click(alice, "1764147000.000100", "list_page", next.Value)
	h.eventually("page 2", func() bool {
		rs := h.slack.Responses(alice)
		last := rs[len(rs)-1]
		return len(rs) >= 2 && last.ReplaceOriginal && strings.Contains(blockText(last.Raw), "Previous")
	})
	if n := len(h.ovh.CallsTo("GET", "/services")); n != 1 {
		t.Errorf("the listing was fetched %d times for two pages, want 1 (cached)", n)
	}
}

// The digest is posted once per service and threshold, even across runs.
func TestRemindOnceAcrossRestarts(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_REMINDER_CHANNEL": "C0REMIND1"})
	h.slack.Join("C0REMIND1")
	h.stop() // the store is SQLite: one process at a time
	out := func() string {
		var b strings.Builder
		if err := run(context.Background(), []string{"remind"}, &b, io.Discard); err != nil {
			t.Fatalf("remind: %v", err)
		}
		return b.String()
	}
	if got := out(); !strings.Contains(got, "reminders posted") || strings.HasPrefix(got, "0 ") {
		t.Fatalf("first run: %q", got)
	}
	digests := h.slack.Messages("C0REMIND1")
	if len(digests) != 1 || !strings.Contains(blockText(digests[0].Raw), "web-front") {
		t.Fatalf("digests = %d, want one naming web-front", len(digests))
	}
	if got := out(); !strings.HasPrefix(got, "0 reminders posted") {
		t.Fatalf("second run: %q, want nothing posted", got)
	}
	if n := len(h.slack.Messages("C0REMIND1")); n != 1 {
		t.Fatalf("%d digests after a second run, want 1", n)
	}
	// Its Renew… button starts the normal flow.
	h.start()
	var renew element
	for _, e := range elements(digests[0].Raw) {
		if e.ActionID == "renew_service" && e.Value == "10001" {
			renew = e
		}
	}
	h.post("/slack/interactions", h.slack.Click("C0REMIND1", digests[0].TS, bob, "renew_service", renew.Value))
	h.eventually("the request message in the reminder channel", func() bool {
		for _, m := range h.slack.Messages("C0REMIND1") {
			if strings.Contains(blockText(m.Raw), "Choose") {
				return true
			}
		}
		return false
	})
}

// remind --dry-run prints the digest as it would read, as text for a
// terminal, then one line that says what would happen.
func TestRemindDryRunPrintsAndChangesNothing(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_REMINDER_CHANNEL": "C0REMIND1"})
	h.slack.Join("C0REMIND1")
	h.stop()
	ovhfake.AddEscapeService(h.ovh, time.Now().AddDate(0, 0, 5))
	var out strings.Builder
	if err := run(context.Background(), []string{"remind", "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"Renewal reminder\n", "web-front (vps-1.example.net)", "in 24 days", "<!channel> & <b> (vps-4.example.net)", "[Renew…]"} {
		if !strings.Contains(got, want) {
			t.Errorf("dry run lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"&lt;", "&amp;", "&gt;", "*", "[1]"} {
		if strings.Contains(got, bad) {
			t.Errorf("dry run prints %q, unreadable in a terminal:\n%s", bad, got)
		}
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if last := lines[len(lines)-1]; !regexp.MustCompile(`^Dry run: \d+ reminders due \(thresholds 1, 7, 30 days\); this digest would be posted in C0REMIND1\. Nothing was posted or remembered\.$`).MatchString(last) {
		t.Errorf("the dry run's last line is %q, want its summary", last)
	}
	if n := len(h.slack.Calls("chat.postMessage")); n != 0 {
		t.Fatalf("a dry run posted %d messages", n)
	}
	// It remembered nothing: the real run still posts the digest.
	out.Reset()
	if err := run(context.Background(), []string{"remind"}, &out, io.Discard); err != nil || strings.HasPrefix(out.String(), "0 ") {
		t.Fatalf("remind after a dry run: %v %q", err, out.String())
	}
}

// remind --dry-run with no database creates none: nothing was ever
// remembered, and its summary says so.
func TestRemindDryRunWithoutADatabase(t *testing.T) {
	h := newFakes(t)
	h.env["RENEWBOT_REMINDER_CHANNEL"] = "C0REMIND1"
	for k, v := range h.env {
		t.Setenv(k, v)
	}
	path := strings.TrimPrefix(h.env["RENEWBOT_DATABASE_URL"], "sqlite:")
	var out strings.Builder
	if err := run(context.Background(), []string{"remind", "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := `^Dry run: \d+ reminders due \(thresholds 1, 7, 30 days\) \(no database at ` + regexp.QuoteMeta(path) + `: nothing is remembered yet\); this digest would be posted in C0REMIND1\. Nothing was posted or remembered\.$`
	if last := lines[len(lines)-1]; !regexp.MustCompile(want).MatchString(last) {
		t.Errorf("the dry run's last line is %q, want it to say there is no database", last)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("remind --dry-run created %s: %v", path, err)
	}
}
