package bot

import (
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
)

// The fake clock is internal/fakeclock's: its After lets a test see a
// goroutine wait on the clock (Waiting) and move it to that wait (Next).
var _ Clock = (*fakeclock.Clock)(nil)

// waitFor polls cond until it holds: it synchronises a test with the
// goroutines it started (a goroutine blocked on the fake clock), and
// fails the test if that never happens. It never measures time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
