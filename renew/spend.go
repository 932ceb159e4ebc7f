package renew

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Spending is what a month's payments add up to: /renew spend, the Home
// tab's month, the budget gauge and the accounting export read it.
type Spending struct {
	Month  Month
	Budget Budget
	// Payments are the requests whose payment was claimed in the month
	// and counts (see Budget), the latest claim first.
	Payments []*Request
	// Total is their price with tax, in micro-cents, in Currency (the
	// account's, as the orders give it; "" when there is no payment).
	Total    int64
	Currency string
	// ByProduct, ByRequester and ByApprover break Total down, largest
	// first. A payment approved by two people counts for each of them,
	// so ByApprover may add up to more than Total.
	ByProduct, ByRequester, ByApprover []Share
}

// Share is a part of a month's spending: a product, a requester or an
// approver, with the payments it counts and their total with tax.
type Share struct {
	Key    string
	Amount int64
	Count  int
}

// Left is what the budget still allows this month (never below zero), and
// whether there is a budget at all.
func (s Spending) Left() (int64, bool) {
	if !s.Budget.Set() {
		return 0, false
	}
	return max(s.Budget.Limit-s.Total, 0), true
}

// Money returns an amount in the spending's currency.
func (s Spending) Money(ucents int64) Money { return Money{Ucents: ucents, Currency: s.Currency} }

// ThisMonth is the month now falls in, in the budget's zone.
func (rn *Renewer) ThisMonth() Month { return rn.Budget.MonthOf(rn.now()) }

// maxMonthPayments bounds what one month's report reads: far more
// renewals than any team pays in a month.
const maxMonthPayments = 10000

// Spending adds up the payments claimed in month m.
func (rn *Renewer) Spending(ctx context.Context, m Month) (Spending, error) {
	reqs, err := rn.Store.List(ctx, Filter{States: CountedStates, ClaimedFrom: m.Start(), ClaimedBefore: m.End(), Limit: maxMonthPayments})
	if err != nil {
		return Spending{}, fmt.Errorf("payments of %s: %w", m, err)
	}
	s := Spend(m, rn.Budget, reqs)
	if s.Currency == "" {
		// Nothing paid this month: the account's currency is that of
		// its latest orders.
		s.Currency = rn.currency(ctx)
	}
	return s, nil
}

// currency is the currency of the latest orders, "" when there are none.
func (rn *Renewer) currency(ctx context.Context) string {
	recent, err := rn.Store.List(ctx, Filter{Limit: 20})
	if err != nil {
		return ""
	}
	for _, r := range recent {
		if c := r.Amount().Currency; c != "" {
			return c
		}
	}
	return ""
}

// Spend adds up payments (requests claimed in m, in counted states; any
// other is left out).
func Spend(m Month, b Budget, payments []*Request) Spending {
	s := Spending{Month: m, Budget: b}
	product, requester, approver := map[string]*Share{}, map[string]*Share{}, map[string]*Share{}
	add := func(in map[string]*Share, key string, amount int64) {
		sh := in[key]
		if sh == nil {
			sh = &Share{Key: key}
			in[key] = sh
		}
		sh.Amount += amount
		sh.Count++
	}
	for _, r := range payments {
		if !r.State.Counts() || r.ClaimedAt.IsZero() || !m.Contains(r.ClaimedAt) {
			continue
		}
		s.Payments = append(s.Payments, r)
		amount := r.Amount()
		s.Total += amount.Ucents
		if s.Currency == "" {
			s.Currency = amount.Currency
		}
		add(product, r.Service.Product, amount.Ucents)
		add(requester, r.RequestedBy, amount.Ucents)
		seen := map[string]bool{}
		for _, a := range r.Approvals {
			if !seen[a.User] {
				seen[a.User] = true
				add(approver, a.User, amount.Ucents)
			}
		}
	}
	slices.SortStableFunc(s.Payments, func(a, b *Request) int { return b.ClaimedAt.Compare(a.ClaimedAt) })
	s.ByProduct, s.ByRequester, s.ByApprover = shares(product), shares(requester), shares(approver)
	return s
}

// Amount is the order's price with tax: what paying it spends.
func (r *Request) Amount() Money {
	if r.Order == nil {
		return Money{}
	}
	return r.Order.PriceWithTax
}

// shares lists a breakdown largest first, then by key.
func shares(in map[string]*Share) []Share {
	out := make([]Share, 0, len(in))
	for _, sh := range in {
		out = append(out, *sh)
	}
	slices.SortFunc(out, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Home is what the Home tab shows one person.
type Home struct {
	User string
	Now  time.Time
	// Waiting are the requests User may approve now under every rule of
	// the policy, newest first. OverBudget marks, by id, those whose
	// order would take the month over its budget: they are shown, but
	// cannot be approved until room is made.
	Waiting    []*Request
	OverBudget map[string]bool
	// Mine are User's requests that have not ended (asked for, or
	// started with /renew), newest first.
	Mine []*Request
	// Month is this month's spending.
	Month Spending
}

// maxHomeRequests bounds the requests a Home reads.
const maxHomeRequests = 500

// Home gathers what user's Home tab shows.
func (rn *Renewer) Home(ctx context.Context, user string) (Home, error) {
	now := rn.now()
	h := Home{User: user, Now: now, OverBudget: map[string]bool{}}
	var err error
	if h.Month, err = rn.Spending(ctx, rn.Budget.MonthOf(now)); err != nil {
		return h, err
	}
	open, err := rn.Store.List(ctx, Filter{States: []State{StateProposed, StateOrdering, StateAwaitingApproval, StatePaying, StatePaymentFailed, StateUnknown}, Limit: maxHomeRequests})
	if err != nil {
		return h, fmt.Errorf("open requests: %w", err)
	}
	for _, r := range open {
		if r.RequestedBy == user || r.InitiatedBy == user {
			h.Mine = append(h.Mine, r)
		}
		if !rn.MayApprove(ctx, r, user) {
			continue
		}
		h.Waiting = append(h.Waiting, r)
		if left, ok := h.Month.Left(); ok && r.Amount().Ucents > left {
			h.OverBudget[r.ID] = true
		}
	}
	return h, nil
}

// MayApprove reports whether user may approve r now, under every rule an
// approval click is checked against (Approve checks them again): r waits
// for approval, in a channel of the policy, unexpired, payable (no dry
// run, within the maximum amount), and user is an approver who is not its
// requester and has not approved it yet. A group that cannot be read
// counts as no.
func (rn *Renewer) MayApprove(ctx context.Context, r *Request, user string) bool {
	now := rn.now()
	switch {
	case !slices.Contains(approvable, r.State), r.DryRun || rn.DryRun, r.ApprovedBy(user):
		return false
	case !r.ExpiresAt.IsZero() && now.After(r.ExpiresAt):
		return false
	case r.Order != nil && !r.Order.Expiration.IsZero() && now.After(r.Order.Expiration):
		return false
	case rn.Policy.MaxAmount > 0 && r.Amount().Ucents > rn.Policy.MaxAmount:
		return false
	}
	return rn.Policy.CheckChannel(r.Channel) == nil && rn.Policy.CheckApprover(ctx, r, user) == nil
}
