package bot

import (
	"context"
	"sync"
	"time"
)

// Slack is answered first, also under a flood: the acks must come within
// Slack's three seconds, the work behind them has no such deadline. When
// requests come far faster than people click, the workers start at most
// floodJobs jobs a second in all, so the cores go to the acks; the work
// catches up when the flood ends. A team's burst (fifty people clicking
// the same button) is no flood.

// floodRate and floodBurst define a flood: more than floodBurst requests
// beyond floodRate a second.
const (
	floodRate  = 200.0
	floodBurst = 1000.0
)

// floodJobs is how many jobs a second the workers start, in all, during a
// flood: 20, a few percent of a core for jobs that take a few
// milliseconds of it (a /renew on the sandbox account).
var floodJobs = Limit{Every: 50 * time.Millisecond, Burst: 1}

// floodMeter is a leaky bucket of the requests Slack sends: it fills by
// one per request and drains at floodRate a second.
type floodMeter struct {
	clock Clock
	mu    sync.Mutex
	level float64
	last  time.Time
}

// drain empties the bucket for the time passed. m.mu is held.
func (m *floodMeter) drain() {
	now := m.clock.Now()
	if d := now.Sub(m.last); d > 0 {
		m.level = max(0, m.level-d.Seconds()*floodRate)
	}
	m.last = now
}

// hit counts a request from Slack. The bucket holds at most a second of
// requests beyond a flood's, so a flood is over a second after it stops.
func (m *floodMeter) hit() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	m.level = min(m.level+1, floodBurst+floodRate)
}

// flooded reports whether requests come as in a flood.
func (m *floodMeter) flooded() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	return m.level > floodBurst
}

// yieldToAcks runs before each job of the pool: during a flood it waits
// for the job's turn among floodJobs.
func (b *Bot) yieldToAcks(ctx context.Context) {
	if b.flood.flooded() {
		_ = b.jobs.Wait(ctx, "job", "")
	}
}
