package renew

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"
)

// State is where a request stands in its life.
//
//	proposed -> ordering -> awaiting_approval -> paying -> paid -> delivered
//	   ordering -> failed;  awaiting_approval -> cancelled | expired
//	   paying -> payment_failed (may be approved again) | unknown (reconciled
//	   from the order status before any new pay call)
//	   paid -> paid_unconfirmed (followed long enough: delivery not seen)
//	   paid, paid_unconfirmed -> failed (OVHcloud cancelled the paid order)
type State string

const (
	StateProposed         State = "proposed"
	StateOrdering         State = "ordering"
	StateAwaitingApproval State = "awaiting_approval"
	StatePaying           State = "paying"
	StatePaid             State = "paid"
	StateDelivered        State = "delivered"
	StateFailed           State = "failed"
	StateCancelled        State = "cancelled"
	StateExpired          State = "expired"
	StatePaymentFailed    State = "payment_failed"
	StateUnknown          State = "unknown"
	// StatePaidUnconfirmed is final: paid, and OVHcloud had not confirmed
	// the delivery by the end of the follow window.
	StatePaidUnconfirmed State = "paid_unconfirmed"
)

// transitions lists every allowed move. A move not listed here is a bug.
var transitions = map[State][]State{
	StateProposed:         {StateOrdering, StateCancelled, StateExpired},
	StateOrdering:         {StateAwaitingApproval, StateFailed},
	StateAwaitingApproval: {StatePaying, StateCancelled, StateExpired, StateFailed},
	StatePaying:           {StatePaid, StatePaymentFailed, StateUnknown, StateFailed},
	StatePaymentFailed:    {StatePaying, StateCancelled, StateExpired, StateFailed},
	StateUnknown:          {StatePaid, StatePaymentFailed, StateExpired, StateFailed},
	StatePaid:             {StateDelivered, StatePaidUnconfirmed, StateFailed},
	// Only when OVHcloud cancels the order after all: it renewed nothing.
	StatePaidUnconfirmed: {StateFailed},
}

// CanMove reports whether the state machine allows from -> to.
func CanMove(from, to State) bool {
	return slices.Contains(transitions[from], to)
}

// Final reports whether nothing more happens to the request in the
// ordinary course. A payment whose delivery went unconfirmed counts as
// final: it only moves again if OVHcloud cancels its order after all.
func (s State) Final() bool { return len(transitions[s]) == 0 || s == StatePaidUnconfirmed }

// Holds reports whether a request in state s keeps the services it renews
// from every other request: from the moment its order is being created
// until it is paid or ends. The store enforces it, so two people, two
// clicks or two replicas can never order the same service twice. A
// proposal holds nothing: of two, the first chosen wins.
func (s State) Holds() bool {
	return s == StateOrdering || s == StateAwaitingApproval || s == StatePaying ||
		s == StatePaymentFailed || s == StateUnknown
}

// Open reports whether the request waits for a person (a choice, an
// approval, a cancel).
func (s State) Open() bool {
	return s == StateProposed || s == StateAwaitingApproval || s == StatePaymentFailed
}

// Request is one renewal, from the /renew command to the delivered order.
type Request struct {
	ID      string
	Version int64 // bumped by every write; the store's optimistic lock
	State   State

	// Where it was asked and where its message is.
	Channel   string
	MessageTS string
	// InitiatedBy typed /renew; RequestedBy chose the strategy (and so
	// asked for the money): RequestedBy is "the requester" of the policy.
	InitiatedBy string
	RequestedBy string

	Service Service
	// Options are the strategies shown on the message, in the order of
	// their buttons; a click names an index, never a price.
	Options []Strategy
	// Chosen is the strategy the order was created for (re-read from
	// OVHcloud at the time of the click).
	Chosen *Strategy

	Order       *Order
	OrderStatus OrderStatus

	Approvals []Approval // in the order they came
	// Attempt numbers the rounds of approval: the store bumps it whenever
	// a payment fails and the approvals are forgotten, so an approval
	// click (which carries the attempt it was shown for) counts once,
	// ever: a replay after a refusal changes nothing.
	Attempt int
	// PaySentAt is when the pay call was about to be sent, recorded just
	// before it: an unknown payment is settled from it.
	PaySentAt time.Time
	// ClaimedAt is when the last approval moved the request to paying
	// (the last time, after a failed payment): the payment counts against
	// the budget of that month. Set by the store, on its clock.
	ClaimedAt time.Time
	PaidBy    string
	PaidAt    time.Time

	CancelledBy  string
	CancelReason string
	// Error is the last failure worth showing on the message.
	Error string

	DryRun    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is when the request stops waiting: the TTL, and never past
	// the order's own expiration.
	ExpiresAt time.Time
}

