package bot

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs the work Slack must not wait for (OVHcloud calls, message
// updates) on a fixed number of workers with a bounded queue, so a burst
// of commands can neither exhaust memory nor delay Slack's ack: when the
// queue is full, Submit says so at once and the user is told to retry.
//
// Clicks go to a second queue that workers serve first: a burst of /renew
// lookups must not hold up an approval or a payment.
type Pool struct {
	jobs    chan func(context.Context)
	urgent  chan func(context.Context)
	ctx     context.Context // cancelled when draining takes too long
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.RWMutex
	closed  bool
	timeout time.Duration
	// yield, when set, runs before each job (in its worker, with its
	// context): the Bot holds the work back during a flood (flood.go).
	yield atomic.Pointer[func(context.Context)]
}

// NewPool starts workers goroutines sharing a queue of queue jobs. Each
// job runs with a context bounded by timeout.
func NewPool(workers, queue int, timeout time.Duration) *Pool {
	if workers < 1 {
		workers = 1
	}
	if queue < 0 {
		queue = 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{jobs: make(chan func(context.Context), queue), urgent: make(chan func(context.Context), queue),
		ctx: ctx, cancel: cancel, timeout: timeout}
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *Pool) work() {
	defer p.wg.Done()
	urgent, jobs := p.urgent, p.jobs // nil once closed and drained
	for urgent != nil || jobs != nil {
		if urgent != nil { // an urgent job first, whenever one waits
			select {
			case job, ok := <-urgent:
				if !ok {
					urgent = nil
				} else {
					p.run(job)
				}
				continue
			default:
			}
		}
		select {
		case job, ok := <-urgent:
			if !ok {
				urgent = nil
				continue
			}
			p.run(job)
		case job, ok := <-jobs:
			if !ok {
				jobs = nil
				continue
			}
			p.run(job)
		}
	}
}

func (p *Pool) run(job func(context.Context)) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	if yield := p.yield.Load(); yield != nil {
		(*yield)(ctx)
	}
	job(ctx)
}

// yieldTo makes every job wait for yield before it runs.
func (p *Pool) yieldTo(yield func(context.Context)) { p.yield.Store(&yield) }

// Submit queues job and reports whether it was accepted: false when the
// queue is full or the pool is shutting down.
func (p *Pool) Submit(job func(context.Context)) bool { return p.submit(p.jobs, job) }

// SubmitUrgent queues job ahead of those given to Submit.
func (p *Pool) SubmitUrgent(job func(context.Context)) bool { return p.submit(p.urgent, job) }

func (p *Pool) submit(q chan func(context.Context), job func(context.Context)) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	select {
	case q <- job:
		return true
	default:
		return false
	}
}

// Close stops taking jobs and waits for the queued and running ones to
// finish. When ctx ends first, running jobs see their context cancelled
// and Close returns ctx's error once they return.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
		close(p.urgent)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return ctx.Err()
	}
}
