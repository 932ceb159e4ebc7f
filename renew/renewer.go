package renew

import (
	"context"
	"errors"
	"fmt"
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
		if !s.Final() {
			states = append(states, s)
		}
	}
	return rn.Store.List(ctx, Filter{States: states, Limit: limit})
}
