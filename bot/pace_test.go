package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// waits runs Wait n times in a goroutine, moving the fake clock to each
// pending wait, and returns the clock's time at each return.
func waits(t *testing.T, p *Pacer, c *fakeClock, n int, method, channel string) []time.Duration {
	t.Helper()
	start := c.Now()
	var mu sync.Mutex
	var at []time.Duration
	done := make(chan error, 1)
	go func() {
		for range n {
			if err := p.Wait(context.Background(), method, channel); err != nil {
				done <- err
				return
			}
			mu.Lock()
			at = append(at, c.Now().Sub(start))
			mu.Unlock()
		}
		done <- nil
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return at
		default:
		}
		c.Next()
		time.Sleep(time.Millisecond) // let the goroutine run; the times come from the fake clock
	}
}

func secs(ss ...float64) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		out = append(out, time.Duration(s*float64(time.Second)))
	}
	return out
}

func TestPacerSpacesBackgroundCalls(t *testing.T) {
	c := newFakeClock(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodUpdate: {Every: time.Second, Burst: 2}}})
	// A burst of two, then one a second.
	if got, want := waits(t, p, c, 5, methodUpdate, ""), secs(0, 0, 1, 2, 3); !slices.Equal(got, want) {
		t.Errorf("background calls at %v, want %v", got, want)
	}
	// A method without a limit never waits.
	if got := waits(t, p, c, 3, "chat.getPermalink", ""); !slices.Equal(got, secs(0, 0, 0)) {
		t.Errorf("unlimited calls at %v, want all at once", got)
	}
}

func TestPacerLimitsEachChannel(t *testing.T) {
	c := newFakeClock(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodPost: {Every: time.Millisecond, Burst: 100}}, Channel: Limit{Every: time.Second, Burst: 1}})
	if got := waits(t, p, c, 3, methodPost, "C1"); !slices.Equal(got, secs(0, 1, 2)) {
		t.Errorf("posts in one channel at %v, want one a second", got)
	}
	// Another channel is not held back by the first one's.
	if got := waits(t, p, c, 1, methodPost, "C2"); !slices.Equal(got, secs(0)) {
		t.Errorf("a post in another channel waited %v", got)
	}
}

// What a click sends never waits, and the background leaves room for
// it; however many clicks, the background resumes within maxAhead.
func TestPacerNotesNeverWaitAndPushTheBackground(t *testing.T) {
	c := newFakeClock(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodUpdate: {Every: time.Second, Burst: 1}}})
	for range 3 {
		p.Note(methodUpdate, "C1") // returns at once: nothing else moves the clock
	}
	if got := waits(t, p, c, 1, methodUpdate, "C1"); !slices.Equal(got, secs(3)) {
		t.Errorf("background update after three clicks' at %v, want 3s", got)
	}
	for range 1000 {
		p.Note(methodUpdate, "C1")
	}
	if got := waits(t, p, c, 1, methodUpdate, "C1"); !slices.Equal(got, []time.Duration{maxAhead}) {
		t.Errorf("background update after a thousand clicks' at %v, want %v", got, maxAhead)
	}
}

func TestPacerWaitEndsWithItsContext(t *testing.T) {
	c := newFakeClock(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodUpdate: {Every: time.Hour, Burst: 1}}})
	if err := p.Wait(context.Background(), methodUpdate, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx, methodUpdate, "") }()
	waitFor(t, "the wait for a turn", func() bool { return c.Waiting() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

func TestLaneRunsInOrderAndRefusesWhenFull(t *testing.T) {
	l := newLane(2)
	hold := make(chan struct{})
	var mu sync.Mutex
	var order []int
	job := func(i int) func() {
		return func() {
			<-hold
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}
	}
	if !l.offer(job(1)) {
		t.Fatal("the first job was refused")
	}
	waitFor(t, "the first job to run", func() bool { return len(l.jobs) == 0 })
	if !l.offer(job(2)) || !l.offer(job(3)) {
		t.Fatal("a job was refused while the queue had room")
	}
	if l.offer(job(4)) {
		t.Fatal("a job was taken beyond the queue's bound")
	}
	close(hold)
	if err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []int{1, 2, 3}) {
		t.Errorf("jobs ran in the order %v", order)
	}
}
