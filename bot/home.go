package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// The Home tab: published with views.publish when someone opens it
// (app_home_opened), and again, for the people a request concerns who
// opened it lately, whenever the request changes. Publishing goes through
// a bounded queue that coalesces what waits for one person, served by a
// fixed number of goroutines paced under Slack's rate limit.

// HomePublisher is a Poster that can publish a Home tab (views.publish),
// as SlackPoster and the console do.
type HomePublisher interface {
	PublishHome(ctx context.Context, user string, view slack.HomeTabViewRequest) error
}

// HomeLog remembers, in the store, who opened the Home tab lately, so
// that any replica republishes it when a request changes.
type HomeLog interface {
	HomeOpened(ctx context.Context, user string, keep time.Duration) error
	HomeOpeners(ctx context.Context, since time.Time, limit int) ([]string, error)
}

// HomeConfig configures the Home tab.
type HomeConfig struct {
	// Log remembers who opened it; nil: only openings are published.
	Log HomeLog
	// Channel is where Renew… on the Home tab posts its proposal (the
	// team approves in a channel); "" means no Renew… button.
	Channel string
	// Every paces views.publish: one call per Every at most, after a
	// burst of Burst (defaults 750ms and 10: 80 a minute, under the
	// 100 a minute of Slack's Tier 4).
	Every time.Duration
	Burst int
	// Queue bounds the people waiting for their Home tab (default
	// 1000); past it, republications are dropped, and an opening is
	// tried again by Slack.
	Queue int
}

// Defaults and bounds of the Home tab.
const (
	homeEvery     = 750 * time.Millisecond
	homeBurst     = 10
	homeQueueSize = 1000
	homeWorkers   = 2
	// homeRecent is how long after opening the Home tab someone gets it
	// republished when a request that concerns them changes.
	homeRecent = 24 * time.Hour
	// homeNoticeLife is how long an answer to an action on the Home tab
	// stays on it.
	homeNoticeLife = 2 * time.Minute
	// homeAccountWait is how long a Home tab waits for the account's
	// services when they are not cached: past it, it is published
	// without them, and again once they are read.
	homeAccountWait = 2 * time.Second
)

// home is the Bot's Home tab machinery.
type home struct {
	log     HomeLog
	channel string
	every   time.Duration
	burst   int
	q       *homeQueue

	mu        sync.Mutex
	notices   map[string]notice // user -> answer to their last Home action
	warming   chan struct{}     // closed once the account is read for the Home tab; nil when not reading
	waiting   map[string]bool   // users to republish once it is read
	readErr   error             // the last failure to read the account
	readErrAt time.Time
}

type notice struct {
	text string
	at   time.Time
}

func newHome(c HomeConfig) *home {
	h := &home{log: c.Log, channel: c.Channel, every: c.Every, burst: c.Burst,
		notices: map[string]notice{}, waiting: map[string]bool{}}
	if h.every <= 0 {
		h.every = homeEvery
	}
	if h.burst <= 0 {
		h.burst = homeBurst
	}
	n := c.Queue
	if n <= 0 {
		n = homeQueueSize
	}
	h.q = newHomeQueue(n)
	return h
}

// ServeHome publishes Home tabs until ctx ends: a fixed number of workers
// take people from the queue, at most one views.publish per pace.
func (b *Bot) ServeHome(ctx context.Context) {
	h := b.home
	tokens := make(chan struct{}, h.burst)
	for range h.burst {
		tokens <- struct{}{}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(h.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	})
	for range homeWorkers {
		wg.Go(func() {
			for {
				user, ok := h.q.pop(ctx)
				if !ok {
					return
				}
				select {
				case <-ctx.Done():
					h.q.done(user)
					return
				case <-tokens:
				}
				pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				b.publishHome(pctx, user)
				cancel()
				h.q.done(user)
			}
		})
	}
	wg.Wait()
}

