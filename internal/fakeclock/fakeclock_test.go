package fakeclock

import (
	"testing"
	"time"
)

func TestAfterFiresWhenTheClockGetsThere(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := New(start)
	soon, later := c.After(time.Second), c.After(time.Minute)
	if now := <-c.After(0); !now.Equal(start) {
		t.Fatalf("After(0) = %v, want at once, %v", now, start)
	}
	if c.Waiting() != 2 {
		t.Fatalf("Waiting = %d, want 2", c.Waiting())
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-soon:
		t.Fatal("After(1s) fired 999ms in")
	default:
	}
	if !c.Next() {
		t.Fatal("Next found nothing pending")
	}
	if got := <-soon; !got.Equal(start.Add(time.Second)) {
		t.Errorf("After(1s) fired at %v", got)
	}
	c.Set(start.Add(time.Hour))
	if got := <-later; !got.Equal(start.Add(time.Hour)) {
		t.Errorf("After(1m) fired at %v, want when the clock was set past it", got)
	}
	if c.Waiting() != 0 || c.Next() {
		t.Error("waits left after every one fired")
	}
}
