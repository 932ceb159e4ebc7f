package renew_test

import (
	"errors"
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name, on any machine

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/renew"
)

func eur(cents int64) renew.Money {
	u := cents * renew.UcentsPerUnit / 100
	return renew.Money{Ucents: u, Currency: "EUR", Text: renew.FormatUcents(u) + " €"}
}

// The month rolls over at midnight in the budget's zone, on a manual
// clock: in Tokyo, the first of December begins while UTC is still on
// November 30.
func TestBudgetMonthRollsOverAtMidnightInItsZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	b := renew.Budget{Limit: eur(100_00).Ucents, Zone: tokyo}
	clk := fakeclock.New(time.Date(2026, 11, 30, 23, 59, 59, 999_999_999, tokyo))
	if m := b.MonthOf(clk.Now()); m.String() != "2026-11" || !m.Contains(clk.Now()) {
		t.Fatalf("one nanosecond before midnight in Tokyo: %s", m)
	}
	clk.Advance(time.Nanosecond)
	m := b.MonthOf(clk.Now())
	if m.String() != "2026-12" || m.Name() != "December 2026" {
		t.Fatalf("midnight in Tokyo: %s, want 2026-12", m)
	}
	if utc := clk.Now().UTC(); utc.Day() != 30 || utc.Month() != time.November {
		t.Fatalf("the test's premise: UTC should still be on November 30, is %v", utc)
	}
	if !m.Start().Equal(clk.Now()) || !m.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, tokyo)) {
		t.Fatalf("December 2026 in Tokyo: [%v, %v)", m.Start(), m.End())
	}
	if n := m.Next(); n.String() != "2027-01" {
		t.Fatalf("after December: %s", n)
	}
	// Without a zone, months are UTC's.
	if m := (renew.Budget{}).MonthOf(clk.Now()); m.String() != "2026-11" {
		t.Fatalf("in UTC: %s", m)
	}
}

// Exactly the budget passes, a cent more is refused with what is left.
func TestBudgetCheck(t *testing.T) {
	b := renew.Budget{Limit: eur(500_00).Ucents}
	m := b.MonthOf(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	if err := b.Check(m, eur(404_96).Ucents, eur(95_04)); err != nil {
		t.Fatalf("exactly at the budget: %v", err)
	}
	err := b.Check(m, eur(404_96).Ucents, eur(95_05))
	var be *renew.BudgetError
	if !errors.As(err, &be) || !errors.Is(err, renew.ErrOverBudget) {
		t.Fatalf("one cent over: %v", err)
	}
	if be.Left() != eur(95_04).Ucents {
		t.Fatalf("left %d, want 95.04", be.Left())
	}
	if got := err.Error(); got != "95.05 € with tax would take 2026-11 over its budget: 95.04 left of 500.00" {
		t.Fatalf("error: %s", got)
	}
	if err := (renew.Budget{}).Check(m, 1<<50, eur(1)); err != nil {
		t.Fatalf("no budget refused: %v", err)
	}
	// A budget lowered below what was spent leaves nothing, never less.
	if err := b.Check(m, eur(600_00).Ucents, eur(1)); !errors.As(err, &be) || be.Left() != 0 {
		t.Fatalf("overspent: %v", err)
	}
}

func TestParseMonth(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	m, err := renew.ParseMonth("2026-02", paris)
	if err != nil || m.String() != "2026-02" || !m.Start().Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, paris)) {
		t.Fatalf("2026-02: %v, %v", m, err)
	}
	for _, bad := range []string{"", "2026", "2026-13", "2026-00", "26-11", "2026-1", "2026/11", "november", "2026-11-01", "1999-12"} {
		if _, err := renew.ParseMonth(bad, nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Spend adds up what counts in the month, by product, requester and
// approver, and leaves the rest out.
func TestSpend(t *testing.T) {
	b := renew.Budget{Limit: eur(500_00).Ucents}
	m := b.MonthOf(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	pay := func(state renew.State, at time.Time, product, requester string, cents int64, approvers ...string) *renew.Request {
		r := &renew.Request{ID: fmt.Sprint(product, cents), State: state, ClaimedAt: at, RequestedBy: requester,
			Service: renew.Service{Product: product}, Order: &renew.Order{PriceWithTax: eur(cents)}}
		for _, a := range approvers {
			r.Approvals = append(r.Approvals, renew.Approval{User: a})
		}
		return r
	}
	nov := func(day int) time.Time { return time.Date(2026, 11, day, 12, 0, 0, 0, time.UTC) }
	s := renew.Spend(m, b, []*renew.Request{
		pay(renew.StatePaid, nov(2), "VPS", "U1", 95_04, "U2"),
		pay(renew.StateDelivered, nov(20), "Domain", "U1", 12_00, "U2", "U3"),
		pay(renew.StateUnknown, nov(10), "VPS", "U3", 50_00, "U1"),
		pay(renew.StatePaymentFailed, nov(11), "VPS", "U3", 1000_00, "U1"),                    // did not pay
		pay(renew.StatePaid, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "VPS", "U1", 7_00), // December
	})
	if s.Total != eur(157_04).Ucents || s.Currency != "EUR" || len(s.Payments) != 3 {
		t.Fatalf("total %s %s of %d payments", renew.FormatUcents(s.Total), s.Currency, len(s.Payments))
	}
	if s.Payments[0].ClaimedAt != nov(20) || s.Payments[2].ClaimedAt != nov(2) {
		t.Fatal("payments are not latest first")
	}
	if left, ok := s.Left(); !ok || left != eur(342_96).Ucents {
		t.Fatalf("left %d %v", left, ok)
	}
	got := fmt.Sprint(s.ByProduct, s.ByRequester, s.ByApprover)
	want := "[{VPS 14504000000 2} {Domain 1200000000 1}] [{U1 10704000000 2} {U3 5000000000 1}] [{U2 10704000000 2} {U1 5000000000 1} {U3 1200000000 1}]"
	if got != want {
		t.Fatalf("breakdown:\n got %s\nwant %s", got, want)
	}
}

// Where a clock change skips midnight on the 1st, the month a time falls
// in agrees with the bounds the sums use: every instant around it is in
// the month MonthOf names.
func TestMonthOfAgreesWithItsBoundsAcrossAMidnightClockChange(t *testing.T) {
	asuncion, err := time.LoadLocation("America/Asuncion") // DST began at 00:00 on 2023-10-01
	if err != nil {
		t.Fatal(err)
	}
	b := renew.Budget{Limit: 1, Zone: asuncion}
	start := time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC) // 20:00 on the 30th there; midnight is skipped at 04:00 UTC
	for d := time.Duration(0); d < 6*time.Hour; d += 10 * time.Minute {
		at := start.Add(d)
		if m := b.MonthOf(at); !m.Contains(at) {
			t.Errorf("%s (%s there): MonthOf says %s, which runs %s to %s", at.Format(time.RFC3339), at.In(asuncion).Format(time.RFC3339), m, m.Start(), m.End())
		}
	}
}
