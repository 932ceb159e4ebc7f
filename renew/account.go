package renew

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Account reads every service of the OVHcloud account: GET /services, then
// GET /services/{id} for each, a few at a time. The listing is cached for a
// short while and shared: however many callers ask at once (a /renew list,
// the reminders, a lookup by display name), one fetch is in flight.
//
// Retries, 429 and Retry-After are the OVHcloud adapter's business: it
// retries GETs. Account only makes sure that a service that still fails
// is listed as failed instead of failing the whole listing.
//
// Set the fields before the first call; an Account is safe for concurrent
// use.
type Account struct {
	OVH OVHcloud
	// Concurrency bounds the service reads in flight (default 8).
	Concurrency int
	// TTL is how long a listing is served from the cache (default 5
	// minutes; negative: never cached).
	TTL time.Duration
	// ServiceTimeout bounds the read of one service, retries included
	// (default 30s): a service that hangs is listed as failed rather than
	// holding up the listing.
	ServiceTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu     sync.Mutex
	cached *Listing
	gen    uint64 // bumped by Invalidate: a fetch started before must not be cached
	flight *flight
}

// Defaults of Account.
const (
	DefaultConcurrency    = 8
	DefaultListingTTL     = 5 * time.Minute
	DefaultServiceTimeout = 30 * time.Second
)

// Listing is the account's services at one moment.
type Listing struct {
	// Services were read, in the order GET /services listed them.
	Services []Service
	// Failed are the services that could not be read, in the same order.
	Failed []FailedService
	// At is when the listing was fetched.
	At time.Time
}

// FailedService is a service whose details could not be read: all that is
// known is its id and why.
type FailedService struct {
	ID  int64
	Err error
}

// flight is one fetch shared by the callers waiting for it. It runs on a
// context of its own, cancelled once every caller has given up, so one
// impatient caller does not fail the others.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int
	gen     uint64
	l       Listing
	err     error
}

func (a *Account) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Account) ttl() time.Duration {
	if a.TTL == 0 {
		return DefaultListingTTL
	}
	return a.TTL
}

// List returns the account's services, from the cache when it is fresh.
// It fails only when the services cannot be listed at all; a service that
// cannot be read is in Listing.Failed. The slices are the caller's own.
func (a *Account) List(ctx context.Context) (Listing, error) {
	a.mu.Lock()
	if c := a.cached; c != nil && a.now().Sub(c.At) < a.ttl() {
		a.mu.Unlock()
		return c.clone(), nil
	}
	f := a.flight
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel, gen: a.gen}
		a.flight = f
		go a.run(fctx, f)
	}
	f.waiters++
	a.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return Listing{}, f.err
		}
		return f.l.clone(), nil
	case <-ctx.Done():
		a.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody wants this fetch any more: stop it, and let the
			// next caller start afresh rather than join a dying one.
			f.cancel()
			if a.flight == f {
				a.flight = nil
			}
		}
		a.mu.Unlock()
		return Listing{}, ctx.Err()
	}
}

// Cached returns the cached listing when it is fresh, without calling
// OVHcloud: the Home tab shows it at once, and reads the account in the
// background otherwise.
func (a *Account) Cached() (Listing, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.cached; c != nil && a.now().Sub(c.At) < a.ttl() {
		return c.clone(), true
	}
	return Listing{}, false
}

// run fetches for a flight and caches the result, unless Invalidate was
// called meanwhile.
func (a *Account) run(ctx context.Context, f *flight) {
	defer f.cancel()
	l, err := a.fetch(ctx)
	a.mu.Lock()
	f.l, f.err = l, err
	if err == nil && f.gen == a.gen && a.ttl() > 0 {
		a.cached = &l
	}
	if a.flight == f {
		a.flight = nil
	}
	a.mu.Unlock()
	close(f.done)
}

// Services returns the services that could be read, with the signature of
// Renewer.Lookup. Services that could not be read are left out: a lookup
// by display name then misses them rather than failing for all.
func (a *Account) Services(ctx context.Context) ([]Service, error) {
	l, err := a.List(ctx)
	if err != nil {
		return nil, err
	}
	return l.Services, nil
}

// Invalidate forgets the cached listing, e.g. after a renewal moved an
// expiry date: the next List reads OVHcloud again. A fetch already in
// flight still answers its callers but is not cached.
func (a *Account) Invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cached = nil
	a.gen++
}

// fetch reads the ids, then each service with at most Concurrency reads in
// flight.
func (a *Account) fetch(ctx context.Context) (Listing, error) {
	ids, err := a.OVH.ServiceIDs(ctx, "")
	if err != nil {
		return Listing{}, fmt.Errorf("list services: %w", err)
	}
	ids = unique(ids)
	type result struct {
		svc Service
		err error
	}
	results := make([]result, len(ids))
	next := make(chan int)
	workers := min(cmp.Or(max(a.Concurrency, 0), DefaultConcurrency), len(ids))
	timeout := cmp.Or(a.ServiceTimeout, DefaultServiceTimeout)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				sctx, cancel := context.WithTimeout(ctx, timeout)
				svc, err := a.OVH.Service(sctx, ids[i])
				cancel()
				results[i] = result{svc, err}
			}
		})
	}
feed:
	for i := range ids {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Listing{}, fmt.Errorf("list services: %w", err)
	}

	l := Listing{Services: make([]Service, 0, len(ids)), At: a.now()}
	for i, r := range results {
		switch {
		case r.err != nil:
			l.Failed = append(l.Failed, FailedService{ID: ids[i], Err: r.err})
		default:
			if r.svc.ID == 0 {
				r.svc.ID = ids[i]
			}
			l.Services = append(l.Services, r.svc)
		}
	}
	return l, nil
}

// unique drops repeated ids, keeping the first of each.
func unique(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (l Listing) clone() Listing {
	l.Services = slices.Clone(l.Services)
	l.Failed = slices.Clone(l.Failed)
	return l
}
