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
)

// refusalLogEvery is how often, at most, refused requests are logged.
const refusalLogEvery = 10 * time.Second

// sampledLog writes the first of a kind of events at once, then at most
// one line per interval with how many were held back, by reason: a flood
// of bad signatures writes a few lines, not one per request.
type sampledLog struct {
	log   *slog.Logger
	clock Clock
	every time.Duration

	mu       sync.Mutex
	next     time.Time      // no line before
	held     map[string]int // events since the last line, by reason
	flushing bool           // a goroutine waits to write them
}

func newSampledLog(log *slog.Logger, clock Clock, every time.Duration) *sampledLog {
	return &sampledLog{log: log, clock: clock, every: every, held: map[string]int{}}
}

// note logs an event (msg, with its reason and attrs) or holds it back
// until the next line.
func (l *sampledLog) note(reason, msg string, attrs ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if now.Before(l.next) {
		l.held[reason]++
		if !l.flushing {
			// One goroutine at most, gone at the next line.
			l.flushing = true
			go l.flush(l.next.Sub(now))
		}
		return
	}
	l.writeHeld()
	l.next = now.Add(l.every)
	l.log.Warn(msg, append([]any{"reason", reason}, attrs...)...)
}

// flush writes what was held back once the interval is over.
func (l *sampledLog) flush(after time.Duration) {
	<-l.clock.After(after)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushing = false
	if len(l.held) > 0 {
		l.writeHeld()
		l.next = l.clock.Now().Add(l.every)
	}
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
func (b *Bot) refuseClick(to Target, attrs ...any) {
	b.obs.Busy()
	queued := b.refusals.offer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		defer cancel()
		if b.answers.Wait(ctx, "refusal", "") == nil {
			b.tell(ctx, to, busyText)
		}
	})
	if !queued {
		b.sampled.note(reasonUnanswered, "queue full, click refused without an answer", attrs...)
		return
	}
	b.sampled.note(reasonBusyClick, "queue full, click refused", attrs...)
}

// noteRefused logs a refused request, sampled. (A Bot made without New,
// in a test, logs every one.)
func (b *Bot) noteRefused(reason, msg string, attrs ...any) {
	if b.sampled == nil {
		b.log.Warn(msg, append([]any{"reason", reason}, attrs...)...)
		return
	}
	b.sampled.note(reason, msg, attrs...)
}

// refuseCommand counts a command the queue refused and logs it
// (sampled); its answer is the ack itself.
func (b *Bot) refuseCommand(attrs ...any) {
	b.obs.Busy()
	b.sampled.note(reasonBusyCommand, "queue full, command refused", attrs...)
}
