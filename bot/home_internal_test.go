package bot

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The Home tab's queue is bounded however many people a change concerns:
// each person is in it once, an opening goes first, and past its size new
// people are refused rather than queued.
func TestHomeQueueBoundedAndCoalesced(t *testing.T) {
	q := newHomeQueue(3)
	for i := range 5 {
		ok := q.push(fmt.Sprintf("U%d", i), false)
		if want := i < 3; ok != want {
			t.Fatalf("push U%d: %v, want %v", i, ok, want)
		}
	}
	for range 10 {
		if !q.push("U1", false) {
			t.Fatal("a person already queued is refused")
		}
	}
	if !q.push("U2", true) { // opened their Home: first in line
		t.Fatal("urgent push of a queued person refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []string
	for range 3 {
		u, ok := q.pop(ctx)
		if !ok {
			t.Fatal("pop timed out")
		}
		got = append(got, u)
	}
	if fmt.Sprint(got) != "[U2 U0 U1]" {
		t.Fatalf("popped %v, want [U2 U0 U1]: once each, the opening first", got)
	}
	if len(q.pending) != 0 || len(q.order) != 0 {
		t.Fatalf("left in the queue: %v %v", q.order, q.pending)
	}
	// While U0's tab is published, a change for U0 waits for it to be
	// done: two views of one person are never published side by side.
	q.push("U0", false)
	q.push("U0", true)
	if len(q.order) != 0 {
		t.Fatalf("a person being published was queued beside: %v", q.order)
	}
	q.done("U0")
	q.done("U1")
	q.done("U2")
	if fmt.Sprint(q.order) != "[U0]" || len(q.busy) != 0 || len(q.again) != 0 {
		t.Fatalf("after done: order %v, busy %v, again %v", q.order, q.busy, q.again)
	}
	if u, _ := q.pop(ctx); u != "U0" {
		t.Fatalf("pop %q", u)
	}
	q.done("U0")
	// Room again once served.
	if !q.push("U9", false) {
		t.Fatal("push refused on an empty queue")
	}
	short, stop := context.WithCancel(context.Background())
	stop()
	if u, _ := q.pop(ctx); u != "U9" {
		t.Fatalf("pop %q", u)
	}
	if _, ok := q.pop(short); ok {
		t.Fatal("pop on an empty queue with an ended context returned a person")
	}
}
