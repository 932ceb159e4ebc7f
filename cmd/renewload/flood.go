package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/renewbot/renewbot/internal/slackfake"
)

// renewload flood: the bot against the floor (floor.go), flooded the same
// way in the same run. Each flood sends -n signed requests, -c at once,
// to a fresh server: first the floor, then renewbot (on its sandbox
// OVHcloud account, talking to a stub Slack that answers ok at once), and
// compares the two. Everything renewbot is asked to do is real work; only
// Slack and OVHcloud answer instantly.

// The targets of issue 12.
const (
	targetFloodRatio   = 2.0      // renewbot's ack p99 / the floor's
	targetFloodPeakRSS = 48 << 20 // bytes
	targetFloodIdleRSS = 20 << 20 // bytes
)

// floodTeam and floodApp are the workspace and the app the flood's
// requests come from, and the ones the stub's auth.test and bots.info
// name: the bot serves that workspace only.
const (
	floodTeam = "T0FLOOD01"
	floodApp  = "A0FLOOD01"
)

// floodKind is one kind of flood.
type floodKind struct {
	name  string // the -floods value
	title string // the report's name for it
	path  string
	text  string // the command's text; empty for clicks
}

var floodKinds = []floodKind{
	{name: "renew", title: "`/renew vps-1.example.net`", path: "/slack/commands", text: "vps-1.example.net"},
	{name: "help", title: "`/renew help`", path: "/slack/commands", text: "help"},
	{name: "clicks", title: "block_actions clicks", path: "/slack/interactions"},
}

// floodOptions are the flags of renewload flood.
type floodOptions struct {
	n, c, runs int
	kinds      []floodKind
	bot        string
	settle     time.Duration
	drain      time.Duration
	timeout    time.Duration
	check      bool
	env        []string
}

func parseFloodFlags(args []string, stderr io.Writer) (floodOptions, error) {
	var o floodOptions
	fs := flag.NewFlagSet("renewload flood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 20000, "requests per flood")
	fs.IntVar(&o.c, "c", 50, "requests in flight at once")
	fs.IntVar(&o.runs, "runs", 1, "how many times each flood is run (each time on fresh servers)")
	floods := fs.String("floods", "renew,help,clicks", "the floods to run: renew (/renew vps-1.example.net), help (/renew help), clicks (Choose on a request message)")
	fs.StringVar(&o.bot, "bot", "", "renewbot binary to run (default: go build ./cmd/renewbot into a temporary directory)")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "how long each server idles before its idle RSS is read")
	fs.DurationVar(&o.drain, "drain", 30*time.Second, "at most how long renewbot may take to finish its work after a flood")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "HTTP timeout of one request")
	fs.BoolVar(&o.check, "check", false, "exit with status 1 when a target is missed")
	fs.Func("env", "extra `KEY=VALUE` for renewbot's environment (repeatable)", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", s)
		}
		o.env = append(o.env, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, name := range strings.Split(*floods, ",") {
		i := slices.IndexFunc(floodKinds, func(k floodKind) bool { return k.name == strings.TrimSpace(name) })
		if i < 0 {
			return o, fmt.Errorf("-floods: unknown flood %q (renew, help, clicks)", name)
		}
		o.kinds = append(o.kinds, floodKinds[i])
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.n < 1:
		return o, errors.New("-n: expected at least 1 request")
	case o.c < 1:
		return o, errors.New("-c: expected a concurrency of at least 1")
	case o.runs < 1:
		return o, errors.New("-runs: expected at least 1")
	}
	return o, nil
}

