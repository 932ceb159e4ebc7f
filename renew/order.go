package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Choose creates the renew order for the chosen option. The strategy's
// services and price are read from OVHcloud again: the click only names
// an index into the options stored with the request.
func (rn *Renewer) Choose(ctx context.Context, a Action) (*Request, error) {
	r, err := rn.load(ctx, a)
	if err != nil {
		return nil, err
	}
	if r.State != StateProposed {
		return r, &StateError{ID: r.ID, State: r.State}
	}
	if rn.now().After(r.ExpiresAt) {
		r, _ = rn.expire(ctx, r, "the choice waited too long")
		return r, &StateError{ID: r.ID, State: StateExpired}
	}
	if err := rn.Policy.CheckRequester(ctx, a.User); err != nil {
		return r, err
	}
	if a.Choice < 0 || a.Choice >= len(r.Options) {
		return r, fmt.Errorf("option %d of request %s: %w", a.Choice, r.ID, ErrNotFound)
	}
	if r.DryRun != rn.DryRun {
		// The message promised a dry run (or a real order) that the bot no
		// longer makes: start again rather than surprise anyone.
		return r, fmt.Errorf("request %s proposed with dry run %v, bot now %v: %w", r.ID, r.DryRun, rn.DryRun, ErrStrategyGone)
	}
	want := r.Options[a.Choice]
	// The expiry of every other service the strategy renews is read
	// alongside the strategies: paying checks none was renewed elsewhere
	// meanwhile (the request's own was read when it was proposed).
	others := rn.readServices(ctx, slices.DeleteFunc(slices.Clone(want.Services), func(id int64) bool { return id == r.Service.ID }))
	fresh, err := rn.OVH.Strategies(ctx, r.Service.ID)
	expiries, oerr := others()
	if err != nil {
		return r, fmt.Errorf("strategies of %s: %w", r.Service.Name, err)
	}
	i := slices.IndexFunc(fresh, want.SameAs)
	if i < 0 {
		return r, ErrStrategyGone
	}
	if oerr != nil {
		return r, oerr
	}
	chosen := withExpiries(fresh[i], expiries)
	// A renewal another request paid for since the proposal: ordering
	// would only lead to a refusal at the approval.
	probe := Request{Service: r.Service, Chosen: &chosen}
	if err := rn.alreadyRenewed(ctx, probe.Renewals()); err != nil {
		return r, err
	}
	max := rn.Policy.MaxAmount
	if max > 0 && chosen.Price.Ucents > max {
		return r, &LimitError{Amount: chosen.Price, Limit: max}
	}
	in := OrderInput{Period: chosen.Period, Services: chosen.Services, DryRun: rn.DryRun}
	if max > 0 && !rn.DryRun {
		// Price the order with tax first: above the limit, no order is
		// created at all.
		preview, err := rn.OVH.CreateOrder(ctx, r.Service.ID, OrderInput{Period: in.Period, Services: in.Services, DryRun: true})
		if err != nil {
			return r, fmt.Errorf("price the order: %w", err)
		}
		if preview.PriceWithTax.Ucents > max {
			return r, &LimitError{Amount: preview.PriceWithTax, WithTax: true, Limit: max}
		}
	}
	now := rn.now()
	r, err = rn.move(ctx, r.ID, []State{StateProposed}, StateOrdering,
		Event{At: now, Actor: a.User, Action: "chose", Detail: fmt.Sprintf("%s, %d services, %s", chosen.Period.ISO(), len(chosen.Services), chosen.Price)},
		func(r *Request) { r.RequestedBy = a.User; c := chosen; r.Chosen = &c })
	if err != nil {
		return r, err
	}
	octx, cancel := rn.deadline(ctx, now)
	defer cancel()
	order, err := rn.OVH.CreateOrder(octx, r.Service.ID, in)
	if err != nil {
		msg := err.Error()
		r2, terr := rn.move(context.WithoutCancel(ctx), r.ID, []State{StateOrdering}, StateFailed,
			Event{At: rn.now(), Actor: a.User, Action: "order_failed", Detail: msg},
			func(r *Request) { r.Error = msg })
		if terr == nil {
			r = r2
		}
		var api *APIError
		if !errors.As(err, &api) || api.Status >= 500 {
			// No answer: OVHcloud may have created the order. It is never
			// paid from here and expires unpaid on its own.
			return r, fmt.Errorf("create order: %w: %w", ErrOrderUnknown, err)
		}
		return r, fmt.Errorf("create order: %w", err)
	}
	detail := fmt.Sprintf("order %d, %s with tax", order.ID, order.PriceWithTax)
	if max > 0 && order.PriceWithTax.Ucents > max {
		r2, terr := rn.move(context.WithoutCancel(ctx), r.ID, []State{StateOrdering}, StateFailed,
			Event{At: rn.now(), Actor: a.User, Action: "over_limit", Detail: detail},
			func(r *Request) { o := order; r.Order = &o; r.Error = "above the maximum amount" })
		if terr == nil {
			r = r2
		}
		return r, fmt.Errorf("order %d: %w", order.ID, &LimitError{Amount: order.PriceWithTax, WithTax: true, Limit: max})
	}
	action := "ordered"
	if rn.DryRun {
		action = "priced"
	}
	r, err = rn.move(context.WithoutCancel(ctx), r.ID, []State{StateOrdering}, StateAwaitingApproval,
		Event{At: rn.now(), Actor: a.User, Action: action, Detail: detail},
		func(r *Request) {
			o := order
			r.Order = &o
			r.OrderStatus = OrderNotPaid
			r.ExpiresAt = now.Add(rn.ttl())
			if !order.Expiration.IsZero() && order.Expiration.Before(r.ExpiresAt) {
				r.ExpiresAt = order.Expiration
			}
		})
	return r, err
}

