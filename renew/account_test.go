package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris wherever the tests run

	"github.com/renewbot/renewbot/internal/fakeclock"
)

// accountOVH is an OVHcloud account held in memory, for Account's tests:
// it lists and reads services, counts the calls, and can fail or block
// one service. Renewal calls are not expected.
type accountOVH struct {
	OVHcloud // nil: any call Account should not make panics

	mu       sync.Mutex
	services []Service
	fail     map[int64]error
	block    map[int64]bool // Service waits for its context
	listErr  error
	hold     chan struct{} // when set, ServiceIDs waits for it (or ctx)

	listCalls, serviceCalls atomic.Int64
	inFlight, maxInFlight   atomic.Int64
	delay                   time.Duration
}

func (o *accountOVH) ServiceIDs(ctx context.Context, name string) ([]int64, error) {
	o.listCalls.Add(1)
	if o.hold != nil {
		select {
		case <-o.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if name != "" {
		return nil, nil // only display names are searched by the tests
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.listErr != nil {
		return nil, o.listErr
	}
	ids := make([]int64, len(o.services))
	for i, s := range o.services {
		ids[i] = s.ID
	}
	return ids, nil
}

func (o *accountOVH) Service(ctx context.Context, id int64) (Service, error) {
	o.serviceCalls.Add(1)
	n := o.inFlight.Add(1)
	defer o.inFlight.Add(-1)
	for {
		m := o.maxInFlight.Load()
		if n <= m || o.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if o.delay > 0 {
		time.Sleep(o.delay)
	}
	o.mu.Lock()
	err, blocked := o.fail[id], o.block[id]
	i := slices.IndexFunc(o.services, func(s Service) bool { return s.ID == id })
	o.mu.Unlock()
	if blocked {
		<-ctx.Done()
		return Service{}, ctx.Err()
	}
	if err != nil {
		return Service{}, err
	}
	if i < 0 {
		return Service{}, ErrNotFound
	}
	return o.services[i], nil
}

var acctParis = acctZone("Europe/Paris")

func acctZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// acctNow is 09:00 in Paris on 2026-11-26.
var acctNow = time.Date(2026, 11, 26, 9, 0, 0, 0, acctParis)

// acctService is a manual VPS expiring days after acctNow, at midnight in Paris.
func acctService(id int64, display string, days int) Service {
	return Service{
		ID: id, Name: fmt.Sprintf("vps-%d.example.net", id), DisplayName: display,
		Product: "VPS Value 1-2-40", State: "active", RenewMode: "manual", RenewPeriod: "P1M",
		Expiration: time.Date(2026, 11, 26+days, 0, 0, 0, 0, acctParis), Billing: "active",
	}
}

// acctServices is n manual services expiring one a day.
func acctServices(n int) []Service {
	out := make([]Service, n)
	for i := range out {
		out[i] = acctService(int64(1000+i), fmt.Sprintf("box-%d", i), i)
	}
	return out
}

func TestAccountListsEveryServiceAndReportsTheFailingOne(t *testing.T) {
	down := &APIError{Status: 500, Message: "Internal server error", QueryID: "EU.q.1"}
	ovh := &accountOVH{services: acctServices(5), fail: map[int64]error{1002: down}}
	a := &Account{OVH: ovh, Now: func() time.Time { return acctNow }}
	l, err := a.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range l.Services {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []int64{1000, 1001, 1003, 1004}) {
		t.Errorf("services %v, want every one but 1002, in listing order", ids)
	}
	if len(l.Failed) != 1 || l.Failed[0].ID != 1002 || !errors.Is(l.Failed[0].Err, down) {
		t.Errorf("failed = %+v, want 1002 with its error", l.Failed)
	}
	if !l.At.Equal(acctNow) {
		t.Errorf("At = %v", l.At)
	}
	if n := ovh.serviceCalls.Load(); n != 5 {
		t.Errorf("%d service reads, want 5", n)
	}
}

func TestAccountListingFailureFailsAndIsNotCached(t *testing.T) {
	ovh := &accountOVH{services: acctServices(2), listErr: errors.New("ovhcloud: 503")}
	a := &Account{OVH: ovh}
	if _, err := a.List(context.Background()); err == nil {
		t.Fatal("List succeeded without a listing")
	}
	ovh.mu.Lock()
	ovh.listErr = nil
	ovh.mu.Unlock()
	l, err := a.List(context.Background())
	if err != nil || len(l.Services) != 2 {
		t.Fatalf("List after recovery = %d services, %v", len(l.Services), err)
	}
}

func TestAccountCachesForTTLAndInvalidates(t *testing.T) {
	ovh := &accountOVH{services: acctServices(3)}
	clk := fakeclock.New(acctNow)
	a := &Account{OVH: ovh, TTL: time.Minute, Now: clk.Now}
	ctx := context.Background()
	list := func() {
		t.Helper()
		if _, err := a.List(ctx); err != nil {
			t.Fatal(err)
		}
	}
	list()
	clk.Advance(59 * time.Second)
	list()
	if n := ovh.listCalls.Load(); n != 1 {
		t.Fatalf("%d listings within the TTL, want 1", n)
	}
	clk.Advance(time.Second)
	list()
	if n := ovh.listCalls.Load(); n != 2 {
		t.Fatalf("%d listings once the TTL passed, want 2", n)
	}
	a.Invalidate()
	list()
	if n := ovh.listCalls.Load(); n != 3 {
		t.Fatalf("%d listings after Invalidate, want 3", n)
	}

	// A caller's changes to its listing do not reach the cache.
	l, _ := a.List(ctx)
	l.Services[0].DisplayName = "changed"
	if l2, _ := a.List(ctx); l2.Services[0].DisplayName == "changed" {
		t.Error("the cache shares its slices with callers")
	}
}

func TestAccountNegativeTTLNeverCaches(t *testing.T) {
	ovh := &accountOVH{services: acctServices(1)}
	a := &Account{OVH: ovh, TTL: -1}
	for range 2 {
		if _, err := a.List(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := ovh.listCalls.Load(); n != 2 {
		t.Errorf("%d listings, want 2", n)
	}
}

func TestAccountSharesOneFetchBetweenConcurrentCallers(t *testing.T) {
	ovh := &accountOVH{services: acctServices(20), hold: make(chan struct{})}
	a := &Account{OVH: ovh}
	const callers = 10
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			l, err := a.List(context.Background())
			if err == nil && len(l.Services) != 20 {
				err = fmt.Errorf("%d services", len(l.Services))
			}
			errs <- err
		})
	}
	// Let every caller join the flight before it answers.
	acctWaitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.flight != nil && a.flight.waiters == callers
	})
	close(ovh.hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if l, s := ovh.listCalls.Load(), ovh.serviceCalls.Load(); l != 1 || s != 20 {
		t.Errorf("%d listings and %d reads for %d callers, want 1 and 20", l, s, callers)
	}
}

func TestAccountCallerGivingUpDoesNotFailTheOthers(t *testing.T) {
	ovh := &accountOVH{services: acctServices(3), hold: make(chan struct{})}
	a := &Account{OVH: ovh}
	impatient, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := a.List(impatient)
		gaveUp <- err
	}()
	patient := make(chan error, 1)
	go func() {
		l, err := a.List(context.Background())
		if err == nil && len(l.Services) != 3 {
			err = fmt.Errorf("%d services", len(l.Services))
		}
		patient <- err
	}()
	acctWaitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.flight != nil && a.flight.waiters == 2
	})
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("impatient caller: %v, want context.Canceled", err)
	}
	close(ovh.hold)
	if err := <-patient; err != nil {
		t.Errorf("patient caller: %v", err)
	}
}

