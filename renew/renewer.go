package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Renewer carries out the renewal flow: it reads OVHcloud, applies the
// policy and moves requests through their states in the Store. It knows
// nothing of Slack: the transport renders what it returns.
type Renewer struct {
	OVH     OVHcloud
	Store   Store
	Policy  *Policy
	Payment Payment
	// DryRun prices orders with dryRun true and never pays.
	DryRun bool
	// Budget limits what the payments of a month may add up to; the
	// zero Budget is none.
	Budget Budget
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// FollowFor and FollowEvery bound how the order status is followed
	// after payment.
	FollowFor   time.Duration
	FollowEvery time.Duration
	// Lookup finds services by display name; nil means only names and ids
	// resolve.
	Lookup func(ctx context.Context) ([]Service, error)
	// StuckAfter is how long a request may sit in ordering or paying
	// before the reconciler decides the process working on it died
	// (default 2 minutes: longer than any OVHcloud call is allowed).
	StuckAfter time.Duration
	// Notify, when set, hears every change a Renewer makes, once written:
	// the transport updates the request's message from it.
	Notify func(ctx context.Context, r *Request, ev Event)
}

// move is Store.Transition followed by Notify.
func (rn *Renewer) move(ctx context.Context, id string, from []State, to State, ev Event, change func(*Request)) (*Request, error) {
	r, err := rn.Store.Transition(ctx, id, from, to, ev, change)
	if err == nil {
		ev.RequestID, ev.To = id, to
		rn.notify(ctx, r, ev)
	}
	return r, err
}

// update is Store.Update followed by Notify.
func (rn *Renewer) update(ctx context.Context, id string, ev Event, change func(*Request)) (*Request, error) {
	r, err := rn.Store.Update(ctx, id, ev, change)
	if err == nil {
		ev.RequestID, ev.From, ev.To = id, r.State, r.State
		rn.notify(ctx, r, ev)
	}
	return r, err
}

func (rn *Renewer) notify(ctx context.Context, r *Request, ev Event) {
	if rn.Notify != nil {
		rn.Notify(context.WithoutCancel(ctx), r, ev)
	}
}

func (rn *Renewer) now() time.Time {
	if rn.Now != nil {
		return rn.Now()
	}
	return time.Now()
}

// ProposeInput is a /renew command.
type ProposeInput struct {
	Channel string
	User    string
	Query   string // service name, display name or numeric id
	Period  Period // zero for all periods
}

// NoStrategiesError says no strategy matched, and which periods OVHcloud
// offers. It wraps ErrNoStrategies.
type NoStrategiesError struct {
	Service Service
	Period  Period
	Offered []Period
}

func (e *NoStrategiesError) Error() string {
	return fmt.Sprintf("no renewal strategy for %s (%s)", e.Service.Name, e.Period)
}

func (e *NoStrategiesError) Unwrap() error { return ErrNoStrategies }

