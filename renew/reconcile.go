package renew

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Follow polls the order status of a paid request for a while and records
// it, moving the request to delivered when OVHcloud delivers.
func (rn *Renewer) Follow(ctx context.Context, id string, changed func(*Request)) (*Request, error) {
	r, err := rn.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	every := rn.FollowEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	// A number of reads rather than a deadline: the window ends whatever
	// the clock does.
	polls := max(int(rn.followFor()/every), 1)
	for i := 0; r.State == StatePaid; i++ {
		status, err := rn.OVH.OrderStatus(ctx, r.Order.ID)
		if err == nil && status != r.OrderStatus {
			switch status {
			case OrderDelivered:
				r, err = rn.move(ctx, id, []State{StatePaid}, StateDelivered,
					Event{At: rn.now(), Action: "delivered", Detail: fmt.Sprintf("order %d", r.Order.ID)},
					func(r *Request) { r.OrderStatus = status })
			case OrderCancelled:
				r, err = rn.cancelledAfterPayment(ctx, r, status)
			default:
				r, err = rn.update(ctx, id, Event{}, func(r *Request) { r.OrderStatus = status })
			}
			if err != nil {
				return r, err
			}
			if changed != nil {
				changed(r)
			}
		}
		if i+1 >= polls {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(every):
		}
	}
	if r.State == StatePaid {
		r2, err := rn.unconfirmed(ctx, r)
		if err == nil && changed != nil {
			changed(r2)
		}
		return r2, err
	}
	return r, nil
}

// followFor is how long a paid order is followed before the request
// ends, delivered or not.
func (rn *Renewer) followFor() time.Duration {
	if rn.FollowFor > 0 {
		return rn.FollowFor
	}
	return 2 * time.Minute
}

// unconfirmed ends a paid request whose delivery OVHcloud has not
// confirmed within the follow window: nothing more happens to it.
func (rn *Renewer) unconfirmed(ctx context.Context, r *Request) (*Request, error) {
	last := string(r.OrderStatus)
	if last == "" {
		last = "not read"
	}
	return rn.move(ctx, r.ID, []State{StatePaid}, StatePaidUnconfirmed,
		Event{At: rn.now(), Action: "unconfirmed", Detail: "delivery not confirmed yet, last status " + last}, nil)
}

// closePaid ends a paid request left unfollowed (a restart, a full queue)
// once its follow window is over: one status read decides between
// delivered and paid, delivery unconfirmed.
func (rn *Renewer) closePaid(ctx context.Context, r *Request) (*Request, error) {
	if r.Order != nil {
		if status, err := rn.OVH.OrderStatus(ctx, r.Order.ID); err == nil {
			switch status {
			case OrderDelivered:
				return rn.move(ctx, r.ID, []State{StatePaid}, StateDelivered,
					Event{At: rn.now(), Action: "delivered", Detail: fmt.Sprintf("order %d", r.Order.ID)},
					func(r *Request) { r.OrderStatus = status })
			case OrderCancelled:
				return rn.cancelledAfterPayment(ctx, r, status)
			}
			r.OrderStatus = status
			if r2, err := rn.update(ctx, r.ID, Event{}, func(x *Request) { x.OrderStatus = status }); err == nil {
				r = r2
			}
		}
	}
	return rn.unconfirmed(ctx, r)
}

// cancelledAfterPayment ends a paid request whose order OVHcloud
// cancelled since: the order renewed nothing, so the request stops
// counting against the budget and stops holding the renewal, which
// another request may then pay for.
func (rn *Renewer) cancelledAfterPayment(ctx context.Context, r *Request, status OrderStatus) (*Request, error) {
	return rn.moveIfUnchanged(ctx, r, StateFailed,
		Event{At: rn.now(), Action: "order_cancelled", Detail: fmt.Sprintf("OVHcloud cancelled order %d after it was paid", r.Order.ID)},
		func(x *Request) {
			x.OrderStatus = status
			x.Error = "OVHcloud cancelled the order after it was paid: it renewed nothing; any refund shows in the OVHcloud control panel"
		})
}

// cancelledSince re-reads the order of h, a request that claimed a
// renewal and was paid without its delivery being confirmed: when
// OVHcloud has cancelled that order since, h ends failed and the renewal
// is free again. It reports whether it is.
func (rn *Renewer) cancelledSince(ctx context.Context, h *Request) bool {
	if h == nil || h.State != StatePaidUnconfirmed || h.Order == nil {
		return false
	}
	status, err := rn.OVH.OrderStatus(ctx, h.Order.ID)
	if err != nil || status != OrderCancelled {
		return false
	}
	if _, err = rn.cancelledAfterPayment(ctx, h, status); err == nil {
		return true
	}
	// Someone else (another replica, at the same moment) may have ended
	// it: what counts is whether it still may have paid.
	cur, err := rn.Store.Get(ctx, h.ID)
	return err == nil && !cur.State.Counts()
}

