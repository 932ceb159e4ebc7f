package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// signingSecret is the Slack signing secret shared by renewload and the bot.
const signingSecret = "renewload-signing-secret-0123456789"

// fakes are the Slack and OVHcloud the bot talks to.
type fakes struct {
	slack  *slackfake.Server
	ovh    *ovhfake.Server
	ovhURL string
}

func startFakes(latency time.Duration) *fakes {
	f := &fakes{slack: slackfake.New(), ovh: ovhfake.SampleAccount(time.Now())}
	f.ovh.SetLatency(latency)
	f.ovhURL = f.ovh.Start()
	return f
}

func (f *fakes) Close() {
	f.ovh.Close()
	f.slack.Close()
}

// buildBot compiles renewbot into dir as the Dockerfile does (static,
// no cgo, stripped), so the memory measured is the shipped binary's. It
// must run inside the module.
func buildBot(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "renewbot")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/renewbot/renewbot/cmd/renewbot")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build renewbot (run renewload inside the module, or give -bot): %w\n%s", err, out.String())
	}
	return bin, nil
}

// botEnv is the bot's environment: renewload's own, without any setting
// of the bot's, plus the fakes, a fresh database and the tuning flags.
func botEnv(o options, f *fakes, dir string) []string {
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
		"SLACK_API_URL="+f.slack.APIURL(),
		"OVH_ENDPOINT="+f.ovhURL,
		"OVH_APPLICATION_KEY=renewload-app-key",
		"OVH_APPLICATION_SECRET=renewload-app-secret",
		"OVH_CONSUMER_KEY=renewload-consumer-key",
		"RENEWBOT_DATABASE_URL=sqlite:"+filepath.Join(dir, "renewbot.db"),
		"LOG_LEVEL=warn",
	)
	if o.workers > 0 {
		env = append(env, "RENEWBOT_WORKERS="+strconv.Itoa(o.workers))
	}
	if o.queue >= 0 {
		env = append(env, "RENEWBOT_QUEUE="+strconv.Itoa(o.queue))
	}
	return append(env, o.env...)
}

// botProcess is a running renewbot.
type botProcess struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT: Slack's routes
	admin  string // http://127.0.0.1:PORT: /healthz, /metrics; empty for the floor
	log    string // the file its stdout and stderr go to
	exited chan struct{}
	err    error // set when exited is closed
}

// startBot runs bin with env on two free ports (Slack's and the admin
// one) and waits for its /healthz.
func startBot(ctx context.Context, bin string, env []string, dir string) (*botProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &botProcess{base: "http://" + addr, admin: "http://" + admin, log: filepath.Join(dir, "renewbot.log"), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(env, "RENEWBOT_ADDR="+addr, "RENEWBOT_ADMIN_ADDR="+admin)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start renewbot: %w", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	if err := p.waitHealthy(ctx, 20*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (p *botProcess) pid() int { return p.cmd.Process.Pid }

// waitHealthy polls /healthz on the admin address, and on Slack's too: a
// bot built before the admin routes moved off it answers there.
func (p *botProcess) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		for _, base := range []string{p.admin, p.base} {
			if base == "" {
				continue
			}
			resp, err := http.Get(base + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("renewbot stopped at start: %v\n%s", p.err, p.lastLines(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("renewbot did not answer /healthz within %s\n%s", timeout, p.lastLines(20))
		}
	}
}

// gone reports why the bot stopped, or nil while it runs.
func (p *botProcess) gone() error {
	select {
	case <-p.exited:
		return fmt.Errorf("renewbot stopped during the run: %v", p.err)
	default:
		return nil
	}
}

// stop ends the bot as a container runtime would: SIGTERM, then SIGKILL
// when it has not finished its work in flight within 30 s.
func (p *botProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail copies the end of the bot's log to w.
func (p *botProcess) tail(w io.Writer) {
	if s := p.lastLines(20); s != "" {
		fmt.Fprintf(w, "renewload: the bot's last log lines:\n%s\n", s)
	}
}

func (p *botProcess) lastLines(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
