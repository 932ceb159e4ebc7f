// Package bot is renewbot's Slack transport: it verifies and parses what
// Slack sends (slash commands, button clicks), answers within Slack's three
// seconds, runs the renewal flow of package renew in the background, and
// reports through channel messages, message updates and ephemeral answers
// rendered with package bot/blocks.
//
// The same Bot serves Slack's HTTP requests, Socket Mode and the console:
// each transport turns its input into a slack.SlashCommand or a
// slack.InteractionCallback and calls Command or Interaction.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// Bot handles Slack commands and interactions.
type Bot struct {
	renewer *renew.Renewer
	out     Poster
	pool    *Pool
	log     *slog.Logger
	now     func() time.Time
	sandbox bool
	// optional bounds work that may be dropped at shutdown (following an
	// order's status), unlike payments, which finish.
	optional context.Context
	audit    string
	account  *renew.Account
	obs      Observer
	ws       Workspace
	events   EventLog
	home     *home
	members  ChannelMembers

	// One message update at a time per request: the redraw of a request
	// id, while a refresh holds or waits for it, and no longer (lock.go).
	locksMu sync.Mutex
	locks   map[string]*redraw

	// What keeps a flood bounded (refuse.go, pace.go).
	clock    Clock
	pacer    *Pacer      // background messages to Slack
	answers  *Pacer      // answers to refused clicks
	sampled  *sampledLog // refused requests
	refusals *lane       // answers to refused clicks
	later    *lane       // paced background messages
	flood    *floodMeter // requests from Slack, to tell a flood
	jobs     *Pacer      // job starts during a flood
}

// Config holds what a Bot needs.
type Config struct {
	Renewer *renew.Renewer
	Out     Poster
	Pool    *Pool
	Log     *slog.Logger
	Now     func() time.Time // time.Now when nil
	// Sandbox says OVHcloud is simulated: every message says so.
	Sandbox bool
	// Optional, when it ends, stops optional background work (following
	// a paid order's status) so shutdown need not wait for it.
	Optional context.Context
	// Observer hears requests, refusals for lack of room and payments,
	// for metrics; nil for none.
	Observer Observer
	// Account lists the whole account for /renew list; nil disables it.
	Account *renew.Account
	// AuditChannel, when set, gets one line per order created, approved,
	// paid, failed, cancelled or expired.
	AuditChannel string
	// Workspace is the only one whose commands and clicks are served; the
	// zero Workspace serves none.
	Workspace Workspace
	// Events remembers the Events API deliveries handled, so a retried
	// event runs once; nil runs every delivery.
	Events EventLog
	// Home configures the Home tab (see ServeHome).
	Home HomeConfig
	// Members tells who is in a channel: the Home tab shows and acts on
	// the requests of the person's channels only. nil (the console, one
	// channel everyone is in) shows them all.
	Members ChannelMembers
	// Clock paces background messages and samples the log of refused
	// requests; the system's when nil.
	Clock Clock
	// Limits are the rates background messages keep under; SlackLimits
	// when nil.
	Limits *Limits
}

// backgroundQueue bounds the background messages waiting for their turn
// (thread replies, audit lines, redraws after an expiry).
const backgroundQueue = 512

