// Package console is renewbot's terminal transport: a virtual Slack
// channel on a terminal. It reads "/renew web-front" and button numbers
// from a reader, turns them into the slack.SlashCommand and
// slack.InteractionCallback Slack would send, hands them to the same
// bot.Bot that serves Slack, and prints what the bot posts, updates and
// answers ephemerally as text ("[1] Choose").
//
// Console is the bot's bot.Poster; Run is the read-eval-print loop.
// Render, the Block Kit to text renderer, is a pure function.
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
)

// Config holds what a Console needs; only Out is required.
type Config struct {
	Out io.Writer
	// Channel is the id of the virtual channel (default C0CONSOLE1), and
	// ChannelName its name (default console).
	Channel     string
	ChannelName string
	// User is who acts first: a name such as alice (the default) or a
	// Slack user id.
	User string
	// Known are users the console knows without anyone acting as them
	// (names or ids: the configured approvers and requesters), besides
	// its sample team, alice, bob and carol. Switching to anyone else
	// the first time prints a notice: "as bbo" is likely a typo.
	Known []string
	// ANSI shows bold and dim with terminal escapes.
	ANSI bool
	// Echo prints each line read after the prompt, so that a transcript
	// of piped input reads like a session.
	Echo bool
	// Quiet is how long the bot must stay silent after an action before
	// the console prompts again (default 250ms); Wait bounds that wait
	// (default 60s): past it, the answer shows whenever it comes.
	Quiet time.Duration
	Wait  time.Duration
}

// Console is a virtual channel on a terminal. It is safe for concurrent
// use: the bot posts from its workers while Run reads input.
type Console struct {
	out                  io.Writer
	channel, channelName string
	ansi, echo           bool
	quiet, wait          time.Duration
	start                int64 // seconds of the first ts, so ts look like Slack's

	mu       sync.Mutex
	user     string            // the acting user's id
	names    map[string]string // user id -> name, for @mentions
	known    map[string]bool   // user ids met or configured (users.go)
	msgs     map[string]*message
	order    []string  // ts of channel messages, in posting order
	posted   int       // channel messages, numbered for the reader
	stamps   int       // ts given, channel and ephemeral messages alike
	seq      int       // outputs of the bot so far (its Poster calls)
	last     time.Time // when the last one came
	changed  chan struct{}
	numbers  map[string]int // ts + element key -> its number
	next     int
	clicks   map[int]string    // number -> the ts + element key it was given to, for good
	triggers map[string]string // trigger id -> the user who acted
	views    []openedView      // modals the bot opened, to show at the next prompt
	prompted bool              // the prompt is the last thing printed
	homeLive string            // the user looking at their Home tab, if any
	events   int               // Events API events sent, for their ids
}

// message is one message of the virtual channel, or an ephemeral answer.
type message struct {
	ts        string
	n         int // "message n" to the reader
	channel   string
	ephemeral string // the user who sees it, for an ephemeral message
	home      string // the user whose Home view it is, for a Home view
	text      string
	blocks    []slack.Block
	elems     []Element
	body      string // as last printed in full, to show an edit's changes only
	seq       int    // output that last rendered it
}

type clickable struct {
	ts   string
	elem Element
}

var _ bot.Poster = (*Console)(nil)

// New returns a Console writing to c.Out.
func New(c Config) (*Console, error) {
	if c.Out == nil {
		return nil, fmt.Errorf("console: no output")
	}
	if c.Channel == "" {
		c.Channel = "C0CONSOLE1"
	}
	if c.ChannelName == "" {
		c.ChannelName = "console"
	}
	if c.User == "" {
		c.User = "alice"
	}
	if c.Quiet <= 0 {
		c.Quiet = 250 * time.Millisecond
	}
	if c.Wait <= 0 {
		c.Wait = 60 * time.Second
	}
	con := &Console{
		out: c.Out, channel: c.Channel, channelName: c.ChannelName, ansi: c.ANSI, echo: c.Echo,
		quiet: c.Quiet, wait: c.Wait, start: time.Now().Unix(),
		names: map[string]string{}, msgs: map[string]*message{}, changed: make(chan struct{}),
		numbers: map[string]int{}, clicks: map[int]string{}, triggers: map[string]string{},
	}
	con.names[c.Channel] = c.ChannelName // <#C0CONSOLE1> reads #console
	id, err := con.addUser(c.User)
	if err != nil {
		return nil, err
	}
	con.user = id
	con.known = knownUsers(append(c.Known, c.User))
	return con, nil
}

