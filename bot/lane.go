package bot

import (
	"context"
	"sync"
)

// lane runs queued jobs one at a time, in order, on one goroutine that is
// started when a job is queued and ends when the queue is empty: an idle
// Bot holds no goroutine for it, a busy one holds one, and a full queue
// refuses more: what must not grow with a flood goes through lanes.
type lane struct {
	jobs chan func()

	mu      sync.Mutex
	running bool
	pending int           // queued or running
	idle    chan struct{} // closed when pending drops to 0
}

func newLane(size int) *lane {
	idle := make(chan struct{})
	close(idle)
	return &lane{jobs: make(chan func(), size), idle: idle}
}

// offer queues job, or reports false at once when the queue is full.
func (l *lane) offer(job func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.jobs <- job:
	default:
		return false
	}
	if l.pending == 0 {
		l.idle = make(chan struct{})
	}
	l.pending++
	if !l.running {
		l.running = true
		go l.run()
	}
	return true
}

func (l *lane) run() {
	for {
		l.mu.Lock()
		var job func()
		select {
		case job = <-l.jobs:
		default:
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		job()
		l.mu.Lock()
		if l.pending--; l.pending == 0 {
			close(l.idle)
		}
		l.mu.Unlock()
	}
}

// wait returns once every queued job has run, or when ctx ends.
func (l *lane) wait(ctx context.Context) error {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queued is how many jobs wait or run.
func (l *lane) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending
}