// New returns a Bot and hooks it to the renewer's changes, so every state
// change updates the request's message.
func New(c Config) *Bot {
	b := &Bot{renewer: c.Renewer, out: c.Out, pool: c.Pool, log: c.Log, now: c.Now, sandbox: c.Sandbox, optional: c.Optional, audit: c.AuditChannel, account: c.Account, obs: c.Observer, ws: c.Workspace,
		events: c.Events, home: newHome(c.Home), members: c.Members}
	if b.obs == nil {
		b.obs = nopObserver{}
	}
	if b.optional == nil {
		b.optional = context.Background()
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.clock = c.Clock
	if b.clock == nil {
		b.clock = systemClock{}
	}
	limits := SlackLimits
	if c.Limits != nil {
		limits = *c.Limits
	}
	b.pacer = NewPacer(b.clock, limits)
	b.answers = NewPacer(b.clock, Limits{Methods: map[string]Limit{"refusal": refusalRate}})
	b.sampled = newSampledLog(b.log, b.clock, refusalLogEvery)
	b.refusals = newLane(refusalQueue)
	b.later = newLane(backgroundQueue)
	b.flood = &floodMeter{clock: b.clock}
	b.jobs = NewPacer(b.clock, Limits{Methods: map[string]Limit{"job": floodJobs}})
	if b.pool != nil {
		// Under a flood, the acks first (flood.go).
		b.pool.yieldTo(b.yieldToAcks)
	}
	c.Renewer.Notify = b.changed
	return b
}

// Observer hears what the bot does, for metrics.
type Observer interface {
	// SlackRequest is one request from Slack: kind is command or
	// interaction, outcome ok, unauthorized, bad_request or too_large.
	SlackRequest(kind, outcome string, d time.Duration)
	// Busy is a command or click refused because the queue was full.
	Busy()
	// Payment is an order paid.
	Payment(amount renew.Money)
}

type nopObserver struct{}

func (nopObserver) SlackRequest(string, string, time.Duration) {}
func (nopObserver) Busy()                                      {}
func (nopObserver) Payment(renew.Money)                        {}

// Reply is the immediate answer to Slack: the body of the HTTP response
// (or the Socket Mode ack payload). nil means an empty 200.
type Reply struct {
	ResponseType string        `json:"response_type,omitempty"`
	Text         string        `json:"text,omitempty"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
	// ResponseAction and Errors answer a modal's submission.
	ResponseAction string            `json:"response_action,omitempty"`
	Errors         map[string]string `json:"errors,omitempty"`
}

func ephemeral(text string) *Reply {
	return &Reply{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

const busyText = "renewbot is busy, try again in a minute. Nothing was changed."

func (b *Bot) view() blocks.View {
	p := b.renewer.Policy
	return blocks.View{
		Now:           b.now(),
		NeedApprovals: p.NeedApprovals(),
		Approvers:     p.Approvers,
		SelfApproval:  p.SelfApproval,
		MaxAmount:     renew.Money{Ucents: p.MaxAmount},
		DryRun:        b.renewer.DryRun,
		Sandbox:       b.sandbox,
		Zone:          b.renewer.Budget.Zone,
	}
}

// Command handles a /renew command. It returns at once: lookups on
// OVHcloud run in the pool and answer through response_url and
// chat.postMessage.
func (b *Bot) Command(ctx context.Context, sc slack.SlashCommand) *Reply {
	if ok, why := b.ws.allows(commandOrigin(sc)); !ok {
		b.refuseForeign("command", why, commandOrigin(sc), sc.UserID)
		return ephemeral(foreignText)
	}
	log := b.log.With("user", sc.UserID, "channel", sc.ChannelID)
	cmd, err := ParseCommand(sc.Text)
	if err != nil {
		b.noteMalformed(log, "malformed command", "error", err)
		return ephemeral(usageText(err))
	}
	if cmd.Kind == KindHelp {
		return helpReply()
	}
	if err := b.renewer.Policy.CheckChannel(sc.ChannelID); err != nil {
		return ephemeral(b.errText(err))
	}
	to := Target{Channel: sc.ChannelID, User: sc.UserID, ResponseURL: sc.ResponseURL}
	var job func(context.Context)
	var ack string
	switch cmd.Kind {
	case KindRenew:
		ack = lookingUp(cmd)
		job = func(ctx context.Context) { b.propose(ctx, to, cmd) }
	case KindList:
		ack = "Reading the account's services…"
		job = func(ctx context.Context) { b.list(ctx, to, cmd.Days, 1) }
	case KindStatus:
		ack = "Reading the open requests…"
		job = func(ctx context.Context) { b.status(ctx, sc, to) }
	case KindHistory:
		ack = "Reading the history…"
		job = func(ctx context.Context) { b.history(ctx, sc, cmd, to) }
	case KindSpend:
		ack = "Adding up the month's payments…"
		job = func(ctx context.Context) { b.spend(ctx, cmd, to) }
	default:
		return ephemeral("That command is not available yet.\n\n" + blocks.HelpText())
	}
	if !b.pool.Submit(job) {
		b.refuseCommand(sc.UserID, sc.ChannelID)
		return ephemeral(busyText)
	}
	return ephemeral(ack)
}

// lookingUp is the ack of /renew SERVICE [PERIOD]: the service as most
// likely meant (a period split off), and the period.
func lookingUp(cmd Command) string {
	rs := cmd.Readings()
	r := rs[len(rs)-1]
	if r.Period.IsZero() {
		return fmt.Sprintf("Looking up `%s` on OVHcloud…", blocks.Escape(r.Service))
	}
	return fmt.Sprintf("Looking up `%s` (%s) on OVHcloud…", blocks.Escape(r.Service), r.Period)
}

// propose runs /renew SERVICE [PERIOD] for to.User in to.Channel: with
// the whole text as the service's name first, then with a period split
// off its end, until one names a service.
func (b *Bot) propose(ctx context.Context, to Target, cmd Command) {
	log := b.log.With("user", to.User, "channel", to.Channel, "service", cmd.Service)
	var (
		r   *renew.Request
		err error
	)
	for _, rd := range cmd.Readings() {
		r, err = b.renewer.Propose(ctx, renew.ProposeInput{Channel: to.Channel, User: to.User, Query: rd.Service, Period: rd.Period})
		if !errors.Is(err, renew.ErrNotFound) {
			break
		}
	}
	if err != nil {
		log.Info("renew refused", "error", err)
		if errors.Is(err, renew.ErrNotFound) {
			b.tell(ctx, to, notFoundText(cmd.Service, cmd.NotPeriod))
			return
		}
		b.tell(ctx, to, b.explain(ctx, err))
		return
	}
	log = log.With("request", r.ID, "service_id", r.Service.ID)
	b.pacer.Note(methodPost, to.Channel)
	ts, err := b.out.Post(ctx, to.Channel, Message{Text: blocks.Text(r), Blocks: blocks.Request(r, b.requestView(ctx, r))})
	if err != nil {
		log.Error("post request message", "error", SlackErrorCode(err))
		b.renewer.Abandon(context.WithoutCancel(ctx), r.ID, "message not posted: "+SlackErrorCode(err))
		b.tell(ctx, to, postErrText(err))
		return
	}
	if _, err := b.renewer.Posted(context.WithoutCancel(ctx), r.ID, ts); err != nil {
		log.Error("record message ts", "error", err)
	}
	log.Info("request proposed", "options", len(r.Options))
	b.homeChanged(r, renew.Event{Action: "proposed", Actor: to.User})
	if to.Home {
		b.tell(ctx, to, fmt.Sprintf("I posted the renewal of %s in <#%s>: choose an option there, and a teammate approves it.", blocks.Escape(blocks.Label(r.Service)), to.Channel))
	}
}

// list answers /renew list [DAYS] (and its page buttons) to one user.
func (b *Bot) list(ctx context.Context, to Target, days, page int) {
	if b.account == nil {
		b.tell(ctx, to, "Listing the account is not available here.")
		return
	}
	l, err := b.account.List(ctx)
	if err != nil {
		b.log.Warn("list services", "error", err)
		b.tell(ctx, to, b.errText(err))
		return
	}
	ex := renew.Expiring(l, b.now(), days)
	b.markRenewing(ctx, &ex)
	b.reply(ctx, to, Message{Text: blocks.ListText(ex, days), Blocks: blocks.List(ex, page, b.view(), days)})
}

// markRenewing marks the services of l a request is renewing already;
// the store unreadable, the list goes unmarked (a Renew… click is checked
// anyway).
func (b *Bot) markRenewing(ctx context.Context, l *renew.ExpiringList) {
	w, err := b.renewer.Renewing(ctx)
	if err != nil {
		b.log.Warn("list: requests under way", "error", err)
		return
	}
	l.Mark(w)
}

// PostDigest posts the daily reminder digest in channel, in its turn
// among the background messages.
func (b *Bot) PostDigest(ctx context.Context, channel string, rs []renew.Reminder) error {
	if err := b.pacer.Wait(ctx, methodPost, channel); err != nil {
		return err
	}
	_, err := b.out.Post(ctx, channel, Message{Text: blocks.DigestText(rs), Blocks: blocks.Digest(rs, b.view())})
	return err
}

func postErrText(err error) string {
	switch SlackErrorCode(err) {
	case "not_in_channel", "channel_not_found":
		return "I can't post in this channel: invite me first with `/invite @renewbot`, then try again."
	case "is_archived":
		return "This channel is archived: I can't post in it."
	}
	return "Slack refused my message (" + SlackErrorCode(err) + "). Nothing was ordered; try again in a minute."
}

func (b *Bot) status(ctx context.Context, sc slack.SlashCommand, to Target) {
	reqs, err := b.renewer.Open(ctx, sc.ChannelID)
	if err != nil {
		b.log.Error("list open requests", "channel", sc.ChannelID, "error", err)
		b.tell(ctx, to, b.errText(err))
		return
	}
	bs := blocks.Status(reqs, b.view())
	b.reply(ctx, to, Message{Text: count(len(reqs), "open renewal request"), Blocks: bs})
}

// historyLimit is how many events /renew history shows.
const historyLimit = 20

func (b *Bot) history(ctx context.Context, sc slack.SlashCommand, cmd Command, to Target) {
	events, err := b.renewer.History(ctx, sc.ChannelID, cmd.Service, historyLimit)
	if err != nil {
		b.log.Info("history refused", "channel", sc.ChannelID, "error", err)
		if errors.Is(err, renew.ErrNotFound) {
			b.tell(ctx, to, notFoundText(cmd.Service, ""))
			return
		}
		b.tell(ctx, to, b.errText(err))
		return
	}
	reqs := map[string]*renew.Request{}
	for _, ev := range events {
		if _, ok := reqs[ev.RequestID]; ok {
			continue
		}
		r, err := b.renewer.Get(ctx, ev.RequestID)
		if err != nil {
			r = nil // its events show what they recorded
		}
		reqs[ev.RequestID] = r
	}
	b.reply(ctx, to, Message{Text: count(len(events), "renewal event"), Blocks: blocks.History(events, reqs, b.view())})
}

// count writes a number of things: "1 renewal event", "2 renewal events".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// reply answers one user, ephemerally, with blocks.
func (b *Bot) reply(ctx context.Context, to Target, m Message) {
	if err := b.out.Ephemeral(context.WithoutCancel(ctx), to, m); err != nil {
		b.log.Warn("ephemeral answer lost", "user", to.User, "error", SlackErrorCode(err))
	}
}

// tell answers one user, ephemerally; on their Home tab when they acted
// there.
func (b *Bot) tell(ctx context.Context, to Target, text string) {
	if to.Home {
		b.homeNotice(to.User, text)
		return
	}
	if err := b.out.Ephemeral(context.WithoutCancel(ctx), to, Message{Text: text}); err != nil {
		b.log.Warn("ephemeral answer lost", "user", to.User, "error", SlackErrorCode(err))
	}
}

// follow watches a paid order's status in the background.
func (b *Bot) follow(id string) {
	ok := b.pool.Submit(func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(b.optional, cancel)()
		if _, err := b.renewer.Follow(ctx, id, nil); err != nil && !errors.Is(err, context.Canceled) {
			b.log.Warn("follow order status", "request", id, "error", err)
		}
	})
	if !ok {
		b.log.Warn("queue full: order status not followed", "request", id)
	}
}

// changed hears every change the renewer makes and updates the request's
// message.
func (b *Bot) changed(ctx context.Context, r *renew.Request, ev renew.Event) {
	if ev.Action != "" {
		attrs := []any{"request", r.ID, "user", ev.Actor, "channel", r.Channel, "service", r.Service.Name, "service_id", r.Service.ID, "action", ev.Action, "state", r.State}
		if r.Order != nil {
			attrs = append(attrs, "order", r.Order.ID)
		}
		b.log.Info("request "+ev.Action, attrs...)
	}
	if ev.Action == "paid" && r.Order != nil {
		// Counted before any message says Paid: whoever reads the message
		// and then the metrics finds the payment there.
		b.obs.Payment(r.Order.PriceWithTax)
	}
	if isBackground(ctx) {
		// The sweeper or the reconciler: its changes come in bursts (a
		// day's requests expiring together), so their redraws wait for
		// their turn, and the sweep does not wait for them.
		id := r.ID
		b.send(methodUpdate, r.Channel, "redraw", id, func(ctx context.Context) { b.refresh(ctx, id) })
	} else {
		b.refresh(ctx, r.ID)
	}
	if ev.Action != "" {
		b.homeChanged(r, ev)
	}
	if b.budgetMoved(r, ev) {
		b.redrawBudgetLines(r.ID)
	}
	if ev.Action == "paid" {
		// However it was paid (a click, the reconciler), follow the
		// order to delivery.
		b.follow(r.ID)
		if b.account != nil {
			b.account.Invalidate() // its expiry moves: the list must not show it as due
		}
	}
	if r.MessageTS == "" || ev.Action == "" {
		return
	}
	// The thread reply and the audit line are the bot's own messages:
	// they go in the background, in their turn, so a click's work never
	// waits for them.
	if line := blocks.EventLine(r, ev); line != "" {
		channel, ts, id := r.Channel, r.MessageTS, r.ID
		b.send(methodPost, channel, "thread reply", id, func(ctx context.Context) {
			if _, err := b.out.Post(ctx, channel, Message{Text: line, ThreadTS: ts}); err != nil {
				b.log.Warn("thread reply lost", "request", id, "error", SlackErrorCode(err))
			}
		})
	}
	if b.audit != "" && blocks.Audited(ev.Action) {
		r, ev := r, ev
		b.send(methodPost, b.audit, "audit line", r.ID, func(ctx context.Context) {
			link := ""
			if pl, ok := b.out.(Permalinker); ok {
				var err error
				if link, err = pl.Permalink(ctx, r.Channel, r.MessageTS); err != nil {
					b.log.Warn("permalink", "request", r.ID, "error", SlackErrorCode(err))
				}
			}
			if _, err := b.out.Post(ctx, b.audit, Message{Text: blocks.AuditLine(r, ev, link)}); err != nil {
				b.log.Warn("audit line lost", "request", r.ID, "action", ev.Action, "error", SlackErrorCode(err))
			}
		})
	}
}

// RefreshUnfinished redraws the messages of requests that are not final.
// A crash between a state change and its message update would otherwise
// leave a message lying (no buttons, an old state) until the request ends.
// The redraws are paced under Slack's limits (hundreds of them take
// minutes); each waits for its turn before it takes the request's lock,
// so a click on one of them is never held up.
func (b *Bot) RefreshUnfinished(ctx context.Context) error {
	reqs, err := b.renewer.Unfinished(ctx, 500)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		if r.MessageTS == "" {
			continue
		}
		if err := b.pacer.Wait(ctx, methodUpdate, r.Channel); err != nil {
			return err
		}
		b.refresh(withTurn(ctx), r.ID)
	}
	return nil
}

// refresh re-renders a request's message from the store. Updates of one
// request are serialised and always render the latest state, so a slow
// update can't overwrite a newer one. A refresh that finds another one
// waiting leaves it to that one, which will read the state after this
// change: a burst of clicks on one message updates it once or twice, not
// once per click.
func (b *Bot) refresh(ctx context.Context, id string) {
	rd := b.lockFor(id)
	defer b.unlockFor(id, rd)
	if !rd.waiting.CompareAndSwap(false, true) {
		return
	}
	rd.mu.Lock()
	rd.waiting.Store(false)
	defer rd.mu.Unlock()
	r, err := b.renewer.Get(ctx, id)
	if err != nil {
		b.log.Warn("refresh message: read request", "request", id, "error", err)
		return
	}
	if r.MessageTS == "" {
		return
	}
	m := Message{Text: blocks.Text(r), Blocks: blocks.Request(r, b.requestView(ctx, r))}
	if !hadTurn(ctx) {
		b.pacer.Note(methodUpdate, r.Channel)
	}
	if err := b.out.Update(ctx, r.Channel, r.MessageTS, m); err != nil {
		b.log.Error("update request message", "request", id, "error", SlackErrorCode(err))
	}
}
