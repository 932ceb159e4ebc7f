package bot

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// A flood (forged requests, a retry storm, a script clicking a button)
// must cost the bot a bounded amount whatever its size: no goroutine, no
// buffer and no log line per request beyond a fixed number. Refused
// requests are counted one by one in the metrics, logged at most once per
// interval, and a refused click gets its short answer through one small
// paced queue, or none.

// Reasons a request is refused, as logged.
const (
	reasonUnauthorized = "unauthorized"    // no, stale or wrong signature
	reasonTooLarge     = "too_large"       // body over MaxBody
	reasonBadRequest   = "bad_request"     // unreadable body or form, no user
	reasonBusyCommand  = "busy_command"    // the queue was full
	reasonBusyClick    = "busy_click"      // the urgent queue was full
	reasonUnanswered   = "busy_no_answer"  // and the answers' queue too
	reasonDropped      = "background_full" // a background message found its queue full
	reasonForeign      = "foreign"         // from another workspace, app or team
	reasonBusyEvent    = "busy_event"      // an Events API delivery found the queue full
	reasonBusyHome     = "busy_home"       // a Home tab found its queue full
	reasonMalformed    = "malformed"       // a signed command or click the bot cannot read
)

// refusalLogEvery is how often, at most, refused requests are logged.
const refusalLogEvery = 10 * time.Second

// sampledLog writes the first event of each reason at once, then holds
// that reason's events back for an interval and writes how many there
// were, in one line for every reason held: a flood of bad signatures
// writes a few lines, not one per request, and a refusal of another kind
// meanwhile still shows at once. Reasons are a fixed set, so the lines
// an interval can hold are bounded.
type sampledLog struct {
	log   *slog.Logger
	clock Clock
	every time.Duration

	mu       sync.Mutex
	next     map[string]time.Time // by reason: no line of it before
	held     map[string]int       // events held back, by reason
	flushing bool                 // a goroutine waits to write them
}

func newSampledLog(log *slog.Logger, clock Clock, every time.Duration) *sampledLog {
	return &sampledLog{log: log, clock: clock, every: every, next: map[string]time.Time{}, held: map[string]int{}}
}

// admit counts an event of reason and reports whether its line may be
// written now (the caller writes it, with "reason"); when not, it is held
// back until the next line. A held event costs no allocation.
func (l *sampledLog) admit(reason string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if next := l.next[reason]; now.Before(next) {
		l.held[reason]++
		if !l.flushing {
			// One goroutine at most, gone at the next line.
			l.flushing = true
			go l.flush(next.Sub(now))
		}
		return false
	}
	l.next[reason] = now.Add(l.every)
	return true
}

// flush writes what was held back once an interval is over.
func (l *sampledLog) flush(after time.Duration) {
	<-l.clock.After(after)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushing = false
	now := l.clock.Now()
	for r := range l.held {
		l.next[r] = now.Add(l.every) // the line below is theirs
	}
	l.writeHeld()
}

// writeHeld writes one line with the events held back. l.mu is held.
func (l *sampledLog) writeHeld() {
	if len(l.held) == 0 {
		return
	}
	reasons := make([]string, 0, len(l.held))
	for r := range l.held {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	attrs := []any{"interval", l.every}
	for _, r := range reasons {
		attrs = append(attrs, r, l.held[r])
	}
	l.log.Warn("requests refused and not logged one by one", attrs...)
	clear(l.held)
}

// refusals is where refused clicks get their short answer: a queue of
// refusalQueue answers, one goroutine while it has some, and at most
// refusalRate of them; when it is full the click gets no answer (it
// did nothing, and the user can click again).
const refusalQueue = 16

var refusalRate = Limit{Every: 100 * time.Millisecond, Burst: 10}

// answerTimeout bounds one answer to a refused click.
const answerTimeout = 3 * time.Second

// refuseClick counts a click the queue refused, logs it (sampled) and
// queues its short answer.
func (b *Bot) refuseClick(to Target, action string) {
	b.obs.Busy()
	queued := b.refusals.offer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		defer cancel()
		if b.answers.Wait(ctx, "refusal", "") == nil {
			b.tell(ctx, to, busyText)
		}
	})
	reason, msg := reasonBusyClick, "queue full, click refused"
	if !queued {
		reason, msg = reasonUnanswered, "queue full, click refused without an answer"
	}
	if b.sampled.admit(reason) {
		b.log.Warn(msg, "reason", reason, "user", to.User, "channel", to.Channel, "action", action)
	}
}

// refuseCommand counts a command the queue refused and logs it
// (sampled); its answer is the ack itself.
func (b *Bot) refuseCommand(user, channel string) {
	b.obs.Busy()
	if b.sampled.admit(reasonBusyCommand) {
		b.log.Warn("queue full, command refused", "reason", reasonBusyCommand, "user", user, "channel", channel)
	}
}

// noteMalformed logs, at Info and sampled, a signed command or click the
// bot cannot read: a typo is one line, and a script sending thousands is
// a few (they are all counted in the request metrics anyway).
func (b *Bot) noteMalformed(log *slog.Logger, msg string, attrs ...any) {
	if b.sampled == nil || b.sampled.admit(reasonMalformed) {
		log.Info(msg, append([]any{"reason", reasonMalformed}, attrs...)...)
	}
}

// noteRefused logs a refused request, sampled. (A Bot made without New,
// in a test, logs every one.)
func (b *Bot) noteRefused(reason, msg string, attrs ...any) {
	if b.sampled == nil || b.sampled.admit(reason) {
		b.log.Warn(msg, append([]any{"reason", reason}, attrs...)...)
	}
}
