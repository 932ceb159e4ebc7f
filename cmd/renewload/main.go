// Command renewload measures renewbot under load. It runs the real bot
// binary as a child process against a fake Slack and a fake OVHcloud that
// live in renewload's own process, sends it signed /renew commands (and,
// with -clicks, "Choose" clicks) from many goroutines at once, and prints a
// Markdown report: ack latency, throughput, time until the channel message
// is posted, and the bot's resident memory when idle and at its peak.
//
//	go run ./cmd/renewload                              # 500 commands, 500 at once, OVHcloud answering in 1s
//	go run ./cmd/renewload -n 50 -c 50 -latency 500ms
//	go run ./cmd/renewload -workers 128 -queue 1024 -clicks -check
//
// Each command comes from its own user in its own channel, so the message
// the bot posts for it (or the ephemeral answer it sends) can be told
// apart. With -check, renewload exits with status 1 when a target is
// missed: p99 ack under 100 ms, every ack under 3 s, peak RSS under
// 100 MB, idle RSS under 30 MB, no failed ack and no accepted command left
// unanswered. Memory is read from /proc, so RSS figures need Linux.
//
//	go run ./cmd/renewload flood                        # 20,000 requests of each kind, 50 at once, against the floor
//	go run ./cmd/renewload flood -runs 2 -check
//
// renewload flood (flood.go) floods renewbot, on its sandbox OVHcloud
// account, and a bare slack-go handler (the floor) the same way in the
// same run, with /renew vps-1.example.net, /renew help and block_actions
// clicks, and compares the two: ack latency, memory, what the bot
// refused. With -check it exits 1 when renewbot's ack p99 is over twice
// the floor's, its peak RSS over 48 MiB or its idle RSS over 20 MiB.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if addr := os.Getenv(floorEnv); addr != "" {
		err = serveFloor(ctx, addr) // renewload flood's floor (floor.go)
	} else {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "renewload:", err)
		os.Exit(1)
	}
}

// options are renewload's flags.
type options struct {
	n          int           // commands to send
	c          int           // commands in flight at once
	latency    time.Duration // the fake OVHcloud's answer time
	bot        string        // the renewbot binary; empty: build it
	workers    int           // RENEWBOT_WORKERS; 0: the bot's default
	queue      int           // RENEWBOT_QUEUE; -1: the bot's default
	service    string        // what /renew asks for
	clicks     bool          // also click "Choose" on every posted message
	settle     time.Duration // wait before idle RSS is read
	wait       time.Duration // how long to wait for the messages after the last ack
	ackTimeout time.Duration // HTTP timeout of one command or click
	check      bool          // exit 1 when a target is missed
	env        []string      // extra KEY=VALUE for the bot (GOGC, GOMEMLIMIT, …)
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("renewload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 500, "number of /renew commands to send")
	fs.IntVar(&o.c, "c", 500, "concurrency: commands in flight at once")
	fs.DurationVar(&o.latency, "latency", time.Second, "how long the fake OVHcloud takes to answer each call")
	fs.StringVar(&o.bot, "bot", "", "renewbot binary to run (default: go build ./cmd/renewbot into a temporary directory)")
	fs.IntVar(&o.workers, "workers", 0, "RENEWBOT_WORKERS for the bot (0: the bot's default)")
	fs.IntVar(&o.queue, "queue", -1, "RENEWBOT_QUEUE for the bot (-1: the bot's default)")
	fs.StringVar(&o.service, "service", "10001", `service named by /renew (a service of the fake's sample account: "10001", "web-front", …)`)
	fs.BoolVar(&o.clicks, "clicks", false, `also click "Choose" on each posted message and time the order`)
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "how long the bot idles before its idle RSS is read")
	fs.DurationVar(&o.wait, "wait", 2*time.Minute, "how long to wait for the bot's messages once every command is acked")
	fs.DurationVar(&o.ackTimeout, "timeout", 10*time.Second, "HTTP timeout of one command or click")
	fs.BoolVar(&o.check, "check", false, "exit with status 1 when a target is missed")
	fs.Func("env", "extra `KEY=VALUE` for the bot's environment (repeatable), e.g. GOMEMLIMIT=64MiB", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", s)
		}
		o.env = append(o.env, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.n < 1:
		return o, errors.New("-n: expected at least 1 command")
	case o.c < 1:
		return o, errors.New("-c: expected a concurrency of at least 1")
	case o.workers < 0:
		return o, errors.New("-workers: expected 0 (the bot's default) or more")
	case o.queue < -1:
		return o, errors.New("-queue: expected -1 (the bot's default), 0 or more")
	}
	return o, nil
}

// errMissed is returned with -check when a target is missed.
var errMissed = errors.New("target missed")

// run is the whole program.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "flood" {
		return runFlood(ctx, args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "renewload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	f := startFakes(o.latency)
	defer f.Close()
	bin := o.bot
	if bin == "" {
		fmt.Fprintln(stderr, "renewload: building renewbot…")
		if bin, err = buildBot(ctx, tmp); err != nil {
			return err
		}
	}
	bot, err := startBot(ctx, bin, botEnv(o, f, tmp), tmp)
	if err != nil {
		return err
	}
	defer bot.stop()

	r, err := measure(ctx, o, f, bot, stderr)
	if err != nil {
		bot.tail(stderr)
		return err
	}
	if _, err := io.WriteString(stdout, r.Markdown()); err != nil {
		return err
	}
	if missed := r.Missed(); o.check && len(missed) > 0 {
		return fmt.Errorf("%w: %s", errMissed, strings.Join(missed, "; "))
	}
	return nil
}

// measure reads idle memory, runs the load while sampling memory, and
// gathers the report.
func measure(ctx context.Context, o options, f *fakes, bot *botProcess, stderr io.Writer) (*Report, error) {
	if err := sleep(ctx, o.settle); err != nil {
		return nil, err
	}
	idle, err := readMemory(bot.pid())
	if err != nil {
		fmt.Fprintln(stderr, "renewload: no memory figures:", err)
	}
	sampler := sampleMemory(bot.pid(), 20*time.Millisecond)
	fmt.Fprintf(stderr, "renewload: sending %d commands, %d at once…\n", o.n, o.c)
	res, err := runLoad(ctx, o, f, bot)
	peak := sampler.stop()
	if err != nil {
		return nil, err
	}
	after, _ := readMemory(bot.pid())
	return &Report{
		Options:  o,
		CPUs:     runtime.NumCPU(),
		Result:   res,
		IdleRSS:  idle.RSS,
		PeakRSS:  max(peak.HWM, peak.RSS),
		AfterRSS: after.RSS,
	}, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
