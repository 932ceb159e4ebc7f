package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// summary is a distribution of durations.
type summary struct {
	N             int
	P50, P99, Max time.Duration
}

func summarize(ds []time.Duration) summary {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return summary{}
	}
	return summary{N: len(s), P50: percentile(s, 50), P99: percentile(s, 99), Max: s[len(s)-1]}
}

// percentile is the p-th percentile (0 < p <= 100) of sorted durations by
// the nearest-rank method: the smallest value that at least p% of the
// values do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Tally sums up the commands, or the clicks, of a run.
type Tally struct {
	Sent       int
	Acked      int // answered 200, busy included
	Failed     int // no 200: error, timeout, refused
	Busy       int // told "busy, try again"
	Posted     int // their message was posted (or, for a click, updated into an order)
	Ephemeral  int // an ephemeral answer other than busy
	Unanswered int // accepted but no answer within -wait
	Errors     []string
	Ack        summary // time to the HTTP response, of every request sent
	E2E        summary // time to the posted message, of the posted ones
	AckRate    float64 // acks per second, from the first request to the last ack
	PostRate   float64 // messages per second, from the first request to the last message
}

func tally(es []*exchange) Tally {
	var t Tally
	var acks, e2e []time.Duration
	var first, lastAck, lastPost time.Time
	details := map[string]int{}
	for _, e := range es {
		if e.sent.IsZero() && e.outcome == waiting {
			t.Unanswered++ // never sent: the run ended first
			continue
		}
		t.Sent++
		if first.IsZero() || e.sent.Before(first) {
			first = e.sent
		}
		if e.ack > 0 {
			acks = append(acks, e.ack)
		}
		if e.acked {
			t.Acked++
			lastAck = later(lastAck, e.sent.Add(e.ack))
		}
		switch e.outcome {
		case waiting:
			t.Unanswered++
		case failed:
			t.Failed++
			details[e.detail]++
		case busy:
			t.Busy++
		case ephemeral:
			t.Ephemeral++
			details[e.detail]++
		case posted:
			t.Posted++
			e2e = append(e2e, e.done.Sub(e.sent))
			lastPost = later(lastPost, e.done)
		}
	}
	t.Ack, t.E2E = summarize(acks), summarize(e2e)
	t.AckRate = rate(t.Acked, first, lastAck)
	t.PostRate = rate(t.Posted, first, lastPost)
	t.Errors = topDetails(details, 5)
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func rate(n int, from, to time.Time) float64 {
	if n == 0 || !to.After(from) {
		return 0
	}
	return float64(n) / to.Sub(from).Seconds()
}

// topDetails lists the most frequent details, with their counts.
func topDetails(details map[string]int, n int) []string {
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if details[a] != details[b] {
			return details[b] - details[a]
		}
		return cmp.Compare(a, b)
	})
	var out []string
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, fmt.Sprintf("%d× %s", details[k], k))
	}
	return out
}

// Result is what a run measured.
type Result struct {
	Commands Tally
	Clicks   *Tally // nil without -clicks
	OVHCalls int    // calls the fake OVHcloud answered, start-up included
	Acking   phase  // from the first command sent to the last ack
	Run      phase  // from the first command sent to the last answer
}

func (t *tracker) result() *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	var cmds, clicks []*exchange
	for _, o := range t.ops {
		cmds = append(cmds, &o.cmd)
		if o.clicked {
			clicks = append(clicks, &o.click)
		}
	}
	r := &Result{Commands: tally(cmds)}
	if t.clicks {
		c := tally(clicks)
		r.Clicks = &c
	}
	return r
}
