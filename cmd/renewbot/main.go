// Command renewbot is the Slack bot that renews OVHcloud services with team
// approval. This package only wires the pieces together: configuration,
// the store, the OVHcloud client, the Slack transport and the background
// loops.
//
//	renewbot               serve Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN)
//	renewbot console       the flow in a terminal, on a sandbox OVHcloud account
//	renewbot check         check configuration, Slack, OVHcloud access rules, payment
//	renewbot remind        post the reminder digest due now (--dry-run: print it)
//	renewbot export        the payments of some months as CSV, for accounting
//	renewbot healthcheck   probe a running bot's /healthz on RENEWBOT_ADMIN_ADDR (for Docker's HEALTHCHECK)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // RENEWBOT_REMINDER_AT's time zones, even on an image without zone files

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/bot/metrics"
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
	return runWith(ctx, deps{now: time.Now}, args, stdout, stderr)
}

// deps is what the program takes from the machine beyond its arguments
// and environment: the clock. Tests give replicas clocks of their own.
type deps struct {
	now func() time.Time
	// limits are the rates the bot's own messages to Slack keep under
	// (bot.SlackLimits when nil): tests keep the pacing, faster.
	limits *bot.Limits
	// maxConns is how many connections each listener serves at once
	// (defaultMaxConns when 0): tests reach it with a few.
	maxConns int
}

