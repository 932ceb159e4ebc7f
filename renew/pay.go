package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

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
		return res, fmt.Errorf("order %d: %w", r.Order.ID, &LimitError{Amount: r.Order.PriceWithTax, WithTax: true, Limit: max})
	}
	need := rn.Policy.NeedApprovals()
	approval := Approval{User: a.User, At: now, Attempt: a.Attempt}
	r2, moved, err := rn.Store.Approve(ctx, r.ID, approvable, approval, need, rn.Budget)
	var already *AlreadyRenewedError
	if errors.As(err, &already) && rn.cancelledSince(ctx, already.By) {
		// The payment that held the renewal was cancelled by OVHcloud
		// since: it renewed nothing, and this one may.
		r2, moved, err = rn.Store.Approve(ctx, r.ID, approvable, approval, need, rn.Budget)
	}
	r = r2
	if err != nil {
		if r != nil {
			res.Request = r
		}
		if errors.As(err, &already) && r != nil {
			// Another request paid for this renewal since this one was
			// chosen: its order would renew the service a second time.
			msg := err.Error()
			if r2, merr := rn.move(ctx, r.ID, approvable, StateFailed,
				Event{At: rn.now(), Actor: a.User, Action: "renewed_elsewhere", Detail: msg},
				func(x *Request) { x.Error = msg }); merr == nil {
				res.Request = r2
			}
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
// order status: RENEWBOT_STUCK_AFTER after the pay call may last have left
// (OVHcloud may show a payment late), or after the last change when no
// call was sent.
//
// PaySentAt is written just before the call, but the call itself may leave
// later (a clock sync, a login, a slow network), up to the claim's
// deadline: the wait counts from that deadline, so it is never shorter
// than RENEWBOT_STUCK_AFTER after the call, whatever delayed it.
func (rn *Renewer) settleAt(r *Request) time.Time {
	if r.PaySentAt.IsZero() {
		return r.UpdatedAt.Add(rn.stuckAfter())
	}
	// A claim recorded without its time (an older version) was made at
	// the latest when its pay call was recorded.
	claimed := r.ClaimedAt
	if claimed.IsZero() || claimed.After(r.PaySentAt) {
		claimed = r.PaySentAt
	}
	last := claimed.Add(rn.payWindow())
	if r.PaySentAt.After(last) {
		last = r.PaySentAt
	}
	return last.Add(rn.stuckAfter())
}

// payWindow is how long after its claim a payment may still call
// OVHcloud: ordering and paying stop there (see deadline).
func (rn *Renewer) payWindow() time.Duration { return rn.stuckAfter() * 3 / 4 }

// deadline bounds work done on a claimed request (ordering, paying): it
// ends well before the reconciler may decide the claimer died, so no
// OVHcloud call is ever still under way when the reconciler acts.
//
// claimed is on the renewer's clock (the database's): the time left is
// measured on that clock and counted down on this process's, so a clock
// that disagrees with the database's moves the deadline by nothing.
func (rn *Renewer) deadline(ctx context.Context, claimed time.Time) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, claimed.Add(rn.payWindow()).Sub(rn.now()))
}