// Propose resolves the service, reads its strategies and stores a proposed
// request whose options the message will show.
func (rn *Renewer) Propose(ctx context.Context, in ProposeInput) (*Request, error) {
	if err := rn.Policy.CheckChannel(in.Channel); err != nil {
		return nil, err
	}
	if err := rn.Policy.CheckRequester(ctx, in.User); err != nil {
		return nil, err
	}
	// A numeric id needs no lookup: read the service and its strategies
	// at the same time, halving the wait for the message.
	type strategies struct {
		list []Strategy
		err  error
	}
	var early chan strategies
	if id, err := strconv.ParseInt(strings.TrimSpace(in.Query), 10, 64); err == nil && id > 0 {
		early = make(chan strategies, 1)
		go func() {
			list, err := rn.OVH.Strategies(ctx, id)
			early <- strategies{list, err}
		}()
	}
	svc, err := rn.Resolve(ctx, in.Query)
	if err != nil {
		return nil, err
	}
	// Tell at once when another request is renewing the service: it
	// would win any order this proposal could make.
	if h, err := rn.Store.Holder(ctx, svc.ID); err != nil {
		return nil, fmt.Errorf("service %s: %w", svc.Name, err)
	} else if h != nil {
		return nil, &BusyError{ServiceID: svc.ID, Holder: h}
	}
	var all []Strategy
	if early != nil {
		got := <-early
		all, err = got.list, got.err
	} else {
		all, err = rn.OVH.Strategies(ctx, svc.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("strategies of %s: %w", svc.Name, err)
	}
	opts := all
	if !in.Period.IsZero() {
		opts = slices.DeleteFunc(slices.Clone(all), func(s Strategy) bool { return s.Period != in.Period })
	}
	if len(opts) == 0 {
		return nil, &NoStrategiesError{Service: svc, Period: in.Period, Offered: periods(all)}
	}
	now := rn.now()
	r := &Request{
		ID:          NewID(),
		State:       StateProposed,
		Channel:     in.Channel,
		InitiatedBy: in.User,
		Service:     svc,
		Options:     opts,
		DryRun:      rn.DryRun,
		CreatedAt:   now,
		UpdatedAt:   now,
		ExpiresAt:   now.Add(rn.ttl()),
	}
	ev := Event{At: now, Actor: in.User, Action: "proposed", To: StateProposed,
		Detail: fmt.Sprintf("%s: %d strategies", svc.Name, len(opts))}
	if err := rn.Store.Create(ctx, r, ev); err != nil {
		return nil, fmt.Errorf("store request: %w", err)
	}
	return r, nil
}

func (rn *Renewer) ttl() time.Duration {
	if rn.Policy.TTL > 0 {
		return rn.Policy.TTL
	}
	return 24 * time.Hour
}

func periods(ss []Strategy) []Period {
	var out []Period
	for _, s := range ss {
		if !slices.Contains(out, s.Period) {
			out = append(out, s.Period)
		}
	}
	return out
}

// Resolve finds one service by numeric id, service name or display name.
func (rn *Renewer) Resolve(ctx context.Context, query string) (Service, error) {
	query = strings.TrimSpace(query)
	if id, err := strconv.ParseInt(query, 10, 64); err == nil && id > 0 {
		svc, err := rn.OVH.Service(ctx, id)
		if err != nil {
			return Service{}, fmt.Errorf("service %d: %w", id, err)
		}
		return svc, nil
	}
	ids, err := rn.OVH.ServiceIDs(ctx, query)
	if err != nil {
		return Service{}, fmt.Errorf("find %q: %w", query, err)
	}
	switch {
	case len(ids) == 1:
		svc, err := rn.OVH.Service(ctx, ids[0])
		if err != nil {
			return Service{}, fmt.Errorf("service %d: %w", ids[0], err)
		}
		return svc, nil
	case len(ids) > 1:
		matches := make([]Service, 0, len(ids))
		for _, id := range ids {
			svc, err := rn.OVH.Service(ctx, id)
			if err != nil {
				return Service{}, fmt.Errorf("service %d: %w", id, err)
			}
			matches = append(matches, svc)
		}
		return Service{}, &AmbiguousError{Query: query, Matches: matches}
	}
	if rn.Lookup == nil {
		return Service{}, fmt.Errorf("service %q: %w", query, ErrNotFound)
	}
	all, err := rn.Lookup(ctx)
	if err != nil {
		return Service{}, fmt.Errorf("list services: %w", err)
	}
	var matches []Service
	for _, s := range all {
		if s.DisplayName != "" && strings.EqualFold(s.DisplayName, query) {
			matches = append(matches, s)
		}
	}
	switch len(matches) {
	case 0:
		return Service{}, fmt.Errorf("service %q: %w", query, ErrNotFound)
	case 1:
		return matches[0], nil
	}
	return Service{}, &AmbiguousError{Query: query, Matches: matches}
}

// Action is a click on a request's message.
type Action struct {
	RequestID string
	User      string
	Channel   string
	Choice    int    // for Choose: the option's index
	Reason    string // for Cancel
	// Attempt, for Approve, is the round of approval the button was shown
	// for: a click for another round (a replay) counts for nothing.
	Attempt int
}

// load reads the request and checks the click came from its channel.
func (rn *Renewer) load(ctx context.Context, a Action) (*Request, error) {
	r, err := rn.Store.Get(ctx, a.RequestID)
	if err != nil {
		return nil, err
	}
	if a.Channel != r.Channel {
		return nil, fmt.Errorf("request %s: %w", r.ID, ErrOtherChannel)
	}
	if err := rn.Policy.CheckChannel(r.Channel); err != nil {
		return nil, err
	}
	return r, nil
}

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
	max := rn.Policy.MaxAmount
	if max > 0 && chosen.Price.Ucents > max {
		return r, fmt.Errorf("%s without tax: %w", chosen.Price, ErrOverLimit)
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
			return r, fmt.Errorf("%s with tax: %w", preview.PriceWithTax, ErrOverLimit)
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
		return r, fmt.Errorf("order %d at %s: %w", order.ID, order.PriceWithTax, ErrOverLimit)
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

// ApproveResult is what an approval led to.
type ApproveResult struct {
	Request *Request
	// Missing is how many approvals are still needed.
	Missing int
	// Already is true when this user had approved before: it counts once.
	Already bool
}

var approvable = []State{StateAwaitingApproval, StatePaymentFailed}

// Approve records an approval and, when it is the last one needed, pays
// the order. Only one caller can move the request to paying, so the order
// is paid at most once however many clicks arrive together.
func (rn *Renewer) Approve(ctx context.Context, a Action) (ApproveResult, error) {
	r, err := rn.load(ctx, a)
	if err != nil {
		return ApproveResult{}, err
	}
	res := ApproveResult{Request: r}
	if r.State == StateUnknown {
		// Never pay again before knowing whether the last payment went
		// through, and never on a status read right after it: OVHcloud
		// may still be processing it. Settling it is this click's whole
		// work; paying again takes another.
		if rn.now().Before(rn.settleAt(r)) {
			return res, &StateError{ID: r.ID, State: r.State}
		}
		if r, err = rn.Reconcile(ctx, r.ID); err != nil {
			return res, err
		}
		res.Request = r
		return res, &StateError{ID: r.ID, State: r.State}
	}
	if !slices.Contains(approvable, r.State) {
		return res, &StateError{ID: r.ID, State: r.State}
	}
	if r.DryRun || rn.DryRun {
		// Either the request was priced in a dry run, or the bot runs one
		// now: nothing is paid either way.
		return res, ErrDryRun
	}
	if err := rn.Policy.CheckApprover(ctx, r, a.User); err != nil {
		return res, err
	}
	now := rn.now()
	if r.Order != nil && !r.Order.Expiration.IsZero() && now.After(r.Order.Expiration) {
		r, _ = rn.expire(ctx, r, "the OVHcloud order expired")
		res.Request = r
		return res, ErrOrderExpired
	}
	if now.After(r.ExpiresAt) {
		r, _ = rn.expire(ctx, r, "nobody approved it in time")
		res.Request = r
		return res, &StateError{ID: r.ID, State: StateExpired}
	}
	if max := rn.Policy.MaxAmount; max > 0 && r.Order != nil && r.Order.PriceWithTax.Ucents > max {
		// The limit may have been lowered since the order was created.
		return res, fmt.Errorf("order %d at %s: %w", r.Order.ID, r.Order.PriceWithTax, ErrOverLimit)
	}
	need := rn.Policy.NeedApprovals()
	r, moved, err := rn.Store.Approve(ctx, r.ID, approvable, Approval{User: a.User, At: now, Attempt: a.Attempt}, need, rn.Budget)
	if err != nil {
		if r != nil {
			res.Request = r
		}
		return res, err
	}
	res.Request = r
	// The store records a user's approval once; its time tells whether
	// this click is the one that was recorded.
	res.Already = !slices.ContainsFunc(r.Approvals, func(ap Approval) bool { return ap.User == a.User && ap.At.Equal(now) })
	var approved *Event
	if !res.Already {
		approved = &Event{RequestID: r.ID, At: now, Actor: a.User, Action: "approved", To: r.State,
			Detail: fmt.Sprintf("%d of %d", min(len(r.Approvals), need), need)}
	}
	if !moved {
		if approved != nil {
			rn.notify(ctx, r, *approved)
		}
		res.Missing = need - len(r.Approvals)
		return res, nil
	}
	// This click claimed the payment. Nothing that may wait on Slack runs
	// before the pay call: the approval is told once the call is over.
	res.Request, err = rn.pay(ctx, r, a.User, now, approved)
	return res, err
}

// readServices reads services in parallel and returns a function that
// waits for them: their expiries by id, or the first error.
func (rn *Renewer) readServices(ctx context.Context, ids []int64) func() (map[int64]Service, error) {
	type read struct {
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
			ch <- read{svc, err}
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
			out[rd.svc.ID] = rd.svc
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

// renewedElsewhere reports a service of r whose expiry moved since it was
// read (the request's own at the proposal, the others at the choice).
func renewedElsewhere(r *Request, now map[int64]Service) *RenewedElsewhereError {
	if svc, ok := now[r.Service.ID]; ok && !svc.Expiration.Equal(r.Service.Expiration) {
		return &RenewedElsewhereError{Service: r.Service, Was: r.Service.Expiration, Now: svc.Expiration}
	}
	if r.Chosen == nil {
		return nil
	}
	for _, d := range r.Chosen.Details {
		svc, ok := now[d.ID]
		if d.ID == r.Service.ID || d.Expiration.IsZero() || !ok || svc.Expiration.Equal(d.Expiration) {
			continue
		}
		return &RenewedElsewhereError{Service: svc, Was: d.Expiration, Now: svc.Expiration}
	}
	return nil
}

// settleAt is when a payment of unknown outcome may be settled from the
// order status: RENEWBOT_STUCK_AFTER after the pay call was sent (OVHcloud
// may show a payment late), or after the claim when no call was sent.
func (rn *Renewer) settleAt(r *Request) time.Time {
	from := r.UpdatedAt
	if !r.PaySentAt.IsZero() {
		from = r.PaySentAt
	}
	return from.Add(rn.stuckAfter())
}

// deadline bounds work done on a claimed request (ordering, paying): it
// ends well before the reconciler may decide the claimer died, so no
// OVHcloud call is ever still under way when the reconciler acts.
//
// claimed is on the renewer's clock (the database's): the time left is
// measured on that clock and counted down on this process's, so a clock
// that disagrees with the database's moves the deadline by nothing.
func (rn *Renewer) deadline(ctx context.Context, claimed time.Time) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, claimed.Add(rn.stuckAfter()*3/4).Sub(rn.now()))
}

// pay checks the order and pays it. r is in StatePaying, and only this
// caller got it there.
func (rn *Renewer) pay(ctx context.Context, r *Request, user string, claimed time.Time, approved *Event) (*Request, error) {
	bg := context.WithoutCancel(ctx) // a state change must be written even if the click's context ends
	ctx, cancel := rn.deadline(ctx, claimed)
	defer cancel()
	announce := func() {
		if approved != nil {
			rn.notify(bg, r, *approved)
			approved = nil
		}
	}
	fail := func(to State, action string, cause error) (*Request, error) {
		announce()
		msg := cause.Error()
		r2, err := rn.move(bg, r.ID, []State{StatePaying}, to,
			Event{At: rn.now(), Actor: user, Action: action, Detail: msg},
			func(r *Request) { r.Error = msg })
		if err != nil {
			return r, errors.Join(cause, err)
		}
		return r2, cause
	}
	if ctx.Err() != nil {
		return fail(StatePaymentFailed, "payment_failed", errors.New("took too long before paying (Slack was slow); nothing was paid"))
	}
	// The order status and the services, read together: paying still
	// takes two round trips to OVHcloud.
	services := rn.readServices(ctx, r.Services())
	status, err := rn.OVH.OrderStatus(ctx, r.Order.ID)
	now, svcErr := services()
	if err != nil {
		return fail(StatePaymentFailed, "payment_failed", fmt.Errorf("order status: %w", err))
	}
	switch {
	case status.Paid():
		announce()
		return rn.markPaid(bg, r, user, status, "already paid on OVHcloud")
	case status != OrderNotPaid:
		return fail(StateFailed, "not_payable", fmt.Errorf("order %d is %s: %w", r.Order.ID, status, ErrOrderNotPayable))
	}
	if svcErr != nil {
		return fail(StatePaymentFailed, "payment_failed", fmt.Errorf("check the service before paying: %w", svcErr))
	}
	if moved := renewedElsewhere(r, now); moved != nil {
		// Renewed in the Control Panel, automatically, or by an earlier
		// order delivered since the strategies were shown: this order
		// would renew it a second time.
		return fail(StateFailed, "renewed_elsewhere", moved)
	}
	if !r.Order.Expiration.IsZero() && rn.now().After(r.Order.Expiration) {
		return fail(StateFailed, "order_expired", ErrOrderExpired)
	}
	if rn.DryRun || r.DryRun {
		return fail(StateFailed, "not_payable", ErrDryRun)
	}
	if ctx.Err() != nil {
		// Too slow before the pay call (Slack, status reads): stop while
		// it is certain nothing was paid.
		return fail(StatePaymentFailed, "payment_failed", errors.New("took too long before paying; nothing was paid"))
	}
	// The last check and the record of the call's time, in one write: if
	// anyone (the reconciler, another replica) wrote the request since the
	// claim, nothing is paid.
	sent, err := rn.Store.UpdateIfUnchanged(bg, r.ID, r.Version, Event{}, func(x *Request) { x.PaySentAt = rn.now() })
	if err != nil {
		announce()
		if sent != nil {
			return sent, fmt.Errorf("request changed before the pay call, nothing was paid: %w", err)
		}
		return r, fmt.Errorf("record the pay call, nothing was paid: %w", err)
	}
	r = sent
	err = rn.payCall(ctx, r.Order.ID)
	announce()
	if err != nil {
		// A refusal (4xx) or a failure before the pay call certainly did
		// not pay. A 5xx may come from a proxy after OVHcloud took the
		// money: like a timeout, only the order status can tell.
		var api *APIError
		var pre *preflightError
		if errors.As(err, &pre) || errors.As(err, &api) && api.Status < 500 {
			return fail(StatePaymentFailed, "payment_failed", err)
		}
		// A timeout or a cut connection: OVHcloud may have taken the
		// money. Only the order status can tell.
		return fail(StateUnknown, "payment_unknown", fmt.Errorf("%w: %v", ErrPaymentUnknown, err))
	}
	// The status is read again by Follow; until then it is not known.
	r2, err := rn.markPaid(bg, r, user, "", "")
	if err != nil {
		return r, fmt.Errorf("order %d: %w: %w", r.Order.ID, ErrPaidNotRecorded, err)
	}
	return r2, nil
}

func (rn *Renewer) payCall(ctx context.Context, orderID int64) error {
	if rn.Payment.Mean == "" {
		id, err := rn.OVH.DefaultPaymentMethod(ctx)
		if err != nil {
			return &preflightError{err}
		}
		return rn.OVH.PayOrder(ctx, orderID, id)
	}
	return rn.OVH.PayWithMean(ctx, orderID, rn.Payment.Mean, rn.Payment.MeanID)
}

// preflightError marks a failure before any pay call was sent: the
// payment certainly did not happen.
type preflightError struct{ err error }

func (e *preflightError) Error() string { return "payment method: " + e.err.Error() }
func (e *preflightError) Unwrap() error { return e.err }

func (rn *Renewer) markPaid(ctx context.Context, r *Request, user string, status OrderStatus, note string) (*Request, error) {
	now := rn.now()
	detail := fmt.Sprintf("order %d, %s", r.Order.ID, r.Order.PriceWithTax)
	if note != "" {
		detail += ", " + note
	}
	return rn.move(ctx, r.ID, []State{StatePaying, StateUnknown}, StatePaid,
		Event{At: now, Actor: user, Action: "paid", Detail: detail},
		func(r *Request) {
			r.PaidBy, r.PaidAt, r.Error, r.OrderStatus = user, now, "", status
		})
}

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
			if status == OrderDelivered {
				r, err = rn.move(ctx, id, []State{StatePaid}, StateDelivered,
					Event{At: rn.now(), Action: "delivered", Detail: fmt.Sprintf("order %d", r.Order.ID)},
					func(r *Request) { r.OrderStatus = status })
			} else {
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
			if status == OrderDelivered {
				return rn.move(ctx, r.ID, []State{StatePaid}, StateDelivered,
					Event{At: rn.now(), Action: "delivered", Detail: fmt.Sprintf("order %d", r.Order.ID)},
					func(r *Request) { r.OrderStatus = status })
			}
			r.OrderStatus = status
			if r2, err := rn.update(ctx, r.ID, Event{}, func(x *Request) { x.OrderStatus = status }); err == nil {
				r = r2
			}
		}
	}
	return rn.unconfirmed(ctx, r)
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

// Cancel ends a request that has not been paid.
func (rn *Renewer) Cancel(ctx context.Context, a Action) (*Request, error) {
	r, err := rn.load(ctx, a)
	if err != nil {
		return nil, err
	}
	if !r.State.Open() {
		return r, &StateError{ID: r.ID, State: r.State}
	}
	if err := rn.Policy.CheckCancel(ctx, r, a.User); err != nil {
		return r, err
	}
	reason := strings.TrimSpace(a.Reason)
	return rn.move(ctx, r.ID, []State{StateProposed, StateAwaitingApproval, StatePaymentFailed}, StateCancelled,
		Event{At: rn.now(), Actor: a.User, Action: "cancelled", Detail: reason},
		func(r *Request) { r.CancelledBy, r.CancelReason = a.User, reason })
}

func (rn *Renewer) expire(ctx context.Context, r *Request, why string) (*Request, error) {
	r2, err := rn.move(context.WithoutCancel(ctx), r.ID,
		[]State{StateProposed, StateAwaitingApproval, StatePaymentFailed}, StateExpired,
		Event{At: rn.now(), Action: "expired", Detail: why},
		func(r *Request) { r.Error = why })
	if err != nil {
		return r, err
	}
	return r2, nil
}

// ExpireDue moves every open request past its expiry to expired and
// returns them, so their messages can be updated.
func (rn *Renewer) ExpireDue(ctx context.Context) ([]*Request, error) {
	due, err := rn.Store.List(ctx, Filter{States: []State{StateProposed, StateAwaitingApproval, StatePaymentFailed}, ExpiresBefore: rn.now()})
	if err != nil {
		return nil, err
	}
	var out []*Request
	for _, r := range due {
		why := "nobody approved it in time"
		if r.State == StateProposed {
			why = "nobody chose a strategy in time"
		}
		if r.Order != nil && !r.Order.Expiration.IsZero() && !rn.now().Before(r.Order.Expiration) {
			why = "the OVHcloud order expired"
		}
		r2, err := rn.expire(ctx, r, why)
		if errors.Is(err, ErrConflict) {
			continue // someone acted on it meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, r2)
	}
	return out, nil
}

// Get returns a request.
func (rn *Renewer) Get(ctx context.Context, id string) (*Request, error) {
	return rn.Store.Get(ctx, id)
}

// Posted records the ts of the request's channel message.
func (rn *Renewer) Posted(ctx context.Context, id, ts string) (*Request, error) {
	return rn.Store.Update(ctx, id, Event{}, func(r *Request) { r.MessageTS = ts })
}

// Abandon ends a proposed request whose message could not be posted.
func (rn *Renewer) Abandon(ctx context.Context, id, why string) {
	_, _ = rn.Store.Transition(ctx, id, []State{StateProposed}, StateCancelled,
		Event{At: rn.now(), Action: "abandoned", Detail: why}, func(r *Request) { r.Error = why })
}

func (rn *Renewer) stuckAfter() time.Duration {
	if rn.StuckAfter > 0 {
		return rn.StuckAfter
	}
	return 2 * time.Minute
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

// Open returns the requests of channel that wait for someone, newest
// first.
func (rn *Renewer) Open(ctx context.Context, channel string) ([]*Request, error) {
	return rn.Store.List(ctx, Filter{Channel: channel, States: []State{StateProposed, StateOrdering, StateAwaitingApproval, StatePaying, StatePaymentFailed, StateUnknown}, Limit: 50})
}

// History returns the last events of channel, of one service when query
// names one.
func (rn *Renewer) History(ctx context.Context, channel, query string, limit int) ([]Event, error) {
	f := EventFilter{Channel: channel, Limit: limit}
	if query != "" {
		svc, err := rn.Resolve(ctx, query)
		if err != nil {
			return nil, err
		}
		f.ServiceID = svc.ID
	}
	return rn.Store.Events(ctx, f)
}

// CheckCancel tells whether user may cancel request id now, without
// changing anything: the transport asks before opening the reason dialog.
func (rn *Renewer) CheckCancel(ctx context.Context, a Action) (*Request, error) {
	r, err := rn.load(ctx, a)
	if err != nil {
		return nil, err
	}
	if !r.State.Open() {
		return r, &StateError{ID: r.ID, State: r.State}
	}
	return r, rn.Policy.CheckCancel(ctx, r, a.User)
}

// Unfinished returns up to limit requests that are not final, newest
// first: their messages may need redrawing after a crash.
func (rn *Renewer) Unfinished(ctx context.Context, limit int) ([]*Request, error) {
	var states []State
	for s := range transitions {
		states = append(states, s)
	}
	return rn.Store.List(ctx, Filter{States: states, Limit: limit})
}
