package renew

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrOverBudget: paying the order would take the month's payments over
// RENEWBOT_MONTHLY_BUDGET; see BudgetError.
var ErrOverBudget = errors.New("over the monthly budget")

// Budget is the team's monthly spending limit (RENEWBOT_MONTHLY_BUDGET):
// the most the payments of one calendar month may add up to, with tax, in
// the account's currency. Months are counted in Zone.
//
// A payment counts in the month it was claimed: the moment the last
// approval moved its request to paying, on the store's clock (the
// database's). From then on it counts while it may have taken money:
// paying, unknown, paid, delivered. A payment that failed, or whose order
// turned out not paid, stops counting. The store checks the budget and
// claims the payment in one transaction, serialised with every other
// claim, so two approvals together can never overspend it.
type Budget struct {
	// Limit is in micro-cents, with tax; 0 means no budget.
	Limit int64
	// Zone is where months begin and end; nil means UTC.
	Zone *time.Location
}

// Set reports whether there is a budget.
func (b Budget) Set() bool { return b.Limit > 0 }

func (b Budget) zone() *time.Location {
	if b.Zone == nil {
		return time.UTC
	}
	return b.Zone
}

// MonthOf returns the month t falls in, in the budget's zone.
func (b Budget) MonthOf(t time.Time) Month {
	z := b.zone()
	y, m, _ := t.In(z).Date()
	month := Month{Year: y, Month: m, Zone: z}
	// Where a clock change skips midnight on the 1st, the month starts at
	// the instant time.Date gives that midnight, an hour early: agree
	// with Start and End, which bound the sums.
	switch {
	case t.Before(month.Start()):
		return month.Prev()
	case !t.Before(month.End()):
		return month.Next()
	}
	return month
}

// Check refuses a payment of amount when the month's payments, spent so
// far, and it would add up to more than the limit: exactly the limit
// passes. It returns a *BudgetError (ErrOverBudget).
func (b Budget) Check(m Month, spent int64, amount Money) error {
	if !b.Set() || spent+amount.Ucents <= b.Limit {
		return nil
	}
	return &BudgetError{Month: m, Limit: b.Limit, Spent: spent, Amount: amount}
}

// CountedStates are the states whose payments count against the budget:
// money may have been taken.
var CountedStates = []State{StatePaying, StateUnknown, StatePaid, StateDelivered, StatePaidUnconfirmed}

// Counts reports whether a request in state s counts against the budget
// of the month it was claimed in.
func (s State) Counts() bool { return slices.Contains(CountedStates, s) }

// Month is a calendar month in a time zone.
type Month struct {
	Year  int
	Month time.Month
	Zone  *time.Location
}

// Start is the month's first instant.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, m.zone()) }

// End is the first instant of the next month.
func (m Month) End() time.Time { return time.Date(m.Year, m.Month+1, 1, 0, 0, 0, 0, m.zone()) }

// Contains reports whether t falls in the month.
func (m Month) Contains(t time.Time) bool { return !t.Before(m.Start()) && t.Before(m.End()) }

// Prev is the month before m.
func (m Month) Prev() Month {
	return Month{Year: m.Year, Month: m.Month - 1, Zone: m.zone()}.normal()
}

// normal brings Month 0 or 13 back into the year.
func (m Month) normal() Month {
	s := time.Date(m.Year, m.Month, 1, 12, 0, 0, 0, m.zone())
	return Month{Year: s.Year(), Month: s.Month(), Zone: m.zone()}
}

// Next is the month after m.
func (m Month) Next() Month {
	return Month{Year: m.Year, Month: m.Month + 1, Zone: m.zone()}.normal()
}

// String writes the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Name writes the month in words: "November 2026".
func (m Month) Name() string { return fmt.Sprintf("%s %d", m.Month, m.Year) }

func (m Month) zone() *time.Location {
	if m.Zone == nil {
		return time.UTC
	}
	return m.Zone
}

var errMonth = errors.New("invalid month")

// ParseMonth reads YYYY-MM (2026-11) as a month of zone (UTC when nil).
func ParseMonth(s string, zone *time.Location) (Month, error) {
	s = strings.TrimSpace(s)
	y, mo, ok := strings.Cut(s, "-")
	year, yerr := strconv.Atoi(y)
	month, merr := strconv.Atoi(mo)
	if !ok || yerr != nil || merr != nil || len(y) != 4 || len(mo) != 2 || year < 2000 || year > 9999 || month < 1 || month > 12 {
		return Month{}, fmt.Errorf("%w: %q, want YYYY-MM like 2026-11", errMonth, clipText(s, 40))
	}
	if zone == nil {
		zone = time.UTC
	}
	return Month{Year: year, Month: time.Month(month), Zone: zone}, nil
}

// clipText shortens what someone typed for an error message.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// BudgetError says an order would take the month over its budget, and how
// much is left. It wraps ErrOverBudget.
type BudgetError struct {
	Month Month
	// Limit and Spent are in micro-cents with tax: the budget, and the
	// payments of the month so far.
	Limit, Spent int64
	// Amount is the order's price with tax.
	Amount Money
}

// Left is what the month's budget still allows, never below zero.
func (e *BudgetError) Left() int64 { return max(e.Limit-e.Spent, 0) }

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s with tax would take %s over its budget: %s left of %s",
		e.Amount, e.Month, FormatUcents(e.Left()), FormatUcents(e.Limit))
}

func (e *BudgetError) Unwrap() error { return ErrOverBudget }

// LimitError is ErrOverLimit with its figures: what the renewal costs and
// the limit it is above, in the same currency.
type LimitError struct {
	// Amount is the price; WithTax tells whether tax is in it (a strategy's
	// price is without tax, an order's with).
	Amount  Money
	WithTax bool
	// Limit is RENEWBOT_MAX_AMOUNT in micro-cents with tax.
	Limit int64
}

func (e *LimitError) Error() string {
	tax := "without tax"
	if e.WithTax {
		tax = "with tax"
	}
	return fmt.Sprintf("%s %s is above the limit of %s", e.Amount, tax, FormatUcents(e.Limit))
}

func (e *LimitError) Unwrap() error { return ErrOverLimit }