// homeOpened publishes the Home tab of user, who just opened it, first in
// line, and remembers they did.
func (b *Bot) homeOpened(ctx context.Context, user string) {
	if b.home.log != nil {
		if err := b.home.log.HomeOpened(ctx, user, homeRecent); err != nil {
			b.log.Warn("record home opened", "user", user, "error", err)
		}
	}
	if !b.home.q.push(user, true) {
		b.noteRefused(reasonBusyHome, "home tab queue full: not published", "user", user)
	}
}

// homeNotice answers user's action on the Home tab there: their Home tab
// is published again, first in line, with text at its top.
func (b *Bot) homeNotice(user, text string) {
	h := b.home
	h.mu.Lock()
	h.notices[user] = notice{text: text, at: b.now()}
	if len(h.notices) > homeQueueSize { // forget the stale ones
		for u, n := range h.notices {
			if b.now().Sub(n.at) > homeNoticeLife {
				delete(h.notices, u)
			}
		}
	}
	h.mu.Unlock()
	if !h.q.push(user, true) {
		b.noteRefused(reasonBusyHome, "home tab queue full: answer not shown", "user", user)
	}
}

func (h *home) noticeFor(user string, now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.notices[user]
	if ok && now.Sub(n.at) > homeNoticeLife {
		delete(h.notices, user)
		return ""
	}
	return n.text
}

// publishHome builds user's Home tab from the store and publishes it.
func (b *Bot) publishHome(ctx context.Context, user string) {
	pub, ok := b.out.(HomePublisher)
	if !ok {
		return
	}
	hv, err := b.homeView(ctx, user)
	if err != nil {
		b.log.Warn("home tab not built", "user", user, "error", err)
		return
	}
	if err := pub.PublishHome(ctx, user, blocks.Home(hv, b.view())); err != nil {
		b.log.Warn("home tab not published", "user", user, "error", SlackErrorCode(err))
	}
}

// homeView gathers what user's Home tab shows. The account's services
// come from the cache; when it is cold they are read in the background
// and the tab is published again once they are.
func (b *Bot) homeView(ctx context.Context, user string) (blocks.HomeView, error) {
	h, err := b.renewer.Home(ctx, user)
	if err != nil {
		return blocks.HomeView{}, err
	}
	h.Waiting = b.inTheirChannels(ctx, user, h.Waiting)
	hv := blocks.HomeView{Home: h, Channel: b.home.channel, Notice: b.home.noticeFor(user, b.now())}
	switch {
	case b.account == nil:
		hv.ExpiringErr = "listing the account is not available here"
	default:
		l, ok := b.account.Cached()
		if !ok {
			read, err := b.readAccountFor(user)
			if errors.Is(err, errHomeBusy) {
				hv.ExpiringErr = "renewbot is busy: open this tab again in a minute to see them."
				break
			}
			if err != nil {
				hv.ExpiringErr = "OVHcloud could not list the account: " + b.errText(err)
				break
			}
			t := time.NewTimer(homeAccountWait)
			select {
			case <-read:
				l, ok = b.account.Cached()
			case <-t.C:
				b.republishWhenRead(user, read)
			case <-ctx.Done():
				b.republishWhenRead(user, read)
			}
			t.Stop()
		}
		if ok {
			ex := renew.Expiring(l, b.now(), blocks.HomeDays)
			b.markRenewing(ctx, &ex)
			hv.Expiring = &ex
		}
	}
	return hv, nil
}

// errHomeBusy: the account could not be read for the Home tab, the queue
// being full.
var errHomeBusy = errors.New("busy: the account could not be read now")

// inTheirChannels keeps the requests of the channels user is in: the
// requests whose messages they see. A channel whose members Slack cannot
// tell keeps none.
func (b *Bot) inTheirChannels(ctx context.Context, user string, reqs []*renew.Request) []*renew.Request {
	if b.members == nil {
		return reqs
	}
	var out []*renew.Request
	seen := map[string]bool{}
	for _, r := range reqs {
		in, ok := seen[r.Channel]
		if !ok {
			var err error
			if in, err = b.members.Member(ctx, r.Channel, user); err != nil {
				b.log.Warn("home tab: channel members", "channel", r.Channel, "error", err)
			}
			seen[r.Channel] = in
		}
		if in {
			out = append(out, r)
		}
	}
	return out
}

