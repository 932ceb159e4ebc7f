package bot

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limit is a rate: one call every Every, and up to Burst at once after a
// quiet spell. Over any window W, at most Burst + W/Every calls go.
type Limit struct {
	Every time.Duration
	Burst int
}

// tolerance is how far ahead of its schedule a call may go.
func (l Limit) tolerance() time.Duration { return time.Duration(max(l.Burst, 1)-1) * l.Every }

// Limits are what a Pacer keeps calls under.
type Limits struct {
	// Methods limits each Web API method over the whole workspace.
	Methods map[string]Limit
	// Channel limits the messages posted (chat.postMessage) in one
	// channel.
	Channel Limit
}

// SlackLimits are Slack's published rate limits, with a margin:
// chat.update is Tier 3 (50 a minute: 10 + 40 = 50 in any minute here);
// chat.postMessage allows one message a second per channel, with
// "generous bursts", and several hundred a minute per workspace (10 +
// 300 in any minute here).
var SlackLimits = Limits{
	Methods: map[string]Limit{
		methodUpdate: {Every: 1500 * time.Millisecond, Burst: 10},
		methodPost:   {Every: 200 * time.Millisecond, Burst: 10},
	},
	Channel: Limit{Every: time.Second, Burst: 5},
}

const (
	methodUpdate = "chat.update"
	methodPost   = "chat.postMessage"
)

// maxAhead bounds how far the calls a click makes (which never wait) can
// push the background's schedule: after a burst of clicks, the background
// resumes within a minute.
const maxAhead = time.Minute

// Pacer spaces calls to Slack so that a burst of them stays under rate
// limits instead of meeting 429s. A call that can wait (a message the bot
// sends on its own, an answer to a refused click) waits for its turn
// (Wait); a call made for a click or a command never waits, but takes its
// share of the budget (Note), so the waiting ones leave room for people.
// Its time comes from a Clock.
type Pacer struct {
	clock  Clock
	limits Limits

	mu sync.Mutex
	// due is when each bucket's next call is scheduled (the theoretical
	// arrival time of the generic cell rate algorithm): the method's, and
	// "#"+channel for a channel's.
	due map[string]time.Time
}

// NewPacer returns a Pacer on clock (the system's when nil).
func NewPacer(clock Clock, limits Limits) *Pacer {
	if clock == nil {
		clock = systemClock{}
	}
	return &Pacer{clock: clock, limits: limits, due: map[string]time.Time{}}
}

// bucket is one limit and its key in due.
type bucket struct {
	key   string
	limit Limit
}

func (p *Pacer) buckets(method, channel string) []bucket {
	var bs []bucket
	if l, ok := p.limits.Methods[method]; ok && l.Every > 0 {
		bs = append(bs, bucket{method, l})
	}
	if method == methodPost && channel != "" && p.limits.Channel.Every > 0 {
		bs = append(bs, bucket{"#" + channel, p.limits.Channel})
	}
	return bs
}

// Wait takes the next turn of a background call of method in channel
// that exceeds no limit, and blocks until it comes. Each caller gets a
// turn of its own at once, so many waiters wake one at a time, each at
// its turn, not all at every turn. A call noted (Note) after a turn was
// taken pushes the turns taken later. It returns ctx's error if ctx ends
// first; that turn is lost.
func (p *Pacer) Wait(ctx context.Context, method, channel string) error {
	bs := p.buckets(method, channel)
	p.mu.Lock()
	now := p.clock.Now()
	at := now
	for _, b := range bs {
		at = later(at, p.due[b.key].Add(-b.limit.tolerance()))
	}
	for _, b := range bs {
		p.due[b.key] = later(p.due[b.key], at).Add(b.limit.Every)
	}
	p.forget(now)
	p.mu.Unlock()
	if wait := at.Sub(now); wait > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.clock.After(wait):
		}
	}
	return nil
}

// Note records a call of method in channel made without waiting (for a
// click or a command), so background calls leave room for it.
func (p *Pacer) Note(method, channel string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	for _, b := range p.buckets(method, channel) {
		due := later(p.due[b.key], now).Add(b.limit.Every)
		if limit := now.Add(maxAhead); due.After(limit) {
			due = limit
		}
		p.due[b.key] = due
	}
	p.forget(now)
}

// forget drops the buckets that no longer hold anything back, so the
// map does not grow with every channel ever written to. p.mu is held.
func (p *Pacer) forget(now time.Time) {
	if len(p.due) < 256 {
		return
	}
	for k, due := range p.due {
		if !due.After(now) {
			delete(p.due, k)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// turnKey marks a context whose Slack call already took its turn from the
// Pacer, so it is not counted twice.
type turnKey struct{}

func withTurn(ctx context.Context) context.Context { return context.WithValue(ctx, turnKey{}, true) }

func hadTurn(ctx context.Context) bool { v, _ := ctx.Value(turnKey{}).(bool); return v }

// backgroundKey marks the context of work the bot does on its own.
type backgroundKey struct{}

// Background marks ctx as the bot's own background work (the sweeper,
// the reconciler): the messages its changes lead to are paced and sent
// in the background queue instead of at once.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func isBackground(ctx context.Context) bool { v, _ := ctx.Value(backgroundKey{}).(bool); return v }

// backgroundTimeout bounds one background message, its wait included.
const backgroundTimeout = 2 * time.Minute

// send queues a background message (what names it, for the logs) of
// method in channel: it waits for its turn from the pacer, then do runs.
// When the queue is full the message is dropped and logged (sampled):
// the store keeps the event, and the request's next change or click
// redraws its message.
func (b *Bot) send(method, channel, what, request string, do func(ctx context.Context)) {
	ok := b.later.offer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
		defer cancel()
		if err := b.pacer.Wait(ctx, method, channel); err != nil {
			b.log.Warn(what+" not sent: no turn in time", "request", request, "error", err)
			return
		}
		do(withTurn(ctx))
	})
	if !ok {
		b.noteRefused(reasonDropped, what+" dropped: the background queue is full", "request", request)
	}
}

// Drain waits until the background messages queued so far are sent, or
// ctx ends (at shutdown, after the work in flight).
func (b *Bot) Drain(ctx context.Context) error {
	if err := b.later.wait(ctx); err != nil {
		return fmt.Errorf("%d background messages not sent: %w", b.later.queued(), err)
	}
	return nil
}
