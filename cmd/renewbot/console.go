package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/bot/console"
)

// consoleUser is who acts when the console starts.
const consoleUser = "alice"

// runConsole is `renewbot console`: the bot on a terminal, against the
// sandbox OVHcloud unless OVH_ENDPOINT says otherwise, with nothing to
// configure. Lines come from stdin; the bot's messages go to stdout and
// its logs to stderr.
func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("console takes no arguments; its settings come from the environment (see renewbot help)")
	}
	c, err := consoleConfig()
	if err != nil {
		return err
	}
	database := "RENEWBOT_DATABASE_URL"
	if c.DatabaseURL == "" {
		// A fresh database each run, so the sandbox always starts clean.
		dir, err := os.MkdirTemp("", "renewbot-console-")
		if err != nil {
			return fmt.Errorf("console: temporary database: %w", err)
		}
		defer os.RemoveAll(dir)
		c.DatabaseURL = "sqlite:" + filepath.Join(dir, "renewbot.db")
		database = "a temporary SQLite file, removed when you leave"
	}
	if err := c.validate(); err != nil {
		return err
	}
	log := newLogger(c, stderr)

	con, err := console.New(console.Config{
		Out:  stdout,
		User: consoleUser,
		ANSI: terminal(stdout) && os.Getenv("NO_COLOR") == "",
		// Piped input shows nowhere: echo it, so the output reads as a
		// session.
		Echo: !terminal(stdin),
	})
	if err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	a, err := build(ctx, bg, c, log, wiring{out: con, workspace: &bot.Workspace{TeamID: console.TeamID}})
	if err != nil {
		return err
	}
	defer a.store.Close()
	go a.background(bg, c.Sweep)

	banner(stdout, c, database)
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

// consoleConfig reads the environment like serve does, with the console's
// defaults: the sandbox, a temporary database (DatabaseURL left empty),
// and quiet logs, since they share the terminal. Slack's variables are
// not needed: the console is its own Slack.
func consoleConfig() (Config, error) {
	c, err := loadEnv()
	if err != nil {
		return c, err
	}
	if os.Getenv("OVH_ENDPOINT") == "" {
		c.OVHEndpoint = "sandbox"
	}
	if os.Getenv("RENEWBOT_DATABASE_URL") == "" {
		c.DatabaseURL = ""
	}
	if os.Getenv("LOG_LEVEL") == "" {
		c.LogLevel = "warn"
	}
	// One channel, the console's: a RENEWBOT_CHANNELS list for Slack
	// would refuse every command.
	c.Channels = nil
	return c, nil
}

// banner says where the console runs and what to type.
func banner(w io.Writer, c Config, database string) {
	var b strings.Builder
	b.WriteString("renewbot console: the Slack flow in your terminal, through the same bot.\n")
	if c.sandbox() {
		b.WriteString("OVHcloud: sandbox, a sample account simulated in this process. Nothing is ordered or paid for real.\n")
	} else {
		fmt.Fprintf(&b, "OVHcloud: %s, a REAL account: orders are real, and approved ones are paid.\n", c.OVHEndpoint)
	}
	if c.DryRun {
		b.WriteString("Dry run: orders are priced, never paid.\n")
	}
	fmt.Fprintf(&b, "Database: %s.\n\n", database)
	b.WriteString(console.Usage)
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