// Channel is the id of the virtual channel.
func (c *Console) Channel() string { return c.channel }

// addUser registers a name (or an id) and returns the user's id. Callers
// hold mu, or own c alone.
func (c *Console) addUser(name string) (string, error) {
	id, err := UserID(name)
	if err != nil {
		return "", err
	}
	if id != name {
		c.names[id] = strings.ToLower(name)
	}
	return id, nil
}

// userName is how a user reads: @alice, or @U0XYZ for an id without name.
func (c *Console) userName(id string) string {
	if n, ok := c.names[id]; ok {
		return "@" + n
	}
	if n, ok := nameOf(id); ok {
		return "@" + n
	}
	return "@" + id
}

// Post shows a new channel message.
func (c *Console) Post(ctx context.Context, channel string, m bot.Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg := c.post(channel, m)
	c.heard(msg)
	return msg.ts, nil
}

// post shows a new channel message. Callers hold mu.
func (c *Console) post(channel string, m bot.Message) *message {
	c.posted++
	ts := c.stamp()
	msg := &message{ts: ts, n: c.posted, channel: channel}
	c.msgs[ts] = msg
	c.order = append(c.order, ts)
	title := "renewbot · message " + fmt.Sprint(msg.n)
	if m.ThreadTS != "" {
		if parent, ok := c.msgs[m.ThreadTS]; ok {
			title += fmt.Sprintf(", in the thread of message %d", parent.n)
		}
	}
	if channel != c.channel {
		title += " in #" + channel
	}
	c.show(msg, title, m, false)
	return msg
}

// Update shows a message again, as it now reads.
func (c *Console) Update(ctx context.Context, channel, ts string, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg, ok := c.msgs[ts]
	if !ok || msg.channel != channel || msg.ephemeral != "" {
		// What Slack answers, so the bot takes the same path as in Slack.
		return slack.SlackErrorResponse{Err: "message_not_found"}
	}
	c.show(msg, fmt.Sprintf("renewbot · message %d, edited", msg.n), m, true)
	c.heard(msg)
	return nil
}

// Ephemeral shows an answer only its user would see in Slack.
func (c *Console) Ephemeral(ctx context.Context, to bot.Target, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.heard(c.ephemeral(to.Channel, to.User, m))
	return nil
}

// ephemeral shows an ephemeral message. Callers hold mu.
func (c *Console) ephemeral(channel, user string, m bot.Message) *message {
	msg := &message{ts: c.stamp(), channel: channel, ephemeral: user}
	c.msgs[msg.ts] = msg
	c.show(msg, "renewbot, only visible to "+c.userName(user), m, false)
	return msg
}

// heard counts an output of the bot's own (not a reply the console
// prints, nor a message shown again), for settle. Callers hold mu.
func (c *Console) heard(msg *message) {
	c.tick()
	msg.seq = c.seq
}

// tick counts an output of the bot's, for settle. Callers hold mu.
func (c *Console) tick() {
	c.seq++
	c.last = time.Now()
	close(c.changed)
	c.changed = make(chan struct{})
}

// stamp returns a new message ts, written like Slack's. Callers hold mu.
func (c *Console) stamp() string {
	c.stamps++
	return fmt.Sprintf("%d.%06d", c.start, c.stamps)
}

// show renders msg with its new content m and prints it under title; an
// edit that changes a line or two prints those lines only. Callers hold
// mu.
func (c *Console) show(msg *message, title string, m bot.Message, edit bool) {
	msg.text, msg.blocks = m.Text, m.Blocks
	var body string
	if len(m.Blocks) > 0 {
		_, shown := Render(m.Blocks, Options{})
		nums := c.number(msg.ts, shown)
		body, msg.elems = Render(m.Blocks, Options{Users: c.names, ANSI: c.ansi, Number: func(e Element) int {
			return nums[e.Key()]
		}})
	} else {
		body, msg.elems = Mrkdwn(m.Text, c.names, c.bold), nil
	}

	var b strings.Builder
	if c.prompted {
		b.WriteString("\n") // leave the prompt's line
	}
	body = strings.TrimRight(body, "\n")
	changed, small := changes(msg.body, body)
	gutter := c.dim("│") + " "
	switch {
	case edit && small && len(changed) == 0:
		// Nothing the reader would see changed.
		b.Reset()
	case msg.ephemeral != "" && len(m.Blocks) == 0 && !strings.Contains(body, "\n"):
		// A one-line answer reads best on one line.
		fmt.Fprintf(&b, "\n%s: %s\n", c.dim(title), body)
	case len(msg.elems) == 0 && len(m.Blocks) > 0 && working(m.Text) && msg.ephemeral == "":
		// A passing state ("creating the order…") is one line: its full
		// message follows in a moment.
		fmt.Fprintf(&b, "\n%s: %s\n", c.dim(title), Mrkdwn(m.Text, c.names, c.bold))
	case edit && small:
		fmt.Fprintf(&b, "\n%s\n%s…\n", c.dim(title), gutter)
		for _, l := range changed {
			b.WriteString(strings.TrimRight(gutter+l, " ") + "\n")
		}
		msg.body = body
	default:
		fmt.Fprintf(&b, "\n%s\n", c.dim(title))
		for _, l := range strings.Split(body, "\n") {
			b.WriteString(strings.TrimRight(gutter+l, " ") + "\n")
		}
		msg.body = body
	}
	if c.prompted && b.Len() > 0 {
		b.WriteString(c.promptText())
	}
	_, _ = io.WriteString(c.out, b.String())
}