func TestAccountStopsTheFetchWhenEveryCallerGivesUp(t *testing.T) {
	ovh := &accountOVH{services: acctServices(3), hold: make(chan struct{})}
	a := &Account{OVH: ovh}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.List(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("List = %v, want the caller's deadline", err)
	}
	// The held ServiceIDs sees its context cancelled, and the next caller
	// starts a fetch of its own rather than joining the dead one.
	acctWaitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.flight == nil
	})
	close(ovh.hold)
	l, err := a.List(context.Background())
	if err != nil || len(l.Services) != 3 {
		t.Fatalf("next List = %d services, %v", len(l.Services), err)
	}
	if n := ovh.serviceCalls.Load(); n != 3 {
		t.Errorf("%d service reads, want 3: the abandoned fetch read none", n)
	}
}

func TestAccountBoundsConcurrency(t *testing.T) {
	for _, c := range []struct{ set, want int64 }{{3, 3}, {0, DefaultConcurrency}} {
		ovh := &accountOVH{services: acctServices(40), delay: 5 * time.Millisecond}
		a := &Account{OVH: ovh, Concurrency: int(c.set)}
		if _, err := a.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := ovh.maxInFlight.Load(); got != c.want {
			t.Errorf("Concurrency %d: %d reads in flight at most, want %d", c.set, got, c.want)
		}
	}
}

func TestAccountSlowServiceDoesNotHoldUpTheOthers(t *testing.T) {
	ovh := &accountOVH{services: acctServices(4), block: map[int64]bool{1001: true}}
	a := &Account{OVH: ovh, ServiceTimeout: 50 * time.Millisecond}
	// The blocked read never answers: the listing ends only because that
	// one read has a deadline of its own.
	l, err := a.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Services) != 3 || len(l.Failed) != 1 || l.Failed[0].ID != 1001 {
		t.Fatalf("services %d, failed %+v", len(l.Services), l.Failed)
	}
	if !errors.Is(l.Failed[0].Err, context.DeadlineExceeded) {
		t.Errorf("failure %v, want a deadline", l.Failed[0].Err)
	}
}

func TestAccountServicesServesRenewerLookup(t *testing.T) {
	ovh := &accountOVH{services: acctServices(3)}
	ovh.fail = map[int64]error{1002: errors.New("boom")}
	a := &Account{OVH: ovh}
	rn := &Renewer{OVH: ovh, Lookup: a.Services}
	got, err := rn.Resolve(context.Background(), "box-1")
	if err != nil || got.ID != 1001 {
		t.Fatalf("Resolve(box-1) = %d, %v", got.ID, err)
	}
	if _, err := rn.Resolve(context.Background(), "box-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve of the unreadable service = %v, want not found", err)
	}
}

func TestAccountReadsDuplicateIDsOnce(t *testing.T) {
	ovh := &dupOVH{accountOVH: &accountOVH{services: acctServices(2)}}
	a := &Account{OVH: ovh}
	l, err := a.List(context.Background())
	if err != nil || len(l.Services) != 2 {
		t.Fatalf("%d services, %v", len(l.Services), err)
	}
	if n := ovh.serviceCalls.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
}

// dupOVH lists every id twice.
type dupOVH struct{ *accountOVH }

func (o *dupOVH) ServiceIDs(ctx context.Context, name string) ([]int64, error) {
	ids, err := o.accountOVH.ServiceIDs(ctx, name)
	return append(ids, ids...), err
}

func acctWaitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