// readServices reads services in parallel and returns a function that
// waits for them: their expiries by id, or the first error.
func (rn *Renewer) readServices(ctx context.Context, ids []int64) func() (map[int64]Service, error) {
	type read struct {
		id  int64
		svc Service
		err error
	}
	ch := make(chan read, len(ids))
	for _, id := range ids {
		go func() {
			svc, err := rn.OVH.Service(ctx, id)
			if err != nil {
				err = fmt.Errorf("service %d: %w", id, err)
			}
			ch <- read{id, svc, err}
		}()
	}
	return func() (map[int64]Service, error) {
		out := make(map[int64]Service, len(ids))
		var first error
		for range ids {
			rd := <-ch
			if rd.err != nil && first == nil {
				first = rd.err
			}
			if rd.err == nil {
				// Keyed by the id asked, not the one answered: an answer
				// naming another service must not pass for this one.
				rd.svc.ID = rd.id
				out[rd.id] = rd.svc
			}
		}
		return out, first
	}
}

// withExpiries records in s's details the expiry of each service read.
func withExpiries(s Strategy, read map[int64]Service) Strategy {
	s.Details = slices.Clone(s.Details)
	for id, svc := range read {
		i := slices.IndexFunc(s.Details, func(d ServiceDetail) bool { return d.ID == id })
		if i < 0 {
			s.Details = append(s.Details, ServiceDetail{ID: id, Name: svc.Name})
			i = len(s.Details) - 1
		}
		s.Details[i].Expiration = svc.Expiration
	}
	return s
}

// alreadyRenewed fails with an *AlreadyRenewedError when a request that
// may have paid already renews one of rws.
func (rn *Renewer) alreadyRenewed(ctx context.Context, rws []Renewal) error {
	for _, rw := range rws {
		by, err := rn.Store.RenewedBy(ctx, rw)
		if err != nil {
			return fmt.Errorf("renewals of %s: %w", rw.Name, err)
		}
		if by != nil && !rn.cancelledSince(ctx, by) {
			return &AlreadyRenewedError{Renewal: rw, By: by}
		}
	}
	return nil
}
