package renew_test

import (
	"testing"
	"time"
)

// BenchmarkAccountList2000 lists 2,000 services from the fake OVHcloud,
// each call answered in 50 ms, through the real adapter over HTTP: once
// one at a time (the baseline, untimed) and once at concurrency 8 (timed:
// ns/op). It reports the baseline's time, the speedup and the calls, and
// fails below a 6x speedup or above one call per service plus the
// listing. The baseline alone takes about 100 s:
//
//	go test ./renew -run '^$' -bench Account -benchtime 1x
func BenchmarkAccountList2000(b *testing.B) {
	const (
		n       = 2000
		latency = 50 * time.Millisecond
	)
	fake, c := fakeAccount(b, n, latency)
	var base, conc time.Duration
	var calls int
	for range b.N {
		b.StopTimer()
		l1, took1, lists1, reads1 := listed(b, fake, c, 1)
		b.StartTimer()
		l8, took8, lists8, reads8 := listed(b, fake, c, 8)
		b.StopTimer()
		for _, l := range [][2]int{{len(l1.Services), len(l1.Failed)}, {len(l8.Services), len(l8.Failed)}} {
			if l[0] != n || l[1] != 0 {
				b.Fatalf("%d services read, %d failed; want %d and 0", l[0], l[1], n)
			}
		}
		if lists1+reads1 > n+1 || lists8+reads8 > n+1 {
			b.Fatalf("calls: %d one at a time, %d at concurrency 8; want at most %d", lists1+reads1, lists8+reads8, n+1)
		}
		base += took1
		conc += took8
		calls += lists8 + reads8
		b.StartTimer()
	}
	speedup := float64(base) / float64(conc)
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(speedup, "speedup")
	if speedup < 6 {
		b.Errorf("concurrency 8 is %.1fx faster than one at a time, want at least 6x", speedup)
	}
}
