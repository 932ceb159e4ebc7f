// Command renewbot is the Slack bot that renews OVHcloud services with team
// approval. This package only wires the pieces together: configuration,
// the store, the OVHcloud client, the Slack transport and the background
// loops.
//
//	renewbot               serve Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN)
//	renewbot healthcheck   probe a running bot's /healthz (for Docker's HEALTHCHECK)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/ovhcloud"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "renewbot:", err)
		os.Exit(1)
	}
}

// run is the whole program; main only gives it a context that ends on
// SIGINT or SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		return serve(ctx, stderr)
	case "healthcheck":
		return healthcheck(ctx, stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q; try renewbot help", cmd)
}

const usage = `renewbot: renew OVHcloud services from Slack, with team approval.

  renewbot               serve Slack (configuration from the environment; see README)
  renewbot healthcheck   exit 0 when the bot at RENEWBOT_ADDR answers /healthz
  renewbot help          this text
`

func newLogger(c Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL: expected debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// app is everything serve builds, so it can be closed in order.
type app struct {
	store   *sqlstore.Store
	renewer *renew.Renewer
	bot     *bot.Bot
	pool    *bot.Pool
	log     *slog.Logger
}

// build wires the program. optional ends at shutdown, before work in
// flight is drained. out is where the bot talks: nil for Slack's Web API.
func build(ctx, optional context.Context, c Config, log *slog.Logger, out bot.Poster) (*app, error) {
	oc := ovhcloud.Config{
		Endpoint:          c.OVHEndpoint,
		ApplicationKey:    c.OVHApplicationKey,
		ApplicationSecret: c.OVHApplicationSecret,
		ConsumerKey:       c.OVHConsumerKey,
		ClientID:          c.OVHClientID,
		ClientSecret:      c.OVHClientSecret,
		AccessToken:       c.OVHAccessToken,
		Timeout:           c.OVHTimeout,
	}
	if c.sandbox() {
		oc = sandboxOVH(c.OVHTimeout)
	}
	ovh, err := ovhcloud.New(oc)
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("RENEWBOT_DATABASE_URL: %w", err)
	}
	api := slack.New(c.SlackBotToken,
		slack.OptionAPIURL(c.SlackAPIURL),
		slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second}))
	if out == nil {
		out = &bot.SlackPoster{API: api, Log: log}
	}
	policy := &renew.Policy{
		Approvers:    c.Approvers,
		Requesters:   c.Requesters,
		Channels:     c.Channels,
		SelfApproval: c.SelfApproval,
		Approvals:    c.Approvals,
		MaxAmount:    int64(c.MaxAmount),
		TTL:          c.RequestTTL,
		Directory:    &bot.Groups{API: api, TTL: c.GroupsTTL},
	}
	rn := &renew.Renewer{
		OVH:         ovh,
		Store:       store,
		Policy:      policy,
		Payment:     renew.Payment(c.Payment),
		DryRun:      c.DryRun,
		FollowFor:   2 * time.Minute,
		FollowEvery: 10 * time.Second,
		StuckAfter:  c.StuckAfter,
	}
	rn.Lookup = func(ctx context.Context) ([]renew.Service, error) { return allServices(ctx, ovh) }
	pool := bot.NewPool(c.Workers, c.Queue, 3*time.Minute)
	b := bot.New(bot.Config{
		Renewer:  rn,
		Out:      out,
		Pool:     pool,
		Log:      log,
		Optional: optional,
		Sandbox:  c.sandbox(),

		AuditChannel: c.AuditChannel,
	})
	return &app{store: store, renewer: rn, bot: b, pool: pool, log: log}, nil
}

func serve(ctx context.Context, stderr io.Writer) error {
	c, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	a, err := build(ctx, bg, c, log, nil)
	if err != nil {
		return err
	}
	defer a.store.Close()

	mux := http.NewServeMux()
	bot.Routes(mux, a.bot, c.SlackSigningSecret, a.store.Ping)
	srv := &http.Server{
		Addr:              c.Addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("RENEWBOT_ADDR: %w", err)
	}
	log.Info("renewbot listening", "addr", ln.Addr().String(), "dry_run", c.DryRun, "ovh_endpoint", c.OVHEndpoint)

	go a.background(bg, c.Sweep)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: no new requests, finishing work in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	stopBG()
	if err := a.pool.Close(sctx); err != nil {
		log.Warn("work in flight did not finish in time", "error", err)
	}
	log.Info("stopped")
	return nil
}

// background settles what a previous run left half done, then sweeps
// expired requests.
func (a *app) background(ctx context.Context, every time.Duration) {
	if _, err := a.renewer.ReconcileAll(ctx); err != nil {
		a.log.Warn("reconcile at start", "error", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.renewer.ExpireDue(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Warn("expire due requests", "error", err)
		}
		if _, err := a.renewer.ReconcileAll(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Warn("reconcile", "error", err)
		}
	}
}

// healthcheck asks a running bot whether it is alive: the image has no
// curl, so Docker's HEALTHCHECK runs the binary itself.
func healthcheck(ctx context.Context, stdout io.Writer) error {
	addr := os.Getenv("RENEWBOT_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s", resp.Status)
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}

// allServices reads every service of the account, eight at a time.
func allServices(ctx context.Context, ovh renew.OVHcloud) ([]renew.Service, error) {
	ids, err := ovh.ServiceIDs(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]renew.Service, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = ovh.Service(ctx, id)
		}()
	}
	wg.Wait()
	ok := out[:0]
	for i, s := range out {
		if errs[i] == nil {
			ok = append(ok, s)
		}
	}
	return ok, nil
}

// sandboxOVH is an OVHcloud client for OVH_ENDPOINT=sandbox: the real
// adapter talking, in the process, to the fake account the tests use.
func sandboxOVH(timeout time.Duration) ovhcloud.Config {
	fake := ovhfake.SampleAccount(time.Now())
	fake.StatusStep = 20 * time.Second // checking, delivering, delivered
	return ovhcloud.Config{
		Endpoint:    ovhfake.SandboxURL,
		AccessToken: "sandbox",
		Timeout:     timeout,
		HTTPClient:  &http.Client{Transport: fake.Transport()},
	}
}
