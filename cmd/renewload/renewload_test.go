package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
	} {
		if got := percentile(tc.values, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.values, tc.p, got, tc.want)
		}
	}
	s := summarize(ms(5, 1, 4, 2, 3))
	if s != (summary{N: 5, P50: 3 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond}) {
		t.Errorf("summarize = %+v", s)
	}
}

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader("Name:\trenewbot\nVmPeak:\t 1262092 kB\nVmHWM:\t   25600 kB\nVmRSS:\t   20480 kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 20480*1024 || m.HWM != 25600*1024 {
		t.Errorf("parseStatus = %+v", m)
	}
	if _, err := parseStatus(strings.NewReader("Name:\tzombie\n")); err == nil {
		t.Error("a status without VmRSS was read")
	}
}

func TestFindChoice(t *testing.T) {
	buttons := `[{"type":"header","text":{"type":"plain_text","text":"Renew"}},
		{"type":"section","text":{"type":"mrkdwn","text":"1 month"},"accessory":{"type":"button","action_id":"choose","value":"r1:0"}},
		{"type":"section","text":{"type":"mrkdwn","text":"1 year"},"accessory":{"type":"button","action_id":"choose","value":"r1:1"}}]`
	if c, ok := findChoice(buttons); !ok || c != (choice{actionID: "choose", value: "r1:0"}) {
		t.Errorf("buttons: %+v, %v", c, ok)
	}
	menu := `[{"type":"actions","elements":[{"type":"static_select","action_id":"choose_select",
		"option_groups":[{"label":{"type":"plain_text","text":"1 month"},"options":[{"text":{"type":"plain_text","text":"alone"},"value":"r2:3"}]}]}]}]`
	if c, ok := findChoice(menu); !ok || c != (choice{actionID: "choose_select", value: "r2:3", menu: true}) {
		t.Errorf("menu: %+v, %v", c, ok)
	}
	order := `[{"type":"actions","elements":[{"type":"button","action_id":"approve","value":"r1"},{"type":"button","action_id":"cancel","value":"r1"}]}]`
	if _, ok := findChoice(order); ok {
		t.Error("found a choice in an order message")
	}
	if v, ok := findAction(order, "approve"); !ok || v != "r1" {
		t.Errorf("approve: %q, %v", v, ok)
	}
}

func TestTally(t *testing.T) {
	at := time.Now()
	es := []*exchange{
		{sent: at, ack: time.Millisecond, acked: true, outcome: posted, done: at.Add(2 * time.Second)},
		{sent: at, ack: 3 * time.Millisecond, acked: true, outcome: busy, done: at.Add(3 * time.Millisecond)},
		{sent: at, ack: 2 * time.Millisecond, outcome: failed, detail: "HTTP 503"},
		{sent: at, ack: time.Millisecond, acked: true, outcome: waiting},
		{sent: at, ack: time.Millisecond, acked: true, outcome: ephemeral, detail: "no such service"},
	}
	got := tally(es)
	if got.Sent != 5 || got.Acked != 4 || got.Failed != 1 || got.Busy != 1 || got.Posted != 1 || got.Ephemeral != 1 || got.Unanswered != 1 {
		t.Errorf("tally counts: %+v", got)
	}
	if got.E2E.Max != 2*time.Second || got.Ack.Max != 3*time.Millisecond {
		t.Errorf("tally times: %+v", got)
	}
	if len(got.Errors) != 2 {
		t.Errorf("errors: %q", got.Errors)
	}
}

// TestRun builds the bot, runs it against the fakes and loads it a little,
// clicks included. It checks that every request was answered, never how
// fast: speed is measured by renewload runs and written in
// docs/performance.md.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot")
	}
	ctx := t.Context()
	var out, log bytes.Buffer
	args := []string{"-bot", testBot(t), "-n", "20", "-c", "10", "-latency", "50ms", "-settle", "200ms", "-wait", "20s", "-clicks"}
	if err := run(ctx, args, &out, &log); err != nil {
		t.Fatalf("run: %v\nreport:\n%s\nlog:\n%s", err, &out, &log)
	}
	for _, want := range []string{
		"| commands acked | 20 of 20 (20 accepted, 0 busy), 0 failed |",
		"| commands: answers | 20 messages, 0 busy, 0 errors, 0 unanswered |",
		"| clicks: answers | 20 orders, 0 busy, 0 errors, 0 unanswered |",
		"| peak RSS (VmHWM) |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, &out)
		}
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	for _, args := range [][]string{{"-n", "0"}, {"-c", "0"}, {"-queue", "-2"}, {"-env", "NOEQUALS"}, {"extra"}} {
		if _, err := parseFlags(args, &stderr); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	o, err := parseFlags([]string{"-workers", "64", "-queue", "1024", "-env", "GOGC=50"}, &stderr)
	if err != nil || o.workers != 64 || o.queue != 1024 || o.env[0] != "GOGC=50" || o.n != 500 || o.latency != time.Second {
		t.Errorf("parseFlags = %+v, %v", o, err)
	}
}
