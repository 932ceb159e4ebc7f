package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
)

// Handler is what the console drives: *bot.Bot, as every transport does.
type Handler interface {
	Command(ctx context.Context, sc slack.SlashCommand) *bot.Reply
	Interaction(ctx context.Context, cb slack.InteractionCallback) *bot.Reply
}

// Usage lists what the console understands.
const Usage = `  /renew list              the services that expire soon
  /renew web-front         renew a service (try web-front 1y, storage-1, example.com website)
  /renew help              what renewbot can do
  1, 2, 3…                 click the button or menu option with that number
  as bob                   act as someone else: a teammate must approve
  home                     open your Home tab: what waits for you, what expires, what this month cost
  show                     show the channel's messages again
  help                     this help
  quit                     leave (or Ctrl-D)
`

// Run reads lines from in and acts on them as the current user until in
// ends, "quit", or ctx ends. Each action waits for the bot's answer
// before the next line is read.
func (c *Console) Run(ctx context.Context, h Handler, in io.Reader) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()

	var ask *dialog // a question waiting for its answer
	for {
		if ask == nil {
			ask = c.opened()
		}
		c.prompt(ask)
		var line string
		select {
		case <-ctx.Done():
			c.note("")
			return nil
		case l, ok := <-lines:
			if !ok {
				c.note("")
				return <-readErr
			}
			line = strings.TrimSpace(l)
		}
		c.echoed(line)

		if ask != nil {
			var answered bool
			ask, answered = c.answer(ctx, h, ask, line)
			if answered {
				continue
			}
		}

		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(word) {
		case "":
		case "/renew", "renew":
			c.leaveHome()
			c.command(ctx, h, rest)
		case "as":
			c.leaveHome()
			c.switchUser(rest)
		case "home":
			c.home(ctx, h)
		case "show":
			c.leaveHome()
			c.showAll()
		case "help", "?":
			c.note("%s", strings.TrimRight(Usage, "\n"))
		case "quit", "exit", "q":
			return nil
		default:
			n, err := strconv.Atoi(line)
			switch {
			case err == nil:
				click, ok := c.clickable(n)
				switch {
				case !ok:
					c.note("There is no [%d] on screen. Type show to see the messages again.", n)
				case click.elem.Confirm != nil:
					cf := click.elem.Confirm
					c.note("%s\n%s\n[y] %s   [n] %s", c.bold(cf.Title), cf.Text, cf.Yes, cf.No)
					ask = &dialog{click: &click, yes: cf.Yes, no: cf.No, field: -1}
				default:
					c.click(ctx, h, click)
				}
			case strings.HasPrefix(word, "/"):
				c.note("Only /renew works here. Type help for the console's commands.")
			default:
				c.note("I don't know %q. Type /renew help, or help for the console's commands.", word)
			}
		}
	}
}

// isCommand reports whether line is one of the console's commands, which
// closes a dialog and runs, as a click elsewhere closes Slack's.
func isCommand(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	switch strings.ToLower(word) {
	case "/renew", "renew", "as", "home", "show", "help", "?", "quit", "exit", "q":
		return true
	}
	_, err := strconv.Atoi(line)
	return err == nil || strings.HasPrefix(word, "/")
}

// answer takes line as the answer to ask. It returns the next question,
// if any, and whether line was an answer: a console command is not, and
// closes the dialog; a button number is asked again.
func (c *Console) answer(ctx context.Context, h Handler, ask *dialog, line string) (*dialog, bool) {
	if ask.field >= 0 {
		f := ask.fields[ask.field]
		ask.values[f.block] = map[string]slack.BlockAction{f.action: {Type: slack.ActionType(f.typ), Value: line}}
		return c.proceed(ctx, h, ask), true
	}
	switch strings.ToLower(line) {
	case "y", "yes", strings.ToLower(ask.yes):
		if ask.click != nil {
			c.click(ctx, h, *ask.click)
			return nil, true
		}
		return c.proceed(ctx, h, ask), true
	case "n", "no", "", strings.ToLower(ask.no): // Enter: the safe answer
		c.note("%s: %s", ask.no, ask.closed())
		return nil, true
	}
	if _, err := strconv.Atoi(line); err == nil {
		// A button number is no answer to a dialog: a slip here must not
		// click a button behind it (and create an order).
		c.note("Type y for %s, or n for %s: answer this dialog before clicking [%s].", ask.yes, ask.no, line)
		return ask, true
	}
	if isCommand(line) {
		c.note("%s: %s", ask.no, ask.closed())
		return nil, false
	}
	// Anything else is asked again, in one line.
	c.note("Type y for %s, or n for %s.", ask.yes, ask.no)
	return ask, true
}

// proceed asks a dialog's next input, or submits the dialog once each has
// its answer.
func (c *Console) proceed(ctx context.Context, h Handler, ask *dialog) *dialog {
	ask.field++
	if ask.field < len(ask.fields) {
		c.note("%s", ask.fields[ask.field].question)
		return ask
	}
	c.submit(ctx, h, ask)
	return nil
}

// prompt shows who acts, or what the open dialog waits for.
func (c *Console) prompt(ask *dialog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.promptText()
	switch {
	case ask == nil:
	case ask.field >= 0:
		p = c.bold(ask.fields[ask.field].prompt+">") + " "
	default:
		p = c.bold("y/n>") + " "
	}
	_, _ = io.WriteString(c.out, p)
	c.prompted = true
}

// echoed records that a line was read: a terminal showed it already, a
// pipe did not.
func (c *Console) echoed(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompted = false
	if c.echo {
		_, _ = io.WriteString(c.out, line+"\n")
	}
}

// TeamID is the console's workspace: every command and click comes from
// it.
const TeamID = "T0CONSOLE1"