// runFlood is renewload flood.
func runFlood(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFloodFlags(args, stderr)
	if err != nil {
		return err
	}
	r, err := floods(ctx, o, stderr)
	if err != nil {
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

// floods runs every flood of o, o.runs times, each on fresh servers: the
// floor first, then renewbot, in odd runs; renewbot first in even runs, so
// that a machine getting busier or quieter during a run does not always
// favour the same side.
func floods(ctx context.Context, o floodOptions, stderr io.Writer) (floodReport, error) {
	r := floodReport{o: o, cpus: runtime.NumCPU()}
	tmp, err := os.MkdirTemp("", "renewflood-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(tmp)
	bin := o.bot
	if bin == "" {
		fmt.Fprintln(stderr, "renewload: building renewbot…")
		if bin, err = buildBot(ctx, tmp); err != nil {
			return r, err
		}
	}
	stub := startStub()
	defer stub.Close()
	for run := 1; run <= o.runs; run++ {
		for _, k := range o.kinds {
			row := floodRow{run: run, kind: k}
			floor := func() (err error) {
				fmt.Fprintf(stderr, "renewload: run %d, %s: the floor…\n", run, k.name)
				row.floor, err = floodFloor(ctx, o, k, stub, filepath.Join(tmp, fmt.Sprintf("floor-%d-%s", run, k.name)))
				return err
			}
			bot := func() (err error) {
				fmt.Fprintf(stderr, "renewload: run %d, %s: renewbot…\n", run, k.name)
				row.bot, err = floodBot(ctx, o, k, bin, stub, filepath.Join(tmp, fmt.Sprintf("bot-%d-%s", run, k.name)), stderr)
				return err
			}
			first, second := floor, bot
			if run%2 == 0 {
				first, second = bot, floor
			}
			if err := first(); err != nil {
				return r, err
			}
			if err := second(); err != nil {
				return r, err
			}
			r.rows = append(r.rows, row)
		}
	}
	return r, nil
}

// side is what one server did under one flood.
type side struct {
	acks     summary // of the 200 answers
	failed   int     // no 200
	errors   []string
	wall     time.Duration // from the first request sent to the last answer
	cpu      time.Duration // the server's CPU time during the flood
	idleRSS  int64
	peakRSS  int64 // VmHWM
	afterRSS int64 // renewbot: once its work is done

	// renewbot only
	busyAcks   int   // commands answered "busy" in the ack
	busy       int64 // renewbot_busy_total at the end; -1 unknown
	goroutines int   // the most go_goroutines seen during the flood; 0 unknown
	logLines   int   // lines the bot logged from start to end
	slack      stubCounts
}

func floodFloor(ctx context.Context, o floodOptions, k floodKind, stub *stubSlack, dir string) (side, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return side{}, err
	}
	p, err := startFloor(ctx, dir)
	if err != nil {
		return side{}, err
	}
	defer p.stop()
	idle, err := idleRSS(ctx, o, p)
	if err != nil {
		return side{}, err
	}
	// The floor cannot post a request message: its clicks name one of
	// the same shape.
	value := "0123456789abcdef0123:0"
	s, err := floodSide(ctx, o, k, p, stub, value, "1700000000.000001")
	s.idleRSS = idle
	return s, err
}

// idleRSS is p's resident memory once it has idled for o.settle after
// its start, before any request.
func idleRSS(ctx context.Context, o floodOptions, p *botProcess) (int64, error) {
	if err := sleep(ctx, o.settle); err != nil {
		return 0, err
	}
	m, err := readMemory(p.pid())
	if err != nil {
		return 0, fmt.Errorf("no memory figures (Linux only): %w", err)
	}
	return m.RSS, nil
}

func floodBot(ctx context.Context, o floodOptions, k floodKind, bin string, stub *stubSlack, dir string, stderr io.Writer) (side, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return side{}, err
	}
	stub.reset()
	p, err := startBot(ctx, bin, floodEnv(o, stub, dir), dir)
	if err != nil {
		return side{}, err
	}
	defer p.stop()
	idle, err := idleRSS(ctx, o, p)
	if err != nil {
		return side{}, err
	}
	value, ts := "", ""
	if k.name == "clicks" {
		// The clicks press "Choose" on a request message, as a team would.
		if value, ts, err = postRequest(ctx, o, p, stub); err != nil {
			p.tail(stderr)
			return side{}, err
		}
	}
	s, err := floodSide(ctx, o, k, p, stub, value, ts)
	s.idleRSS = idle
	if err != nil {
		p.tail(stderr)
		return s, err
	}
	drained(ctx, stub, o.drain)
	after, _ := readMemory(p.pid())
	s.afterRSS = after.RSS
	s.busy = scrape(p, "renewbot_busy_total")
	s.slack = stub.counts()
	if err := p.gone(); err != nil {
		return s, err
	}
	p.stop()
	s.logLines = countLines(p.log)
	return s, nil
}

// floodEnv is renewbot's environment for a flood: the sandbox OVHcloud
// account, the stub Slack, a fresh database, the defaults for the rest.
func floodEnv(o floodOptions, stub *stubSlack, dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLACK_") && !strings.HasPrefix(kv, "OVH_") &&
			!strings.HasPrefix(kv, "RENEWBOT_") && !strings.HasPrefix(kv, "LOG_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"SLACK_BOT_TOKEN=xoxb-renewload-token",
		"SLACK_SIGNING_SECRET="+signingSecret,
		"SLACK_API_URL="+stub.APIURL(),
		"OVH_ENDPOINT=sandbox",
		"RENEWBOT_DATABASE_URL=sqlite:"+filepath.Join(dir, "renewbot.db"),
		"LOG_LEVEL=warn",
	)
	return append(env, o.env...)
}

// postRequest types /renew vps-1.example.net once and returns the value
// and ts of the "Choose" of the message it leads to.
func postRequest(ctx context.Context, o floodOptions, p *botProcess, stub *stubSlack) (value, ts string, err error) {
	body := commandForm(stub, floodChannel(0), "UFLOODREQ", "vps-1.example.net").Encode()
	resp, err := http.DefaultClient.Do(signed(ctx, p.base+"/slack/commands", body))
	if err != nil {
		return "", "", fmt.Errorf("the request to click on: %w", err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if raw, ts := stub.request(); raw != "" {
			c, _ := findChoice(raw)
			return c.value, ts, nil
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return "", "", err
		}
	}
	return "", "", errors.New("renewbot posted no request message to click on within 20s")
}

// floodSide floods p and reads its peak memory.
func floodSide(ctx context.Context, o floodOptions, k floodKind, p *botProcess, stub *stubSlack, value, ts string) (side, error) {
	var s side
	cpu0, _ := cpuTime(p.pid())
	mem := sampleMemory(p.pid(), 20*time.Millisecond)
	var g *goroutineSampler
	if p.admin != "" {
		g = sampleGoroutines(p, 250*time.Millisecond)
	}
	res := flood(ctx, o, k, p.base, stub, value, ts)
	cpu1, _ := cpuTime(p.pid())
	s.cpu = cpu1 - cpu0
	peak := mem.stop()
	if g != nil {
		s.goroutines = g.stop()
	}
	s.peakRSS = max(peak.HWM, peak.RSS)
	s.acks, s.failed, s.errors, s.wall, s.busyAcks = res.acks, res.failed, res.errors, res.wall, res.busyAcks
	return s, p.gone()
}

// floodResult is what the senders saw.
type floodResult struct {
	acks     summary
	failed   int
	busyAcks int
	errors   []string
	wall     time.Duration
}

// flood sends o.n requests of kind k to base, o.c at once, each signed
// when it is sent, and times each to its whole answer.
func flood(ctx context.Context, o floodOptions, k floodKind, base string, stub *stubSlack, value, ts string) floodResult {
	tr := &http.Transport{MaxIdleConns: o.c, MaxIdleConnsPerHost: o.c, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.timeout}
	lat := make([]time.Duration, o.n)
	ok := make([]bool, o.n)
	var mu sync.Mutex
	details := map[string]int{}
	var next atomic.Int64
	var busy atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range o.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n || ctx.Err() != nil {
					return
				}
				body := floodBody(k, stub, i, value, ts)
				req := signed(ctx, base+k.path, body)
				sent := time.Now()
				resp, err := client.Do(req)
				var answer []byte
				if err == nil {
					answer, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
					}
				}
				lat[i] = time.Since(sent)
				if err != nil {
					mu.Lock()
					details[err.Error()]++
					mu.Unlock()
					continue
				}
				ok[i] = true
				if isBusy(ackText(string(answer))) {
					busy.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	r := floodResult{wall: time.Since(start), busyAcks: int(busy.Load()), errors: topDetails(details, 3)}
	var acked []time.Duration
	for i := range lat {
		if ok[i] {
			acked = append(acked, lat[i])
		} else if lat[i] > 0 {
			r.failed++
		}
	}
	r.acks = summarize(acked)
	return r
}

// floodChannel is the channel of the i-th request: one per sender, so
// the bot's per-channel work spreads as a team's would.
func floodChannel(i int) string { return fmt.Sprintf("CFLOOD%03d", i%50) }

// floodBody is the i-th request of a flood: a command or a click, each
// from its own user.
func floodBody(k floodKind, stub *stubSlack, i int, value, ts string) string {
	user := fmt.Sprintf("UFLOOD%05d", i)
	if k.text != "" {
		return commandForm(stub, floodChannel(i), user, k.text).Encode()
	}
	return clickForm(stub, floodChannel(0), ts, user, value).Encode()
}

func commandForm(stub *stubSlack, channel, user, text string) url.Values {
	return url.Values{
		"token": {"deprecated"}, "team_id": {floodTeam}, "team_domain": {"example"},
		"channel_id": {channel}, "channel_name": {"ops"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/renew"}, "text": {text}, "response_url": {stub.ResponseURL(user)},
		"trigger_id": {"trigger-" + user}, "api_app_id": {floodApp},
	}
}

func clickForm(stub *stubSlack, channel, ts, user, value string) url.Values {
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": floodTeam, "domain": "example"},
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "team_id": floodTeam},
		"api_app_id":   floodApp,
		"token":        "deprecated",
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id":   "trigger-" + user,
		"channel":      map[string]any{"id": channel, "name": "ops"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": ""},
		"response_url": stub.ResponseURL(user),
		"actions": []any{map[string]any{"type": "button", "action_id": "choose", "block_id": "b", "value": value,
			"action_ts": strconv.FormatInt(time.Now().Unix(), 10) + ".0001"}},
	})
	return url.Values{"payload": {string(payload)}}
}

func signed(ctx context.Context, target, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	slackfake.Sign(req.Header, signingSecret, time.Now(), body)
	return req
}

// drained waits until the stub has heard nothing for a second (the bot
// has finished what the flood queued), or at most max.
func drained(ctx context.Context, stub *stubSlack, max time.Duration) {
	deadline := time.Now().Add(max)
	last, quiet := -1, 0
	for time.Now().Before(deadline) && quiet < 5 {
		n := 0
		for _, v := range stub.counts().calls {
			n += v
		}
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
		if sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}

// scrape reads a counter or gauge from the bot's /metrics (on the admin
// address, or Slack's for a bot built before it moved); -1 when unknown.
func scrape(p *botProcess, name string) int64 {
	for _, base := range []string{p.admin, p.base} {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err == nil {
					return int64(f)
				}
			}
		}
	}
	return -1
}

// goroutineSampler scrapes go_goroutines during a flood and keeps the
// most seen.
type goroutineSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak atomic.Int64
}

func sampleGoroutines(p *botProcess, every time.Duration) *goroutineSampler {
	s := &goroutineSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if n := scrape(p, "go_goroutines"); n > s.peak.Load() {
				s.peak.Store(n)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *goroutineSampler) stop() int {
	close(s.done)
	s.wg.Wait()
	return int(s.peak.Load())
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return bytes.Count(b, []byte("\n"))
}