// Reconcile settles a request whose payment outcome is unknown (or that
// was left paying by a crash) from the order status: not paid means it
// may be approved again; checking, delivering or delivered means paid.
func (rn *Renewer) Reconcile(ctx context.Context, id string) (*Request, error) {
	r, err := rn.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if (r.State == StatePaying || r.State == StateUnknown) && rn.now().Before(rn.settleAt(r)) {
		// What the caller read is stale: a new payment may be under way,
		// or OVHcloud may not show the last one yet. Not due.
		return r, nil
	}
	// Every move below is on condition that the request is still as read
	// here: a sweep acting on an old read must not settle a newer payment.
	if r.State == StatePaying {
		// Left paying by a process that died mid-payment (or before its
		// pay call, or by a version that did not record it): unknown,
		// settled by the order status like any other.
		r, err = rn.moveIfUnchanged(ctx, r, StateUnknown,
			Event{At: rn.now(), Action: "payment_unknown", Detail: "interrupted during payment"}, nil)
		if err != nil {
			return r, err
		}
	}
	if r.State != StateUnknown {
		return r, nil
	}
	status, err := rn.OVH.OrderStatus(ctx, r.Order.ID)
	if err != nil {
		if orderGone(r, err, rn.now()) {
			return rn.expireGone(ctx, r)
		}
		return r, fmt.Errorf("order status: %w: %w", ErrPaymentUnknown, err)
	}
	switch {
	case status.Paid():
		now := rn.now()
		user := lastApprover(r)
		return rn.moveIfUnchanged(ctx, r, StatePaid,
			Event{At: now, Actor: user, Action: "paid", Detail: fmt.Sprintf("order %d, %s, confirmed by the order status", r.Order.ID, r.Order.PriceWithTax)},
			func(r *Request) { r.PaidBy, r.PaidAt, r.Error, r.OrderStatus = user, now, "", status })
	case status == OrderNotPaid:
		if !r.Order.Expiration.IsZero() && rn.now().After(r.Order.Expiration) {
			return rn.moveIfUnchanged(ctx, r, StateExpired,
				Event{At: rn.now(), Action: "expired", Detail: "order expired unpaid"},
				func(r *Request) { r.Error = "the order expired before it was paid" })
		}
		return rn.moveIfUnchanged(ctx, r, StatePaymentFailed,
			Event{At: rn.now(), Action: "payment_failed", Detail: "order status is notPaid: the payment did not go through"},
			func(r *Request) { r.Error = "the payment did not go through; approve again to retry" })
	case status == OrderCancelled:
		return rn.moveIfUnchanged(ctx, r, StateFailed,
			Event{At: rn.now(), Action: "not_payable", Detail: "order status " + string(status)},
			func(r *Request) { r.OrderStatus = status; r.Error = "OVHcloud cancelled the order" })
	default:
		// documentsRequested, cancelling, unknown: the money may have been
		// taken. Stay unknown (holding the service); the next sweep looks
		// again.
		r2, err := rn.Store.UpdateIfUnchanged(ctx, r.ID, r.Version, Event{}, func(r *Request) { r.OrderStatus = status })
		if err == nil {
			rn.notify(ctx, r2, Event{RequestID: r.ID, From: r2.State, To: r2.State})
		}
		return r2, err
	}
}

// moveIfUnchanged moves r to the state to on condition that it is still
// at the version read, and tells Notify.
func (rn *Renewer) moveIfUnchanged(ctx context.Context, r *Request, to State, ev Event, change func(*Request)) (*Request, error) {
	r2, err := rn.Store.TransitionIfUnchanged(ctx, r.ID, r.Version, to, ev, change)
	if err == nil {
		ev.RequestID, ev.From, ev.To = r.ID, r.State, to
		rn.notify(ctx, r2, ev)
	}
	return r2, err
}

func lastApprover(r *Request) string {
	if len(r.Approvals) == 0 {
		return ""
	}
	return r.Approvals[len(r.Approvals)-1].User
}

// ReconcileAll settles what a crash may have left half done: payments in
// paying or unknown are checked against the order status, and orders left
// in ordering are marked failed (an order created then is never paid and
// expires on its own).
func (rn *Renewer) ReconcileAll(ctx context.Context) ([]*Request, error) {
	left, err := rn.Store.List(ctx, Filter{States: []State{StatePaying, StateUnknown, StateOrdering, StatePaid}})
	if err != nil {
		return nil, err
	}
	var out []*Request
	var errs []error
	for _, r := range left {
		if r.State == StatePaid {
			if rn.now().Before(r.PaidAt.Add(rn.followFor() + rn.stuckAfter())) {
				continue // still followed, or about to be
			}
			r2, err := rn.closePaid(ctx, r)
			if err == nil {
				out = append(out, r2)
			} else if !errors.Is(err, ErrConflict) {
				errs = append(errs, fmt.Errorf("request %s: %w", r.ID, err))
			}
			continue
		}
		if r.State == StateOrdering {
			if rn.now().Sub(r.UpdatedAt) < rn.stuckAfter() {
				continue
			}
			r2, err := rn.move(ctx, r.ID, []State{StateOrdering}, StateFailed,
				Event{At: rn.now(), Action: "order_failed", Detail: "interrupted while creating the order"},
				func(r *Request) {
					r.Error = "interrupted while creating the order: an order may exist on OVHcloud, unpaid; it expires on its own"
				})
			if err == nil {
				out = append(out, r2)
			}
			continue
		}
		if rn.now().Before(rn.settleAt(r)) {
			// paying: another replica may be paying it right now; unknown:
			// OVHcloud may still be processing the last pay call, and may
			// show it only a while after it was sent.
			continue
		}
		r2, err := rn.Reconcile(ctx, r.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("request %s: %w", r.ID, err))
			continue
		}
		out = append(out, r2)
	}
	return out, errors.Join(errs...)
}
