// Package fakeclock is a manual clock for tests: it moves only when told,
// so no test depends on the calendar or on the machine's speed.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a manual clock; its Now is what code under test takes as its
// clock, and its After what that code waits on. It is safe for concurrent
// use.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

// waiter is a pending After.
type waiter struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock stopped at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d, and wakes the Afters due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(c.t.Add(d))
}

// Set moves the clock to t, and wakes the Afters due by then.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(t)
}

// set moves the clock to t. c.mu is held.
func (c *Clock) set(t time.Time) {
	c.t = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	c.waiters = kept
}

// After is time.After on this clock: the channel receives the clock's
// time once it has moved d from now (at once when d <= 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.t.Add(d), ch: ch})
	return ch
}

// Waiting is how many Afters are pending: a test knows from it that the
// code it started is now waiting on the clock.
func (c *Clock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Next moves the clock to the earliest pending After and wakes it (and
// any due at the same time); it reports false when none is pending.
func (c *Clock) Next() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		return false
	}
	next := c.waiters[0].at
	for _, w := range c.waiters[1:] {
		if w.at.Before(next) {
			next = w.at
		}
	}
	c.set(later(next, c.t))
	return true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