// inChannel reports whether user is in channel, and tells them on their
// Home tab when they are not (or Slack cannot say): a Home click acts only
// where a click on the request's message could come from.
func (b *Bot) inChannel(ctx context.Context, channel, user string) bool {
	if b.members == nil {
		return true
	}
	in, err := b.members.Member(ctx, channel, user)
	switch {
	case err != nil:
		b.log.Warn("home action: channel members", "channel", channel, "error", err)
		b.homeNotice(user, "I can't check right now that you are in <#"+channel+"> (Slack did not say), so I refuse rather than guess. Nothing was done; try again in a minute.")
	case !in:
		b.homeNotice(user, "You are not in <#"+channel+">, where this renewal is handled, so you can't act on it from here. Nothing was done; join the channel first.")
	}
	return err == nil && in
}

// readAccountFor reads the account in the background, once however many
// Home tabs wait for it: the channel closes once it is read. It fails
// with the last failure when the account could not be read lately.
func (b *Bot) readAccountFor(user string) (<-chan struct{}, error) {
	h := b.home
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.readErr != nil && b.now().Sub(h.readErrAt) < time.Minute {
		return nil, h.readErr
	}
	if h.warming != nil {
		return h.warming, nil
	}
	done := make(chan struct{})
	ok := b.pool.Submit(func(ctx context.Context) {
		_, err := b.account.List(ctx)
		h.mu.Lock()
		h.warming = nil
		h.readErr, h.readErrAt = err, b.now()
		users := h.waiting
		h.waiting = map[string]bool{}
		close(done) // under the lock: see republishWhenRead
		h.mu.Unlock()
		if err != nil {
			b.log.Warn("home tab: list the account", "error", err)
		}
		for u := range users {
			h.q.push(u, false)
		}
	})
	if !ok {
		return nil, errHomeBusy
	}
	h.warming = done
	return done, nil
}

// republishWhenRead publishes user's Home tab again once the account is
// read: it was published without the account's services.
func (b *Bot) republishWhenRead(user string, read <-chan struct{}) {
	h := b.home
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-read: // read meanwhile
		h.q.push(user, false)
	default:
		if len(h.waiting) < homeQueueSize {
			h.waiting[user] = true
		}
	}
}

// homeChanged republishes, in the background, the Home tab of the people
// request r concerns who opened theirs lately: its requester and whoever
// started it, whoever acted on it or approved it, and whoever may
// approve it; everyone, when a payment changes what the month spent.
func (b *Bot) homeChanged(r *renew.Request, ev renew.Event) {
	if b.home.log == nil {
		return
	}
	// A claimed payment counts in the month's spending, on everyone's Home.
	everyone := !r.ClaimedAt.IsZero()
	ok := b.pool.Submit(func(ctx context.Context) {
		users, err := b.home.log.HomeOpeners(ctx, b.now().Add(-homeRecent), homeQueueSize)
		if err != nil {
			b.log.Warn("home tab: who opened it", "error", err)
			return
		}
		for _, u := range users {
			if everyone || b.concerns(ctx, r, ev, u) {
				if !b.home.q.push(u, false) {
					b.noteRefused(reasonBusyHome, "home tab queue full: republication dropped", "user", u)
					return
				}
			}
		}
	})
	if !ok {
		b.noteRefused(reasonBusyHome, "queue full: home tabs not republished", "request", r.ID)
	}
}

// concerns reports whether r shows, or showed until ev, on user's Home.
func (b *Bot) concerns(ctx context.Context, r *renew.Request, ev renew.Event, user string) bool {
	if user == r.RequestedBy || user == r.InitiatedBy || user == ev.Actor || r.ApprovedBy(user) {
		return true
	}
	// Once it has an order, whoever may approve it had it in their list,
	// or has it now.
	return r.Order != nil && b.renewer.Policy.CheckApprover(ctx, r, user) == nil
}
