package renew

import (
	"context"
	"fmt"
	"slices"
)

// Renewing tells, for services listed for renewal, which request is
// already renewing each: one that holds it (being ordered, approved or
// paid), or one that paid for renewing it from its current expiry,
// OVHcloud not having delivered yet. Lists leave such a service without
// Renew…: a click would only be refused.
type Renewing struct {
	held map[int64]*Request
	paid []*Request
}

// maxRenewing bounds the requests Renewing reads.
const maxRenewing = 500

// Renewing reads the requests that hold a service or were paid and may
// not be delivered yet.
func (rn *Renewer) Renewing(ctx context.Context) (Renewing, error) {
	var holding []State
	for s := range transitions {
		if s.Holds() {
			holding = append(holding, s)
		}
	}
	// Read apart: payments whose delivery went unconfirmed pile up, and
	// must not crowd out the requests under way.
	held, err := rn.Store.List(ctx, Filter{States: holding, Limit: maxRenewing})
	if err != nil {
		return Renewing{}, fmt.Errorf("requests under way: %w", err)
	}
	paid, err := rn.Store.List(ctx, Filter{States: []State{StatePaid, StatePaidUnconfirmed}, Limit: maxRenewing})
	if err != nil {
		return Renewing{}, fmt.Errorf("payments not delivered: %w", err)
	}
	out := Renewing{held: map[int64]*Request{}, paid: paid}
	for _, r := range held {
		for _, id := range r.Services() {
			out.held[id] = r
		}
	}
	return out, nil
}

// Of returns the request renewing svc, or nil.
func (w Renewing) Of(svc Service) *Request {
	if r := w.held[svc.ID]; r != nil {
		return r
	}
	if svc.Expiration.IsZero() {
		return nil
	}
	for _, r := range w.paid {
		if slices.ContainsFunc(r.Renewals(), func(rw Renewal) bool {
			return rw.ServiceID == svc.ID && rw.From.Equal(svc.Expiration)
		}) {
			return r
		}
	}
	return nil
}

// Mark sets Renewing on every service of l that a request renews.
func (l *ExpiringList) Mark(w Renewing) {
	for _, es := range [][]ExpiringService{l.Attention, l.Manual, l.Automatic} {
		for i := range es {
			es[i].Renewing = w.Of(es[i].Service)
		}
	}
}
