package bot

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
)

// During a flood the workers start floodJobs jobs a second, in all, so
// the cores answer Slack first; without one, or once it is over, a job
// starts at once. Times are the fake clock's.
func TestWorkYieldsToAFlood(t *testing.T) {
	clock := fakeclock.New(time.Now())
	pool := NewPool(4, 64, time.Minute)
	defer pool.Close(context.Background())
	b := New(Config{Renewer: newTestRenewer(), Out: &slowSlack{}, Pool: pool, Log: slog.New(slog.DiscardHandler), Clock: clock})
	start := clock.Now()
	var mu sync.Mutex
	var ran []time.Duration
	job := func(context.Context) {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, clock.Now().Sub(start))
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(ran) }

	// A team's burst is no flood: its jobs run without the clock moving.
	for range 50 {
		b.flood.hit()
	}
	for range 4 {
		pool.Submit(job)
	}
	waitFor(t, "four jobs, at once", func() bool { return count() == 4 })

	// A flood: the next jobs start one every floodJobs.Every of the clock.
	for range int(floodBurst) {
		b.flood.hit()
	}
	for range 5 {
		pool.Submit(job)
	}
	waitFor(t, "the flood's jobs, one at a time", func() bool {
		if count() == 9 {
			return true
		}
		clock.Next()
		return false
	})
	mu.Lock()
	flood := slices.Clone(ran[4:])
	mu.Unlock()
	slices.Sort(flood)
	for i := 1; i < len(flood); i++ {
		if gap := flood[i] - flood[i-1]; gap < floodJobs.Every {
			t.Errorf("jobs %d and %d started %v apart during a flood, want at least %v: %v", i-1, i, gap, floodJobs.Every, flood)
		}
	}

	// However long the flood, it is over a second after it stops: jobs
	// run at once again.
	for range 100 * int(floodBurst) {
		b.flood.hit()
	}
	clock.Advance(time.Second + time.Millisecond)
	pool.Submit(job)
	waitFor(t, "a job after the flood, at once", func() bool { return count() == 10 })
	if b.flood.flooded() {
		t.Error("still flooded once the requests stopped")
	}
}
