package bot

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolRefusesWhenFullAndDrainsOnClose(t *testing.T) {
	p := NewPool(1, 2, time.Second)
	release := make(chan struct{})
	var done atomic.Int32
	block := func(context.Context) { <-release; done.Add(1) }
	if !p.Submit(block) {
		t.Fatal("the first job was refused")
	}
	time.Sleep(20 * time.Millisecond) // the worker takes it
	if !p.Submit(block) || !p.Submit(block) {
		t.Fatal("a job was refused while the queue had room")
	}
	if p.Submit(block) {
		t.Fatal("a job was accepted beyond the queue's bound")
	}
	close(release)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if done.Load() != 3 {
		t.Fatalf("%d jobs ran, want the 3 accepted", done.Load())
	}
	if p.Submit(block) {
		t.Fatal("a closed pool accepted a job")
	}
}

func TestPoolServesUrgentJobsFirst(t *testing.T) {
	p := NewPool(1, 10, time.Second)
	release := make(chan struct{})
	p.Submit(func(context.Context) { <-release })
	time.Sleep(20 * time.Millisecond)
	var mu sync.Mutex
	var order []string
	record := func(s string) func(context.Context) {
		return func(context.Context) { mu.Lock(); order = append(order, s); mu.Unlock() }
	}
	p.Submit(record("lookup1"))
	p.Submit(record("lookup2"))
	p.SubmitUrgent(record("click"))
	close(release)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(order) != 3 || order[0] != "click" {
		t.Fatalf("order = %v, want the click first", order)
	}
}

func TestPoolCloseCancelsJobsPastTheDeadline(t *testing.T) {
	p := NewPool(1, 1, time.Minute)
	stopped := make(chan error, 1)
	p.Submit(func(ctx context.Context) { <-ctx.Done(); stopped <- ctx.Err() })
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); err == nil {
		t.Fatal("Close returned before its job ended")
	}
	if err := <-stopped; err == nil {
		t.Fatal("the job's context was not cancelled")
	}
}