// command runs "/renew text" as the current user in the channel.
func (c *Console) command(ctx context.Context, h Handler, text string) {
	c.mu.Lock()
	user := c.user
	sc := slack.SlashCommand{
		TeamID:      TeamID,
		TeamDomain:  "console",
		ChannelID:   c.channel,
		ChannelName: c.channelName,
		UserID:      user,
		UserName:    strings.TrimPrefix(c.userName(user), "@"),
		Command:     "/renew",
		Text:        text,
		TriggerID:   c.trigger(user),
	}
	c.mu.Unlock()

	since, began := c.mark(), time.Now()
	reply := h.Command(ctx, sc)
	// An empty ack, or one that announces work ("Looking up…"), promises
	// a message to come; any other reply is the whole answer.
	expect := reply == nil || working(reply.Text)
	if reply != nil {
		c.reply(user, reply)
	}
	c.settle(ctx, since, began, expect)
}

// reply shows the immediate answer to a command or a click: in the
// channel when Slack would post it there, else to its user only.
func (c *Console) reply(user string, r *bot.Reply) {
	if r.Text == "" && len(r.Blocks) == 0 {
		return
	}
	m := bot.Message{Text: r.Text, Blocks: r.Blocks}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.ResponseType == slack.ResponseTypeInChannel {
		c.post(c.channel, m)
		return
	}
	c.ephemeral(c.channel, user, m)
}

// clickable returns what number n clicks: the element it was given to,
// while its message shows it with that number. A number the screen no
// longer shows clicks nothing, even when its button is shown under a new
// one.
func (c *Console) clickable(n int) (clickable, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts, key, _ := strings.Cut(c.clicks[n], "\x00")
	msg, ok := c.msgs[ts]
	if !ok {
		return clickable{}, false
	}
	for _, e := range msg.elems {
		if e.Key() == key && e.N == n {
			return clickable{ts: ts, elem: e}, true
		}
	}
	return clickable{}, false
}

// click sends the block_actions callback Slack would send for a click on
// cl as the current user, and waits for the bot's answer.
func (c *Console) click(ctx context.Context, h Handler, cl clickable) {
	c.mu.Lock()
	msg := c.msgs[cl.ts]
	user := c.user
	now := time.Now()
	actionTS := fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	act := &slack.BlockAction{
		ActionID: cl.elem.ActionID,
		BlockID:  cl.elem.BlockID,
		Type:     slack.ActionType(cl.elem.Type),
		Value:    cl.elem.Value,
		ActionTs: actionTS,
	}
	if cl.elem.Option != nil {
		act.SelectedOption = *cl.elem.Option
	} else {
		act.Text = slack.TextBlockObject{Type: slack.PlainTextType, Text: cl.elem.Label}
	}
	cb := slack.InteractionCallback{
		Type:      slack.InteractionTypeBlockActions,
		TriggerID: c.trigger(user),
		ActionTs:  actionTS,
		Team:      slack.Team{ID: TeamID, Domain: "console"},
		User:      slack.User{ID: user, TeamID: TeamID, Name: strings.TrimPrefix(c.userName(user), "@")},
		Container: slack.Container{
			Type:        "message",
			MessageTs:   msg.ts,
			ChannelID:   msg.channel,
			IsEphemeral: msg.ephemeral != "",
		},
		Message: slack.Message{Msg: slack.Msg{
			Type:      "message",
			Channel:   msg.channel,
			Timestamp: msg.ts,
			Text:      msg.text,
			Blocks:    slack.Blocks{BlockSet: msg.blocks},
		}},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{act}},
	}
	cb.Channel.ID = msg.channel
	if msg.channel == c.channel {
		cb.Channel.Name = c.channelName
	}
	if msg.home != "" {
		c.homeClick(msg, &cb)
	} else {
		c.homeLive = "" // looking at the channel now
	}
	c.mu.Unlock()

	since, began := c.mark(), time.Now()
	if r := h.Interaction(ctx, cb); r != nil {
		c.reply(user, r)
	}
	// Every click gets an answer: the message changes, or the clicker is
	// told why not.
	c.settle(ctx, since, began, true)
}

// trigger makes a trigger id for an action of user, with which the bot
// may open a modal for them. Callers hold mu.
func (c *Console) trigger(user string) string {
	id := fmt.Sprintf("console.%d.%d", c.start, len(c.triggers)+1)
	c.triggers[id] = user
	return id
}

// switchUser makes name the acting user.
func (c *Console) switchUser(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompted = false
	if name == "" {
		fmt.Fprintf(c.out, "You are %s (%s). Type as bob to act as bob.\n", c.userName(c.user), c.user)
		return
	}
	// The prompt shows users as @alice: "as @bob" is "as bob".
	id, err := c.addUser(strings.TrimPrefix(name, "@"))
	if err != nil {
		fmt.Fprintf(c.out, "%s.\n", upper(err.Error()))
		return
	}
	c.user = id
	fmt.Fprintf(c.out, "You are now %s (%s).\n", c.userName(id), id)
	if !c.known[id] {
		fmt.Fprintln(c.out, c.newUserNotice(id))
		c.known[id] = true
	}
}

// leaveHome: the user looks at the channel again, not at their Home tab.
func (c *Console) leaveHome() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.homeLive = ""
}

// showAll prints the latest state of every channel message again.
func (c *Console) showAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompted = false
	if len(c.order) == 0 {
		fmt.Fprintln(c.out, "No message yet. Try /renew list or /renew web-front.")
		return
	}
	for _, ts := range slices.Clone(c.order) {
		m := c.msgs[ts]
		c.show(m, fmt.Sprintf("renewbot · message %d", m.n), bot.Message{Text: m.text, Blocks: m.blocks}, false)
	}
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
