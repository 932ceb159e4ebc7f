package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// memStore is the part of a Store Reconcile uses, in memory.
type memStore struct {
	Store  // the rest is not called: a nil interface panics if it is
	mu     sync.Mutex
	reqs   map[string]*Request
	events []Event
}

func (s *memStore) Get(_ context.Context, id string) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return nil, ErrNotFound
	}
	c := *r
	return &c, nil
}

func (s *memStore) Transition(_ context.Context, id string, from []State, to State, ev Event, change func(*Request)) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs[id]
	if !slices.Contains(from, r.State) {
		return nil, &StateError{ID: id, State: r.State}
	}
	if change != nil {
		change(r)
	}
	r.State = to
	ev.RequestID, ev.To = id, to
	s.events = append(s.events, ev)
	c := *r
	return &c, nil
}

func (s *memStore) TransitionIfUnchanged(ctx context.Context, id string, version int64, to State, ev Event, change func(*Request)) (*Request, error) {
	s.mu.Lock()
	r := s.reqs[id]
	if r.Version != version {
		s.mu.Unlock()
		return nil, &StateError{ID: id, State: r.State}
	}
	from := r.State
	s.mu.Unlock()
	return s.Transition(ctx, id, []State{from}, to, ev, change)
}

func (s *memStore) UpdateIfUnchanged(ctx context.Context, id string, version int64, ev Event, change func(*Request)) (*Request, error) {
	return s.Update(ctx, id, ev, change)
}

func (s *memStore) Update(_ context.Context, id string, ev Event, change func(*Request)) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs[id]
	change(r)
	c := *r
	return &c, nil
}

// statusOVH answers GET /me/order/{id}/status with err, or status.
type statusOVH struct {
	OVHcloud
	status OrderStatus
	err    error
}

func (o statusOVH) OrderStatus(context.Context, int64) (OrderStatus, error) { return o.status, o.err }

// An unpaid order OVHcloud forgot after it expired answers 404: the request
// whose payment outcome was unknown ends expired, not unknown forever. A
// 404 before the order's expiry, right after a pay call, proves nothing.
func TestReconcileOrderGone(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	notFound := fmt.Errorf("ovhcloud: GET /me/order/{id}/status: %w", &APIError{Status: 404, Class: "Client::NotFound", Message: "The requested object (orderId = 7) does not exist"})
	for _, tc := range []struct {
		name    string
		expires time.Time
		err     error
		want    State
	}{
		{"gone after its expiry", now.Add(-time.Minute), notFound, StateExpired},
		{"404 before its expiry", now.Add(time.Hour), notFound, StateUnknown},
		{"no answer after its expiry", now.Add(-time.Minute), fmt.Errorf("%w", &APIError{Status: 503, Class: "Server::ServiceUnavailable", Message: "down"}), StateUnknown},
		{"refused login after its expiry", now.Add(-time.Minute), &APIError{Status: 404, Code: "NOT_CREDENTIAL", Message: "This credential does not exist"}, StateUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{reqs: map[string]*Request{"r1": {
				ID: "r1", State: StateUnknown, Order: &Order{ID: 7, Expiration: tc.expires},
				UpdatedAt: now.Add(-10 * time.Minute),
			}}}
			var told []Event
			rn := &Renewer{OVH: statusOVH{err: tc.err}, Store: store, Now: func() time.Time { return now },
				Notify: func(_ context.Context, _ *Request, ev Event) { told = append(told, ev) }}
			r, err := rn.Reconcile(context.Background(), "r1")
			if r == nil || r.State != tc.want {
				t.Fatalf("Reconcile = %+v, %v; want %s", r, err, tc.want)
			}
			if tc.want == StateExpired {
				if err != nil || len(told) != 1 || told[0].Action != "expired" || r.Error == "" {
					t.Fatalf("err %v, events %+v, error %q: want one expired event and a reason", err, told, r.Error)
				}
				return
			}
			if !errors.Is(err, ErrPaymentUnknown) || len(told) != 0 {
				t.Fatalf("err = %v, events %+v: want the outcome still unknown, nothing told", err, told)
			}
		})
	}
}

// A payment recorded by an older version, without its claim's time, is
// settled a whole delay after the latest its pay call may have left.
func TestSettleAtWithoutAClaimTime(t *testing.T) {
	rn := &Renewer{StuckAfter: time.Minute}
	sent := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	r := &Request{State: StateUnknown, PaySentAt: sent, UpdatedAt: sent}
	if got, want := rn.settleAt(r), sent.Add(45*time.Second+time.Minute); !got.Equal(want) {
		t.Errorf("settleAt = %s, want %s", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
	}
	r.ClaimedAt = sent.Add(-30 * time.Second)
	if got, want := rn.settleAt(r), sent.Add(15*time.Second+time.Minute); !got.Equal(want) {
		t.Errorf("with its claim 30 s before: settleAt = %s, want %s", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
	}
}