// pay checks the order and pays it. r is in StatePaying, and only this
// caller got it there.
func (rn *Renewer) pay(ctx context.Context, r *Request, user string, claimed time.Time, approved *Event) (*Request, error) {
	bg := context.WithoutCancel(ctx) // a state change must be written even if the click's context ends
	ctx, cancel := rn.deadline(ctx, claimed)
	defer cancel()
	// settle writes the outcome on condition that the request is still
	// paying under this claim: a claimer slowed down (by Slack, a pause)
	// never overwrites what the reconciler or a newer claim wrote since,
	// while a message ts recorded meanwhile stands in nobody's way. Slack
	// hears of it after the write: the approval, then the outcome.
	settle := func(to State, ev Event, change func(*Request)) (*Request, error) {
		r2, err := rn.Store.TransitionIfClaimed(bg, r.ID, r.Claim(), to, ev, change)
		shown := r
		if err == nil {
			shown = r2
		}
		if approved != nil {
			rn.notify(bg, shown, *approved)
			approved = nil
		}
		if err != nil {
			if r2 == nil {
				r2 = r
			}
			return r2, err
		}
		ev.RequestID, ev.From, ev.To = r.ID, r.State, to
		rn.notify(bg, r2, ev)
		return r2, nil
	}
	fail := func(to State, action string, cause error) (*Request, error) {
		msg := cause.Error()
		r2, err := settle(to, Event{At: rn.now(), Actor: user, Action: action, Detail: msg},
			func(r *Request) { r.Error = msg })
		if err != nil {
			return r2, errors.Join(cause, err)
		}
		return r2, cause
	}
	paid := func(status OrderStatus, note string) (*Request, error) {
		now := rn.now()
		detail := fmt.Sprintf("order %d, %s", r.Order.ID, r.Order.PriceWithTax)
		if note != "" {
			detail += ", " + note
		}
		return settle(StatePaid, Event{At: now, Actor: user, Action: "paid", Detail: detail},
			func(r *Request) { r.PaidBy, r.PaidAt, r.Error, r.OrderStatus = user, now, "", status })
	}
	if ctx.Err() != nil {
		return fail(StatePaymentFailed, "payment_failed", errors.New("took too long before paying (Slack was slow); nothing was paid"))
	}
	// The order status, the services and the payment method, read
	// together: paying still takes two round trips to OVHcloud, and only
	// the pay call itself follows the record of its time.
	services := rn.readServices(ctx, r.Services())
	method := rn.paymentMethod(ctx)
	status, err := rn.OVH.OrderStatus(ctx, r.Order.ID)
	now, svcErr := services()
	methodID, methodErr := method()
	if err != nil {
		return fail(StatePaymentFailed, "payment_failed", fmt.Errorf("order status: %w", err))
	}
	switch {
	case status.Paid():
		return paid(status, "already paid on OVHcloud")
	case status == OrderCancelled:
		return fail(StateFailed, "not_payable", fmt.Errorf("order %d is %s: %w", r.Order.ID, status, ErrOrderNotPayable))
	case status != OrderNotPaid:
		// documentsRequested, cancelling, unknown: an earlier pay call may
		// have gone through, OVHcloud showing it late. Pay nothing and
		// leave it unknown, as the reconciler would: it settles it.
		cause := fmt.Errorf("order %d is %s: %w", r.Order.ID, status, ErrPaymentPending)
		msg := cause.Error()
		r2, err := settle(StateUnknown, Event{At: rn.now(), Actor: user, Action: "payment_unknown", Detail: msg},
			func(r *Request) { r.OrderStatus = status; r.Error = msg })
		if err != nil {
			return r2, errors.Join(cause, err)
		}
		return r2, cause
	}
	if svcErr != nil {
		return fail(StatePaymentFailed, "payment_failed", fmt.Errorf("check the service before paying: %w", svcErr))
	}
	if methodErr != nil {
		return fail(StatePaymentFailed, "payment_failed", fmt.Errorf("payment method: %w", methodErr))
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
		// Too slow before the pay call (status reads): stop while it is
		// certain nothing was paid.
		return fail(StatePaymentFailed, "payment_failed", errors.New("took too long before paying; nothing was paid"))
	}
	// The last check and the record of the call's time, in one write: if
	// the claim is no longer this one (the reconciler settled it, another
	// replica claimed again), nothing is paid.
	sent, err := rn.Store.TransitionIfClaimed(bg, r.ID, r.Claim(), StatePaying, Event{}, func(x *Request) { x.PaySentAt = rn.now() })
	if err != nil {
		if approved != nil {
			rn.notify(bg, r, *approved)
		}
		if sent != nil {
			return sent, fmt.Errorf("request changed before the pay call, nothing was paid: %w", err)
		}
		return r, fmt.Errorf("record the pay call, nothing was paid: %w", err)
	}
	r = sent
	// Nothing between the pay call and the write of its outcome waits on
	// Slack.
	if err := rn.payCall(ctx, r.Order.ID, methodID); err != nil {
		var api *APIError
		switch {
		case errors.Is(err, ErrCredential), errors.Is(err, ErrNotGranted),
			errors.As(err, &api) && api.Status == 429: // Too Many Requests
			// Refused at the door (the login layer, the rate limit):
			// the order was never looked at.
			return fail(StatePaymentFailed, "payment_failed", err)
		case errors.As(err, &api) && api.Status < 500:
			return rn.refused(ctx, r, err, fail, paid)
		}
		// A 5xx may come from a proxy after OVHcloud took the money; a
		// timeout or a cut connection too: only the order status can
		// tell, once OVHcloud shows it.
		return fail(StateUnknown, "payment_unknown", fmt.Errorf("%w: %v", ErrPaymentUnknown, err))
	}
	// The status is read again by Follow; until then it is not known.
	r2, err := paid("", "")
	if err != nil {
		return r2, fmt.Errorf("order %d: %w: %w", r.Order.ID, ErrPaidNotRecorded, err)
	}
	return r2, nil
}

// refused settles a pay call OVHcloud refused (4xx) past its login layer.
// The call paid nothing, but the refusal may be because the order is paid
// already (in the Control Panel meanwhile, or by an earlier call), which
// the order status may show only later. Paid now means paid; anything
// else stays unknown, settled by the status once it may be trusted: a
// refusal never frees the renewal to be paid a second time.
func (rn *Renewer) refused(ctx context.Context, r *Request, cause error,
	fail func(State, string, error) (*Request, error), paid func(OrderStatus, string) (*Request, error)) (*Request, error) {
	status, err := rn.OVH.OrderStatus(ctx, r.Order.ID)
	if err == nil && status.Paid() {
		return paid(status, "already paid on OVHcloud: "+cause.Error())
	}
	return fail(StateUnknown, "payment_unknown", &PayRefusedError{Cause: cause})
}

// PayRefusedError is a pay call OVHcloud refused, its outcome unknown
// until the order status may be trusted (ErrPaymentUnknown).
type PayRefusedError struct{ Cause error }

func (e *PayRefusedError) Error() string { return "pay call refused: " + e.Cause.Error() }

func (e *PayRefusedError) Unwrap() []error { return []error{ErrPaymentUnknown, e.Cause} }

// paymentMethod starts reading the default payment method, when the bot
// pays with it, and returns a function that waits for it (0 when the bot
// pays with a registered payment mean).
func (rn *Renewer) paymentMethod(ctx context.Context) func() (int64, error) {
	if rn.Payment.Mean != "" {
		return func() (int64, error) { return 0, nil }
	}
	type read struct {
		id  int64
		err error
	}
	ch := make(chan read, 1)
	go func() {
		id, err := rn.OVH.DefaultPaymentMethod(ctx)
		ch <- read{id, err}
	}()
	return func() (int64, error) { rd := <-ch; return rd.id, rd.err }
}

func (rn *Renewer) payCall(ctx context.Context, orderID, methodID int64) error {
	if rn.Payment.Mean == "" {
		return rn.OVH.PayOrder(ctx, orderID, methodID)
	}
	return rn.OVH.PayWithMean(ctx, orderID, rn.Payment.Mean, rn.Payment.MeanID)
}
