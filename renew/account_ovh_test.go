package renew_test

// Account through the real OVHcloud adapter, over HTTP, against the fake
// OVHcloud. An external test package: renew/ovhcloud imports renew.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/ovhcloud"
)

// fakeAccount starts a fake OVHcloud holding n manual VPS, expiring one a
// day from now, each call answered after latency, and a signed client of
// it whose clock offset is already known (so /auth/time is not counted
// against the listing).
func fakeAccount(tb testing.TB, n int, latency time.Duration, change ...func(*ovhcloud.Config)) (*ovhfake.Server, *ovhcloud.Client) {
	tb.Helper()
	fake := ovhfake.New()
	midnight := time.Now().UTC().Truncate(24 * time.Hour)
	for i := range n {
		id := int64(100000 + i)
		fake.AddService(ovhfake.Service{
			ID: id, Name: fmt.Sprintf("vps-%d.example.net", id), DisplayName: fmt.Sprintf("box-%d", i),
			Type: "VPS", Product: "vps-value-1-2-40", ProductText: "VPS Value 1-2-40",
			Expiration: midnight.AddDate(0, 0, i%400), RenewPeriod: "P1M",
		})
	}
	fake.SetLatency(latency)
	base := fake.Start()
	tb.Cleanup(fake.Close)
	cfg := ovhcloud.Config{
		Endpoint: base, ApplicationKey: "ak", ApplicationSecret: "as", ConsumerKey: "ck",
		Timeout: 5 * time.Second, Backoff: 5 * time.Millisecond,
	}
	for _, f := range change {
		f(&cfg)
	}
	c, err := ovhcloud.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	// The first signed call reads the server's clock: do it now.
	if _, err := c.ServiceIDs(context.Background(), "warm-up"); err != nil {
		tb.Fatal(err)
	}
	fake.ResetCalls()
	return fake, c
}

// listed lists the account with a fresh Account (no cache) and returns
// what it read, how long it took, and the OVHcloud calls it made: the
// listing and the service reads, retries included.
func listed(tb testing.TB, fake *ovhfake.Server, c *ovhcloud.Client, concurrency int) (renew.Listing, time.Duration, int, int) {
	tb.Helper()
	fake.ResetCalls()
	a := &renew.Account{OVH: c, Concurrency: concurrency}
	start := time.Now()
	l, err := a.List(context.Background())
	took := time.Since(start)
	if err != nil {
		tb.Fatal(err)
	}
	return l, took, len(fake.CallsTo("GET", "/services")), len(fake.CallsTo("GET", "/services/*"))
}

func TestAccountHonoursRetryAfterThroughTheAdapter(t *testing.T) {
	fake, c := fakeAccount(t, 20, 0, func(cfg *ovhcloud.Config) { cfg.MaxWait = 3 * time.Second })
	fake.Inject("GET /services/*", ovhfake.Fault{Status: 429, RetryAfter: time.Second, Times: 5})
	l, _, lists, reads := listed(t, fake, c, 8)
	if len(l.Services) != 20 || len(l.Failed) != 0 {
		t.Fatalf("%d services, failed %v: a 429 hid services", len(l.Services), l.Failed)
	}
	if lists != 1 || reads != 25 {
		t.Errorf("%d listings and %d reads, want 1 and 20 + 5 retries", lists, reads)
	}
	// Each refused read was tried again only once Retry-After had passed.
	last := map[string]ovhfake.Call{}
	refused := 0
	for _, call := range fake.CallsTo("GET", "/services/*") {
		if prev, ok := last[call.Path]; ok && prev.Status == 429 {
			refused++
			if gap := call.Time.Sub(prev.Time); gap < 900*time.Millisecond {
				t.Errorf("%s retried %v after a 429 with Retry-After: 1", call.Path, gap)
			}
		}
		last[call.Path] = call
	}
	if refused != 5 {
		t.Errorf("%d retries after 429, want 5", refused)
	}
}

func TestAccountListsHealthyServicesAroundAFailingOneThroughTheAdapter(t *testing.T) {
	fake, c := fakeAccount(t, 10, 0, func(cfg *ovhcloud.Config) { cfg.Attempts = 2 })
	fake.Inject("GET /services/100003", ovhfake.Fault{Status: 500})
	fake.Inject("GET /services/100007", ovhfake.Fault{Malformed: true})
	l, _, _, _ := listed(t, fake, c, 8)
	if len(l.Services) != 8 || len(l.Failed) != 2 {
		t.Fatalf("%d services, failed %v", len(l.Services), l.Failed)
	}
	var api *renew.APIError
	if f := l.Failed[0]; f.ID != 100003 || !errors.As(f.Err, &api) || api.Status != 500 || api.QueryID == "" {
		t.Errorf("failed[0] = %d %v, want 100003 with OVHcloud's 500 and query id", f.ID, f.Err)
	}
	if f := l.Failed[1]; f.ID != 100007 || f.Err == nil {
		t.Errorf("failed[1] = %+v, want 100007", f)
	}
	view := renew.Expiring(l, time.Now(), 30)
	if len(view.Unknown) != 2 {
		t.Errorf("Expiring lists %d unknown, want 2", len(view.Unknown))
	}
}

// A behavioural check of the benchmark's claim, small enough for every
// go test run: one read per service, and concurrency 8 much faster than
// one at a time.
func TestAccountConcurrencyThroughTheAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 3 seconds")
	}
	const n = 200
	fake, c := fakeAccount(t, n, 10*time.Millisecond)
	l8, took8, lists8, reads8 := listed(t, fake, c, 8)
	l1, took1, lists1, reads1 := listed(t, fake, c, 1)
	for _, r := range []struct {
		l            renew.Listing
		lists, reads int
		concurrency  int
		took         time.Duration
	}{{l8, lists8, reads8, 8, took8}, {l1, lists1, reads1, 1, took1}} {
		if len(r.l.Services) != n || len(r.l.Failed) != 0 {
			t.Errorf("concurrency %d: %d services, %d failed", r.concurrency, len(r.l.Services), len(r.l.Failed))
		}
		if r.lists != 1 || r.reads != n {
			t.Errorf("concurrency %d: %d listings and %d reads, want 1 and %d", r.concurrency, r.lists, r.reads, n)
		}
		t.Logf("concurrency %d: %v", r.concurrency, r.took)
	}
	if took8*3 > took1 {
		t.Errorf("concurrency 8 took %v, one at a time %v: want at least 3 times faster", took8, took1)
	}
}