// number gives the elements of message ts, listed in display order, their
// numbers. Numbers read in display order, and an element keeps its number
// across edits of its message while that order holds: when an edit would
// break it (an "Approve and pay" shown before a Cancel numbered earlier),
// all the message's elements get new numbers. A number is never given to
// another element, and only the numbers on screen click. Callers hold mu.
func (c *Console) number(ts string, elems []Element) map[string]int {
	keep, last, fresh := true, 0, false
	for _, e := range elems {
		n, ok := c.numbers[ts+"\x00"+e.Key()]
		switch {
		case !ok:
			fresh = true
		case fresh || n <= last:
			keep = false // a new number would come before it, or an old one
		default:
			last = n
		}
	}
	nums := make(map[string]int, len(elems))
	for _, e := range elems {
		key := ts + "\x00" + e.Key()
		n, ok := c.numbers[key]
		if !ok || !keep {
			c.next++
			n = c.next
			c.numbers[key] = n
			c.clicks[n] = key
		}
		nums[e.Key()] = n
	}
	return nums
}

// changes returns the lines of now that differ from before, and whether
// the change is small: the same lines but one or two (a status, a date).
func changes(before, now string) (changed []string, small bool) {
	if before == "" {
		return nil, false
	}
	was, is := strings.Split(before, "\n"), strings.Split(now, "\n")
	if len(was) != len(is) {
		return nil, false
	}
	for i := range is {
		if is[i] != was[i] {
			changed = append(changed, is[i])
		}
	}
	return changed, len(changed) <= 2
}

// working reports whether a notification text announces work under way:
// the bot ends those with "…" ("Renewal of web-front: paying order 1…").
func working(text string) bool { return strings.HasSuffix(strings.TrimSpace(text), "…") }

func (c *Console) bold(s string) string {
	if c.ansi && s != "" {
		return "\x1b[1m" + s + "\x1b[0m"
	}
	return s
}

func (c *Console) dim(s string) string {
	if c.ansi && s != "" {
		return "\x1b[2m" + s + "\x1b[0m"
	}
	return s
}

func (c *Console) promptText() string { return c.bold(c.userName(c.user)+">") + " " }

// settle waits for the bot to finish what an action started: for a first
// output when one is expected, then for Quiet without output while no
// message it touched reads as work under way. The bot works on its own
// goroutines and says nothing when it is done; this is how piped input
// stays in step with it.
func (c *Console) settle(ctx context.Context, since int, began time.Time, expect bool) {
	deadline := began.Add(c.wait)
	for {
		c.mu.Lock()
		got := c.seq > since
		last := c.last
		busy := false
		for _, m := range c.msgs {
			busy = busy || m.seq > since && m.ephemeral == "" && working(m.text)
		}
		changed := c.changed
		c.mu.Unlock()
		if last.Before(began) {
			last = began
		}
		var wait time.Duration
		switch {
		case expect && !got, busy:
			wait = time.Until(deadline)
		case time.Since(last) < c.quiet:
			wait = c.quiet - time.Since(last)
		default:
			return
		}
		if wait <= 0 {
			c.note("renewbot is still working; its answer will show up here.")
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// note prints a line of the console's own, not the bot's.
func (c *Console) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompted = false
	fmt.Fprintf(c.out, format+"\n", args...)
}

// mark returns the count of outputs so far, to settle after.
func (c *Console) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}