func runWith(ctx context.Context, d deps, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		return serve(ctx, d, stderr)
	case "healthcheck":
		return healthcheck(ctx, stdout)
	case "console":
		return runConsole(ctx, args[1:], os.Stdin, stdout, stderr)
	case "remind":
		return remind(ctx, args[1:], stdout, stderr)
	case "check":
		return check(ctx, stdout)
	case "export":
		return export(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q; try renewbot help", cmd)
}

const usage = `renewbot: renew OVHcloud services from Slack, with team approval.

  renewbot               serve Slack (configuration from the environment; see README)
  renewbot console       try the whole flow in a terminal, on a sandbox OVHcloud account
  renewbot check         check the configuration, Slack, OVHcloud's access rules and payment
  renewbot healthcheck   exit 0 when the bot answers /healthz at RENEWBOT_ADMIN_ADDR
  renewbot remind        post the reminder digest due now (once per service and threshold)
  renewbot remind --dry-run
                         print it without posting it
  renewbot export --from YYYY-MM [--to YYYY-MM]
                         the payments of those months as CSV, for accounting
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

	reminders *renew.Reminders
	metrics   *metrics.Metrics
	api       *slack.Client
	holder    string // this process, for the background lease
}

// holder names this process among replicas.
func holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), renew.NewID()[:8])
}

// wiring is what build takes beyond the configuration.
type wiring struct {
	// out is where the bot talks: nil for Slack's Web API.
	out bot.Poster
	// workspace is the one the bot serves: nil to ask Slack (auth.test).
	workspace *bot.Workspace
	// local is this process's clock (time.Now when nil).
	local func() time.Time
	// limits pace the bot's own messages (bot.SlackLimits when nil).
	limits *bot.Limits
	// store is the store to use, as it is: nil to open
	// RENEWBOT_DATABASE_URL, creating and migrating it as needed.
	store *sqlstore.Store
}

// build wires the program. optional ends at shutdown, before work in
// flight is drained.
func build(ctx, optional context.Context, c Config, log *slog.Logger, w wiring) (*app, error) {
	if w.local == nil {
		w.local = time.Now
	}
	oc := ovhConfig(c)
	m := metrics.New()
	oc.Observe = m.OVHCall
	ovh, err := ovhcloud.New(oc)
	if err != nil {
		return nil, err
	}
	opts := []slack.Option{
		slack.OptionAPIURL(c.SlackAPIURL),
		slack.OptionHTTPClient(slackHTTPClient()),
	}
	if c.SlackAppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(c.SlackAppToken))
	}
	api := slack.New(c.SlackBotToken, opts...)
	out := w.out
	if out == nil {
		out = &bot.SlackPoster{API: api, Log: log}
	}
	// Slack first: a bot that cannot reach it does not serve, and leaves
	// no database behind.
	ws := w.workspace
	if ws == nil {
		found, err := whoami(ctx, api, c.SlackAPIURL, c.SlackAppToken, log)
		if err != nil {
			return nil, err
		}
		ws = &found
	}
	store := w.store
	if store == nil {
		if store, err = sqlstore.Open(ctx, c.DatabaseURL, sqlstore.WithClock(w.local)); err != nil {
			return nil, fmt.Errorf("RENEWBOT_DATABASE_URL: %w", err)
		}
	}
	// One clock for everything that stamps or compares times: the
	// database's, so replicas whose clocks differ still agree on when a
	// payment may be settled or a request has expired.
	now := store.Now
	policy := &renew.Policy{
		Approvers:    c.Approvers,
		Requesters:   c.Requesters,
		Channels:     c.Channels,
		SelfApproval: c.SelfApproval,
		Approvals:    c.Approvals,
		MaxAmount:    int64(c.MaxAmount),
		TTL:          c.RequestTTL,
	}
	var members bot.ChannelMembers
	if c.SlackBotToken != "" { // the console has no Slack to ask
		policy.Directory = &bot.Groups{API: api, TTL: c.GroupsTTL}
		members = &bot.Channels{API: api, TTL: c.GroupsTTL}
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
		Now:         now,
		Budget:      c.budget(),
	}
	account := &renew.Account{OVH: ovh, Concurrency: c.OVHConcurrency, Now: now}
	rn.Lookup = account.Services
	pool := bot.NewPool(c.Workers, c.Queue, 3*time.Minute)
	b := bot.New(bot.Config{
		Renewer:  rn,
		Out:      out,
		Pool:     pool,
		Log:      log,
		Now:      now,
		Optional: optional,
		Sandbox:  c.sandbox(),

		AuditChannel: c.AuditChannel,
		Account:      account,
		Observer:     m,
		Workspace:    *ws,
		Events:       store,
		Home:         bot.HomeConfig{Log: store, Channel: c.homeChannel()},
		Members:      members,
		Limits:       w.limits,
	})
	reminders := &renew.Reminders{Account: account, Log: store, Thresholds: c.ReminderDays, Now: now}
	return &app{store: store, renewer: rn, bot: b, pool: pool, log: log, reminders: reminders, metrics: m, holder: holder(), api: api}, nil
}

func serve(ctx context.Context, d deps, stderr io.Writer) error {
	c, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	a, err := build(ctx, bg, c, log, wiring{local: d.now, limits: d.limits})
	if err != nil {
		return err
	}
	defer a.store.Close()

	servers, err := a.listen(c, d.maxConns)
	if err != nil {
		return err
	}

	go a.redraw(bg)
	go a.background(bot.Background(bg), c.Sweep)
	go a.bot.ServeHome(bg)
	go a.countStates(bg, c.Sweep)
	if c.ReminderChannel != "" {
		go a.remind(bg, c.ReminderChannel, c.reminderAt())
	}

	slackCtx, stopSlack := context.WithCancel(ctx)
	defer stopSlack()
	errc := make(chan error, 1+len(servers))
	for _, s := range servers {
		go func() { errc <- s.serve() }()
	}
	socketDone := make(chan struct{})
	if c.SlackAppToken != "" {
		log.Info("serving Slack over Socket Mode")
		go func() {
			defer close(socketDone)
			if err := a.bot.ServeSocketMode(slackCtx, bot.NewSocketClient(a.api, log)); err != nil {
				errc <- err
			}
		}()
	} else {
		close(socketDone)
	}
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down: no new requests, finishing work in flight")
	stopSlack() // closes the websocket: Slack sends new envelopes to other replicas
	<-socketDone
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	stopBG()
	if err := a.pool.Close(sctx); err != nil {
		log.Warn("work in flight did not finish in time", "error", err)
	}
	if err := a.bot.Drain(sctx); err != nil {
		log.Warn("background messages lost at shutdown", "error", err)
	}
	log.Info("stopped")
	return failed
}

// background settles what a previous run left half done, then sweeps
// expired requests. With several replicas on one database, only the
// holder of the "background" lease works; another takes over within a few
// periods when it dies.
func (a *app) background(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	held := false
	defer func() {
		// Stopping cleanly: let another replica take over at its next
		// sweep rather than when the lease runs out.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := a.store.Release(ctx, "background", a.holder); err != nil {
			a.log.Warn("release background lease", "error", err)
		}
	}()
	for {
		// Follow the database's clock as this machine's drifts.
		if err := a.store.SyncClock(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("read the database clock", "error", err)
		}
		a.gauges(ctx) // every replica: each one's /metrics tells
		ok, err := a.store.Lease(ctx, "background", a.holder, 5*every)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("background lease", "error", err)
		case ok && !held:
			a.log.Info("background work: this replica took the lease", "holder", a.holder)
		case !ok && held:
			a.log.Info("background work: lease lost to another replica")
		}
		held = ok && err == nil
		if held {
			if _, err := a.renewer.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("expire due requests", "error", err)
			}
			if _, err := a.renewer.ReconcileAll(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("reconcile", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// redraw brings the messages of unfinished requests up to date, in the
// background: every replica does it at start, since its own crash may
// have lost an update, and it must not hold up the sweeps.
func (a *app) redraw(ctx context.Context) {
	if err := a.bot.RefreshUnfinished(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("redraw unfinished requests", "error", err)
	}
}

// whoami asks Slack which workspace, enterprise and app the bot token
// belongs to: the bot serves requests from there only. The app id comes
// from bots.info, else from the app-level token (xapp-1-APPID-…); when
// neither says, api_app_id is not checked (the signing secret is the
// app's own anyway).
func whoami(ctx context.Context, api *slack.Client, apiURL, appToken string, log *slog.Logger) (bot.Workspace, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		return bot.Workspace{}, slackAuthError(err, apiURL)
	}
	ws := bot.Workspace{TeamID: auth.TeamID, EnterpriseID: auth.EnterpriseID}
	if auth.BotID != "" {
		if b, err := api.GetBotInfoContext(ctx, slack.GetBotInfoParameters{Bot: auth.BotID}); err == nil {
			ws.AppID = b.AppID
		} else {
			log.Info("bots.info failed; the app id comes from the app-level token if any", "error", bot.SlackErrorCode(err))
		}
	}
	if ws.AppID == "" {
		if parts := strings.Split(appToken, "-"); len(parts) > 2 && parts[0] == "xapp" && strings.HasPrefix(parts[2], "A") {
			ws.AppID = parts[2]
		}
	}
	if ws.AppID == "" {
		log.Warn("the app id is unknown: api_app_id is not checked (add the users:read scope so bots.info can tell it)")
	}
	log.Info("serving one workspace", "team", ws.TeamID, "enterprise", ws.EnterpriseID, "app", ws.AppID)
	return ws, nil
}

// remind posts the reminder digest every day at the configured time.
func (a *app) remind(ctx context.Context, channel string, at renew.DailyAt) {
	a.log.Info("reminders on", "channel", channel, "at", at.String(), "days", a.reminders.Thresholds)
	a.reminders.Leader = func(ctx context.Context) bool {
		ok, err := a.store.Lease(ctx, "reminders", a.holder, time.Hour)
		if err != nil {
			a.log.Warn("reminders lease", "error", err)
		}
		return ok
	}
	post := func(ctx context.Context, rs []renew.Reminder) error { return a.bot.PostDigest(ctx, channel, rs) }
	failed := func(err error) { a.log.Warn("reminder digest", "error", err) }
	if err := a.reminders.Run(ctx, at, post, failed); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Error("reminders stopped", "error", err)
	}
}

// ovhConfig is the OVHcloud client's configuration: the credentials of
// the environment, or the sandbox.
func ovhConfig(c Config) ovhcloud.Config {
	if c.sandbox() {
		return sandboxOVH(c.OVHTimeout)
	}
	return ovhcloud.Config{
		Endpoint:          c.OVHEndpoint,
		ApplicationKey:    c.OVHApplicationKey,
		ApplicationSecret: c.OVHApplicationSecret,
		ConsumerKey:       c.OVHConsumerKey,
		ClientID:          c.OVHClientID,
		ClientSecret:      c.OVHClientSecret,
		AccessToken:       c.OVHAccessToken,
		TokenURL:          c.OVHTokenURL,
		Timeout:           c.OVHTimeout,
	}
}

// sandboxAccount makes the account the sandbox serves. A test replaces
// it to see the calls the sandbox gets.
var sandboxAccount = ovhfake.SampleAccount

// sandboxOVH is an OVHcloud client for OVH_ENDPOINT=sandbox: the real
// adapter talking, in the process, to the fake account the tests use.
func sandboxOVH(timeout time.Duration) ovhcloud.Config {
	fake := sandboxAccount(time.Now())
	fake.StatusStep = 20 * time.Second // checking, delivering, delivered
	return ovhcloud.Config{
		Endpoint:    ovhfake.SandboxURL,
		AccessToken: "sandbox",
		Timeout:     timeout,
		HTTPClient:  &http.Client{Transport: forgetful(fake)},
	}
}

// remind posts the reminder digest that is due now, once: what was posted
// is remembered in the store, so running it again (a cron job, a restart,
// a second replica) repeats nothing. With --dry-run it prints the digest
// instead, and changes nothing.
func remind(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dry := false
	switch {
	case len(args) == 1 && args[0] == "--dry-run":
		dry = true
	case len(args) != 0:
		return errors.New("usage: renewbot remind [--dry-run]")
	}
	c, err := loadEnv()
	if err != nil {
		return err
	}
	var out bot.Poster = &printer{out: stdout}
	if !dry {
		if err := c.validateSlack(); err != nil {
			return err
		}
		if c.ReminderChannel == "" {
			return errors.New("RENEWBOT_REMINDER_CHANNEL: required to post the digest (or use --dry-run)")
		}
		out = nil // Slack
	}
	if err := c.validate(); err != nil {
		return err
	}
	log := newLogger(c, stderr)
	w := wiring{out: out, workspace: &bot.Workspace{}} // the digest is posted, never answered: no workspace to serve
	noDatabase := ""
	if dry {
		// As it is: a dry run creates, migrates and remembers nothing.
		st, done, why, err := dryRunStore(ctx, c.DatabaseURL)
		if err != nil {
			return fmt.Errorf("RENEWBOT_DATABASE_URL: %w", err)
		}
		defer done()
		w.store, noDatabase = st, why
	}
	a, err := build(ctx, context.Background(), c, log, w)
	if err != nil {
		return err
	}
	if !dry {
		defer a.store.Close()
	}
	defer a.pool.Close(context.Background())
	if dry {
		due, err := a.reminders.Due(ctx)
		if err != nil {
			return err
		}
		if noDatabase != "" {
			noDatabase = " (" + noDatabase + ": nothing is remembered yet)"
		}
		if len(due) == 0 {
			_, err = fmt.Fprintf(stdout, "Nothing to remind (thresholds %s days)%s: no digest would be posted.\n", days(c.ReminderDays), noDatabase)
			return err
		}
		// The digest as it would read, then what would happen.
		if err := a.bot.PostDigest(ctx, c.ReminderChannel, due); err != nil {
			return err
		}
		where := "in " + c.ReminderChannel
		if c.ReminderChannel == "" {
			where = "in RENEWBOT_REMINDER_CHANNEL (not set)"
		}
		_, err = fmt.Fprintf(stdout, "\nDry run: %s due (thresholds %s days)%s; this digest would be posted %s. Nothing was posted or remembered.\n",
			count(len(due), "reminder"), days(c.ReminderDays), noDatabase, where)
		return err
	}
	posted, err := a.reminders.Once(ctx, func(ctx context.Context, rs []renew.Reminder) error {
		return a.bot.PostDigest(ctx, c.ReminderChannel, rs)
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s posted in %s\n", count(len(posted), "reminder"), c.ReminderChannel)
	return err
}

// dryRunStore opens the database of rawURL as it is, without creating or
// migrating it. With no SQLite file there, nothing was ever remembered:
// it opens an empty store in a temporary directory instead, and says why
// ("no database at renewbot.db"). done closes the store and removes that
// directory.
func dryRunStore(ctx context.Context, rawURL string) (st *sqlstore.Store, done func(), why string, err error) {
	st, err = sqlstore.Open(ctx, rawURL, sqlstore.Existing(), sqlstore.NoMigrate())
	if err == nil {
		return st, func() { st.Close() }, "", nil
	}
	if !errors.Is(err, sqlstore.ErrNoDatabase) {
		return nil, nil, "", err
	}
	why = err.Error()
	dir, err := os.MkdirTemp("", "renewbot-remind-")
	if err != nil {
		return nil, nil, "", err
	}
	if st, err = sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "renewbot.db")); err != nil {
		os.RemoveAll(dir)
		return nil, nil, "", err
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }, why, nil
}

// count writes a number of things: "1 reminder", "2 reminders".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// days writes thresholds as "30, 7, 1".
func days(d Days) string {
	s := make([]string, len(d))
	for i, n := range d {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// gauges refreshes the gauges that read the database, here in the
// background, so that a scrape of /metrics never does.
func (a *app) gauges(ctx context.Context) {
	if !a.renewer.Budget.Set() {
		return
	}
	s, err := a.renewer.Spending(ctx, a.renewer.ThisMonth())
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("budget gauge", "error", err)
		}
		return
	}
	left, _ := s.Left()
	a.metrics.BudgetRemaining(left)
}
