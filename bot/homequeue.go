package bot

import (
	"context"
	"sync"
)

// homeQueue is the bounded queue of people whose Home tab waits to be
// published: a person is in it at most once, however many changes
// concern them; an opening or an answer goes first in line. A person's
// tab is published by one worker at a time (see done), so an older view
// never lands after a newer one.
type homeQueue struct {
	mu      sync.Mutex
	max     int
	order   []string
	pending map[string]bool
	// busy: being published; again: to publish once more when done
	// (true: first in line). Both hold at most one entry per worker.
	busy  map[string]bool
	again map[string]bool
	wake  chan struct{}
}

func newHomeQueue(max int) *homeQueue {
	return &homeQueue{max: max, pending: map[string]bool{}, busy: map[string]bool{}, again: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// push queues user, first when urgent, and reports false when the queue
// is full. A user already queued stays queued once (moved first when
// urgent); one being published is published again once done.
func (q *homeQueue) push(user string, urgent bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.busy[user] {
		q.again[user] = q.again[user] || urgent
		return true
	}
	return q.enqueue(user, urgent)
}

// enqueue is push for a user not being published. q.mu must be held.
func (q *homeQueue) enqueue(user string, urgent bool) bool {
	if q.pending[user] {
		if urgent {
			for i, u := range q.order {
				if u == user {
					copy(q.order[1:i+1], q.order[:i])
					q.order[0] = user
					break
				}
			}
		}
		return true
	}
	if len(q.order) >= q.max {
		return false
	}
	q.pending[user] = true
	if urgent {
		q.order = append([]string{user}, q.order...)
	} else {
		q.order = append(q.order, user)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// done says user's tab is published: it is queued again if a change
// came meanwhile.
func (q *homeQueue) done(user string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.busy, user)
	if urgent, ok := q.again[user]; ok {
		delete(q.again, user)
		q.enqueue(user, urgent)
	}
}

// pop takes the first user, waiting for one until ctx ends; call done
// once their tab is published.
func (q *homeQueue) pop(ctx context.Context) (string, bool) {
	for {
		q.mu.Lock()
		if len(q.order) > 0 {
			u := q.order[0]
			q.order = q.order[1:]
			delete(q.pending, u)
			q.busy[u] = true
			more := len(q.order) > 0
			q.mu.Unlock()
			if more {
				select {
				case q.wake <- struct{}{}:
				default:
				}
			}
			return u, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", false
		case <-q.wake:
		}
	}
}
