package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestMain lets the test binary serve as the floor: renewload flood runs
// its own binary again for it, and here that binary is the test's.
func TestMain(m *testing.M) {
	if addr := os.Getenv(floorEnv); addr != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		err := serveFloor(ctx, addr)
		stop()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "renewload-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	botDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	botDir   string // where testBot builds renewbot, once per test binary
	botOnce  sync.Once
	botBin   string
	botError error
)

// testBot builds renewbot once for the tests that run it. It waits as
// long as the test may run (go test's -timeout), never a fixed time: a
// busy machine builds slowly.
func testBot(t *testing.T) string {
	t.Helper()
	botOnce.Do(func() { botBin, botError = buildBot(context.Background(), botDir) })
	if botError != nil {
		t.Fatal(botError)
	}
	return botBin
}

// TestFlood builds the bot and floods it and the floor a little with each
// kind of request. It checks that every request was answered 200 by
// both, never how fast: speed is measured by renewload flood runs and
// written in docs/performance.md.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot")
	}
	bin := testBot(t)
	ctx := t.Context()
	var log bytes.Buffer
	o, err := parseFloodFlags([]string{"-bot", bin, "-n", "100", "-c", "10", "-settle", "100ms", "-drain", "5s"}, &log)
	if err != nil {
		t.Fatal(err)
	}
	r, err := floods(ctx, o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, &log)
	}
	if len(r.rows) != 3 {
		t.Fatalf("%d floods run, want 3 (renew, help, clicks)", len(r.rows))
	}
	for _, row := range r.rows {
		for name, s := range map[string]side{"renewbot": row.bot, "the floor": row.floor} {
			if s.acks.N != o.n || s.failed != 0 {
				t.Errorf("%s, %s: %d of %d answered 200, %d failed: %v", row.kind.name, name, s.acks.N, o.n, s.failed, s.errors)
			}
		}
		if row.bot.peakRSS <= 0 || row.bot.busy < 0 {
			t.Errorf("%s: no memory or busy figures: %+v", row.kind.name, row.bot)
		}
	}
	if md := r.Markdown(); !strings.Contains(md, "| 1 | block_actions clicks |") {
		t.Errorf("the report lacks the clicks row:\n%s", md)
	}
}

func TestFloodFlags(t *testing.T) {
	var stderr bytes.Buffer
	for _, args := range [][]string{{"-n", "0"}, {"-c", "0"}, {"-runs", "0"}, {"-floods", "renew,typo"}, {"extra"}} {
		if _, err := parseFloodFlags(args, &stderr); err == nil {
			t.Errorf("parseFloodFlags(%q) accepted", args)
		}
	}
	o, err := parseFloodFlags([]string{"-floods", "clicks,help", "-runs", "2"}, &stderr)
	if err != nil || len(o.kinds) != 2 || o.kinds[0].name != "clicks" || o.runs != 2 || o.n != 20000 || o.c != 50 {
		t.Errorf("parseFloodFlags = %+v, %v", o, err)
	}
}
