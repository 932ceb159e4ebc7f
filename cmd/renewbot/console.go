package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/bot/console"
)

// consoleUser is who acts when the console starts.
const consoleUser = "alice"

// runConsole is `renewbot console`: the bot on a terminal, with nothing
// to configure. It is a sandbox, always: the sample OVHcloud account
// simulated in the process and a temporary SQLite file, whatever
// OVH_ENDPOINT and RENEWBOT_DATABASE_URL say, so that it can neither
// spend money nor touch the team's requests (nor compete for their
// background lease). Lines come from stdin; the bot's messages go to
// stdout and its logs to stderr.
func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("console takes no arguments; its settings come from the environment (see renewbot help)")
	}
	c, ignored, err := consoleConfig()
	if err != nil {
		return err
	}
	// A fresh database each run, so the sandbox always starts clean.
	dir, err := os.MkdirTemp("", "renewbot-console-")
	if err != nil {
		return fmt.Errorf("console: temporary database: %w", err)
	}
	defer os.RemoveAll(dir)
	c.DatabaseURL = "sqlite:" + filepath.Join(dir, "renewbot.db")
	if err := c.validate(); err != nil {
		return err
	}
	log := newLogger(c, stderr)

	con, err := console.New(console.Config{
		Out:   stdout,
		User:  consoleUser,
		Known: append(slices.Clone(c.Approvers), c.Requesters...), // group ids are ignored there
		ANSI:  terminal(stdout) && os.Getenv("NO_COLOR") == "",
		// Piped input shows nowhere: echo it, so the output reads as a
		// session.
		Echo: !terminal(stdin),
	})
	if err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	c.HomeChannel = con.Channel() // Renew… on the Home tab posts in the console's channel
	a, err := build(ctx, bg, c, log, wiring{out: con, workspace: &bot.Workspace{TeamID: console.TeamID}})
	if err != nil {
		return err
	}
	defer a.store.Close()
	go a.background(bg, c.Sweep)
	go a.bot.ServeHome(bg)

	banner(stdout, c, ignored)
	err = con.Run(ctx, a.bot, stdin)

	// Following a paid order's status is optional; a payment in flight
	// is not: let it finish, within bounds.
	stopBG()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if cerr := a.pool.Close(sctx); cerr != nil {
		log.Warn("work in flight did not finish in time", "error", cerr)
	}
	return err
}

// consoleConfig reads the environment like serve does, with what the
// console never takes from it: OVHcloud is the sandbox and the database a
// temporary file (set by runConsole). ignored names the variables set but
// left unused for that reason. Logs are quiet, since they share the
// terminal, and Slack's variables are not needed: the console is its own
// Slack.
func consoleConfig() (c Config, ignored []string, err error) {
	c, err = loadEnv()
	if err != nil {
		return c, nil, err
	}
	if v := os.Getenv("OVH_ENDPOINT"); v != "" && v != "sandbox" {
		ignored = append(ignored, "OVH_ENDPOINT")
	}
	if os.Getenv("RENEWBOT_DATABASE_URL") != "" {
		ignored = append(ignored, "RENEWBOT_DATABASE_URL")
	}
	c.OVHEndpoint = "sandbox"
	c.OVHApplicationKey, c.OVHApplicationSecret, c.OVHConsumerKey = "", "", ""
	c.OVHClientID, c.OVHClientSecret, c.OVHAccessToken = "", "", ""
	c.DatabaseURL = ""
	c.SlackBotToken, c.SlackAppToken = "", "" // nor the team's Slack
	if os.Getenv("LOG_LEVEL") == "" {
		c.LogLevel = "warn"
	}
	// One channel, the console's: a RENEWBOT_CHANNELS list for Slack
	// would refuse every command.
	c.Channels = nil
	return c, ignored, nil
}

// banner says where the console runs and what to type.
func banner(w io.Writer, c Config, ignored []string) {
	var b strings.Builder
	b.WriteString("renewbot console: the Slack flow in your terminal, through the same bot.\n")
	b.WriteString("OVHcloud: sandbox, a sample account simulated in this process. Nothing is ordered or paid for real.\n")
	if c.DryRun {
		b.WriteString("Dry run: orders are priced, never paid.\n")
	}
	b.WriteString("Database: a temporary SQLite file, removed when you leave.\n")
	if len(ignored) > 0 {
		fmt.Fprintf(&b, "Ignored: %s. The console is always a sandbox; the real bot is `renewbot` with Slack.\n", strings.Join(ignored, " and "))
	}
	b.WriteString("\n" + console.Usage)
	id, _ := console.UserID(consoleUser)
	fmt.Fprintf(&b, "\nYou are @%s (%s) in #console.\n", consoleUser, id)
	_, _ = io.WriteString(w, b.String())
}

// terminal reports whether f is a terminal rather than a pipe or a file.
func terminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