// Services returns the ids of the services the request renews: those of
// the chosen strategy once chosen, and always its own.
func (r *Request) Services() []int64 {
	ids := []int64{r.Service.ID}
	if r.Chosen != nil {
		for _, id := range r.Chosen.Services {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// Renewal is what paying a request does to one service: renew it from
// the expiry read when the request was proposed or chosen. Two payments
// of one Renewal renew the service twice, so the store lets one request
// claim it (see Store.Approve).
type Renewal struct {
	ServiceID int64
	Name      string
	From      time.Time // the expiry it renews from; a date
}

// Renewals returns what paying r renews: each of its services with a
// known expiry, from that expiry.
func (r *Request) Renewals() []Renewal {
	var out []Renewal
	if !r.Service.Expiration.IsZero() {
		out = append(out, Renewal{ServiceID: r.Service.ID, Name: r.Service.Name, From: r.Service.Expiration})
	}
	if r.Chosen != nil {
		for _, d := range r.Chosen.Details {
			if d.ID == r.Service.ID || d.Expiration.IsZero() || slices.ContainsFunc(out, func(x Renewal) bool { return x.ServiceID == d.ID }) {
				continue
			}
			out = append(out, Renewal{ServiceID: d.ID, Name: d.Name, From: d.Expiration})
		}
	}
	return out
}

// Claim names one claim of a payment: the approval round it pays for,
// when it was claimed, and when its pay call was sent (zero before).
// Every claim differs from the ones before: a new one needs the request
// to leave paying first.
type Claim struct {
	Attempt   int
	ClaimedAt time.Time
	PaySentAt time.Time
}

// Claim returns the claim r is paying under (meaningful in StatePaying).
func (r *Request) Claim() Claim {
	return Claim{Attempt: r.Attempt, ClaimedAt: r.ClaimedAt, PaySentAt: r.PaySentAt}
}

// Is reports whether c and o are the same claim.
func (c Claim) Is(o Claim) bool {
	return c.Attempt == o.Attempt && c.ClaimedAt.Equal(o.ClaimedAt) && c.PaySentAt.Equal(o.PaySentAt)
}

// Approval is one approver's click on "Approve and pay".
type Approval struct {
	User string
	At   time.Time
	// Attempt is the round of approval the click was shown for.
	Attempt int
}

// ApprovedBy reports whether user has approved already.
func (r *Request) ApprovedBy(user string) bool {
	return slices.ContainsFunc(r.Approvals, func(a Approval) bool { return a.User == user })
}

// Event is one line of the audit trail.
type Event struct {
	ID        int64
	RequestID string
	At        time.Time
	Actor     string // Slack user id, or "" for the bot itself
	Action    string // created, chose, ordered, approved, paid, ...
	From, To  State  // equal when the event is not a transition
	Detail    string
}

// NewID returns a random request id, short enough for a button value and
// hard to guess.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Store keeps requests, approvals and the audit trail. renew/sqlstore
// implements it over SQLite and PostgreSQL.
//
// Every change of state goes through Transition or Approve, each a single
// conditional write, so two clicks or two replicas can never both move a
// request out of the same state.
//
// The change functions given to Transition and Update may run more than
// once (the store retries a write that lost a race) and must have no side
// effects; what they set on ID, Version, State, CreatedAt or Approvals is
// ignored: the store owns those.
type Store interface {
	// Create stores a new request and its "created" event.
	Create(ctx context.Context, r *Request, ev Event) error
	// Get returns a request with its approvals, or ErrNotFound.
	Get(ctx context.Context, id string) (*Request, error)
	// Transition moves a request from one of the states in from to the
	// state to, after applying change to it, and records ev. It fails with
	// a *StateError (ErrConflict) when the request is in none of from.
	// Moving to StatePaymentFailed also forgets the approvals, clears
	// PaySentAt and bumps Attempt: a payment that failed needs fresh
	// approvals, and older clicks no longer count.
	Transition(ctx context.Context, id string, from []State, to State, ev Event, change func(*Request)) (*Request, error)
	// Update changes a request without changing its state (message ts,
	// order status) and records ev when ev.Action is not empty.
	Update(ctx context.Context, id string, ev Event, change func(*Request)) (*Request, error)
	// UpdateIfUnchanged is Update on condition that the request is still
	// at version: it fails with a *StateError (ErrConflict) when anyone
	// wrote it since. It is the last check before a pay call.
	UpdateIfUnchanged(ctx context.Context, id string, version int64, ev Event, change func(*Request)) (*Request, error)
	// TransitionIfUnchanged is Transition on condition that the request is
	// still at version (and so in the state read with it): whoever acts on
	// what they read acts on nothing else.
	TransitionIfUnchanged(ctx context.Context, id string, version int64, to State, ev Event, change func(*Request)) (*Request, error)
	// TransitionIfClaimed is TransitionIfUnchanged for the claimer of a
	// payment: on condition that the request is still paying under claim
	// c, whatever else was written since (its message ts). With to
	// StatePaying it changes the request without moving it.
	TransitionIfClaimed(ctx context.Context, id string, c Claim, to State, ev Event, change func(*Request)) (*Request, error)
	// Approve records an approval while the request is in one of from
	// and at the approval's Attempt. The same user approving twice counts
	// once. When the approvals reach need, the request moves to
	// StatePaying in the same write, stamped ClaimedAt, and Approve
	// reports moved. It fails with a *StateError otherwise, and with a
	// *StaleApprovalError (ErrStaleApproval) for a click shown for
	// another attempt.
	//
	// The claim takes the request's Renewals: when another request that
	// Counts (it may have paid) took one of them, nothing is written and Approve fails
	// with an *AlreadyRenewedError. On any replica, one payment renews a
	// service from a given expiry.
	//
	// With a budget set, the claim must fit it: the payments claimed in
	// the month of the claim and this order's price with tax must add up
	// to at most budget.Limit, or nothing is written and Approve fails
	// with a *BudgetError (ErrOverBudget). The sum and the claim are one
	// transaction, serialised with every other claim, on any replica.
	Approve(ctx context.Context, id string, from []State, a Approval, need int, budget Budget) (r *Request, moved bool, err error)
	// Holder returns the request that holds service id, or nil.
	Holder(ctx context.Context, serviceID int64) (*Request, error)
	// RenewedBy returns the request that claimed renewal rw (its service,
	// from its expiry) and may have paid (its state Counts), or nil.
	RenewedBy(ctx context.Context, rw Renewal) (*Request, error)
	// List returns requests matching f, newest first.
	List(ctx context.Context, f Filter) ([]*Request, error)
	// Events returns audit events matching f, newest first.
	Events(ctx context.Context, f EventFilter) ([]Event, error)
}

// Filter selects requests.
type Filter struct {
	Channel string  // "" for any
	States  []State // nil for any
	// ExpiresBefore selects requests whose ExpiresAt is set and before it.
	ExpiresBefore time.Time
	// ClaimedFrom and ClaimedBefore, when set, select the requests whose
	// payment was claimed in [ClaimedFrom, ClaimedBefore).
	ClaimedFrom, ClaimedBefore time.Time
	Limit                      int
}

// EventFilter selects audit events.
type EventFilter struct {
	RequestID string
	ServiceID int64 // 0 for any
	Channel   string
	Limit     int
}

// Leaser elects one replica for background work (the expiry sweeper, the
// reminders): Lease returns true while holder holds name, renewing it for
// ttl; another holder gets it once ttl passes without renewal.
type Leaser interface {
	// Lease takes or renews name for holder.
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Release gives the lease up at once, if holder holds it.
	Release(ctx context.Context, name, holder string) error
}

// ReminderLog remembers which reminders were sent, so a restart or a
// second replica never repeats one. Remember returns true the first time
// it sees key.
type ReminderLog interface {
	Remember(ctx context.Context, key string, at time.Time) (bool, error)
}
