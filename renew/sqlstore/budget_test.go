package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on any machine

	"github.com/renewbot/renewbot/internal/pgtest"
	"github.com/renewbot/renewbot/renew"
)

// The monthly budget and the Slack transport's tables, on both databases.

func TestSQLiteBudgetAndSlack(t *testing.T) { testBudgetAndSlack(t, sqliteURL) }

func TestPostgresBudgetAndSlack(t *testing.T) {
	pgtest.URL(t)
	testBudgetAndSlack(t, pgtest.URL)
}

// A server (or a role, or a URL) whose default isolation is REPEATABLE
// READ: claims still take turns and see each other, because the store
// runs its transactions READ COMMITTED whatever the default.
func TestPostgresBudgetRaceUnderRepeatableReadDefault(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	// A runtime parameter for pgx, which reads %20 but not + as a space.
	u.RawQuery += "&default_transaction_isolation=repeatable%20read"
	s := open(t, u.String())
	var level string
	if err := s.db.QueryRow("SHOW default_transaction_isolation").Scan(&level); err != nil || level != "repeatable read" {
		t.Fatalf("the connection's default isolation is %q (%v): the test would prove nothing", level, err)
	}
	testBudgetRace(t, s)
}

func testBudgetAndSlack(t *testing.T, newURL func(testing.TB) string, opts ...Option) {
	for name, fn := range map[string]func(*testing.T, *Store){
		"BudgetAtTheLimit":        testBudgetAtTheLimit,
		"BudgetMonthRollsOver":    testBudgetMonthRollsOver,
		"BudgetRace":              testBudgetRace,
		"BudgetCountsOlderClaims": testBudgetCountsOlderClaims,
		"BudgetClaimOwnedByStore": testBudgetClaimOwnedByStore,
		"ListClaimed":             testListClaimed,
		"FirstDelivery":           testFirstDelivery,
		"FirstDeliveryRace":       testFirstDeliveryRace,
		"HomeOpens":               testHomeOpens,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t, newURL(t), opts...))
		})
	}
}

// setNow moves the store's clock (the test's clock, corrected by the
// database's offset on PostgreSQL) to t.
func setNow(s *Store, t time.Time) {
	if p := s.synced.Load(); p != nil {
		t = t.Add(p.local.Sub(p.db))
	}
	clockOf(s).Set(t)
}

func euros(cents int64) renew.Money {
	u := cents * renew.UcentsPerUnit / 100
	return renew.Money{Ucents: u, Currency: "EUR", Text: renew.FormatUcents(u) + " €"}
}

// priced stores a request for service sid waiting for approval of an
// order of price (with tax).
func priced(t testing.TB, s *Store, sid int64, price renew.Money) *renew.Request {
	t.Helper()
	r := create(t, s, "C1", sid, s.Now())
	move(t, s, r.ID, renew.StateProposed, renew.StateOrdering, nil)
	return move(t, s, r.ID, renew.StateOrdering, renew.StateAwaitingApproval, func(r *renew.Request) {
		r.Order = &renew.Order{ID: 7000 + sid, Date: t0, Expiration: t0.Add(48 * time.Hour), PriceWithTax: price}
	})
}

var approvable = []renew.State{renew.StateAwaitingApproval, renew.StatePaymentFailed}

// claim approves r alone (one approval needed) under budget b.
func claim(s *Store, r *renew.Request, user string, b renew.Budget) (*renew.Request, bool, error) {
	return s.Approve(context.Background(), r.ID, approvable, renew.Approval{User: user, At: s.Now()}, 1, b)
}

// Exactly at the budget passes; one cent over is refused, says what is
// left, and changes nothing.
func testBudgetAtTheLimit(t *testing.T, s *Store) {
	b := renew.Budget{Limit: euros(100_00).Ucents}
	first := priced(t, s, 1, euros(60_00))
	if _, moved, err := claim(s, first, "U-A", b); err != nil || !moved {
		t.Fatalf("60.00 of a 100.00 budget: moved %v, %v", moved, err)
	}
	over := priced(t, s, 2, euros(40_01))
	got, moved, err := claim(s, over, "U-A", b)
	var be *renew.BudgetError
	if !errors.As(err, &be) || !errors.Is(err, renew.ErrOverBudget) || moved {
		t.Fatalf("40.01 with 40.00 left: moved %v, %v; want a BudgetError", moved, err)
	}
	if be.Left() != euros(40_00).Ucents || be.Spent != euros(60_00).Ucents || be.Amount.Ucents != euros(40_01).Ucents {
		t.Fatalf("refusal: left %d, spent %d, amount %d", be.Left(), be.Spent, be.Amount.Ucents)
	}
	if got == nil || got.State != renew.StateAwaitingApproval || len(got.Approvals) != 0 {
		t.Fatalf("refusal returned %+v, want the request as it was", got)
	}
	after := get(t, s, over.ID)
	if after.State != renew.StateAwaitingApproval || after.Version != over.Version || len(after.Approvals) != 0 || !after.ClaimedAt.IsZero() {
		t.Fatalf("a refused claim wrote: %s v%d, approvals %+v, claimed %v", after.State, after.Version, after.Approvals, after.ClaimedAt)
	}
	exact := priced(t, s, 3, euros(40_00))
	if got, moved, err := claim(s, exact, "U-A", b); err != nil || !moved || got.ClaimedAt.IsZero() {
		t.Fatalf("40.00 with 40.00 left: moved %v, claimed %v, %v", moved, got.ClaimedAt, err)
	}
	// The month is now spent: the smallest order is refused, with
	// nothing left.
	if _, _, err := claim(s, priced(t, s, 4, euros(1)), "U-A", b); !errors.As(err, &be) || be.Left() != 0 {
		t.Fatalf("0.01 with nothing left: %v", err)
	}
	// A payment that fails stops counting: room is made again.
	move(t, s, first.ID, renew.StatePaying, renew.StatePaymentFailed, nil)
	if _, moved, err := claim(s, over, "U-B", b); err != nil || !moved {
		t.Fatalf("40.01 once 60.00 failed: moved %v, %v", moved, err)
	}
	// Without a budget, nothing is refused.
	if _, moved, err := claim(s, priced(t, s, 5, euros(1_000_000_00)), "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("no budget: moved %v, %v", moved, err)
	}
}

// Months are counted in the budget's zone: at midnight in Paris, while it
// is still the last day of the month in UTC, the new month begins.
func testBudgetMonthRollsOver(t *testing.T, s *Store) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	b := renew.Budget{Limit: euros(100_00).Ucents, Zone: paris}
	clk := clockOf(s)
	setNow(s, time.Date(2026, 11, 30, 23, 59, 59, 0, paris)) // 22:59:59 UTC
	if _, moved, err := claim(s, priced(t, s, 1, euros(80_00)), "U-A", b); err != nil || !moved {
		t.Fatalf("80.00 in November: moved %v, %v", moved, err)
	}
	next := priced(t, s, 2, euros(80_00))
	if _, _, err := claim(s, next, "U-A", b); !errors.Is(err, renew.ErrOverBudget) {
		t.Fatalf("a second 80.00 in November: %v, want over budget", err)
	}
	clk.Advance(time.Second) // 2026-12-01 00:00:00 in Paris, 23:00 on November 30 in UTC
	got, moved, err := claim(s, next, "U-A", b)
	if err != nil || !moved {
		t.Fatalf("80.00 at midnight in Paris, a new month: moved %v, %v", moved, err)
	}
	if m := b.MonthOf(got.ClaimedAt); m.String() != "2026-12" {
		t.Fatalf("claimed at %v counts in %s, want 2026-12", got.ClaimedAt, m)
	}
	// The same two payments under a UTC budget both fall in November.
	utc := renew.Budget{Limit: b.Limit}
	if _, _, err := claim(s, priced(t, s, 3, euros(1)), "U-A", utc); !errors.Is(err, renew.ErrOverBudget) {
		t.Fatalf("in UTC it is still November, 160.00 spent: %v", err)
	}
}

// Many approvals of orders that each fit the budget alone, none two
// together, all at the same moment: exactly one is claimed.
func testBudgetRace(t *testing.T, s *Store) {
	b := renew.Budget{Limit: euros(100_00).Ucents}
	var reqs []*renew.Request
	for i := range 4 {
		reqs = append(reqs, priced(t, s, int64(100+i), euros(60_00)))
	}
	// Each claim, once it has added the month up, waits a moment for
	// the others to do the same: claims that did not take turns would
	// all find the month empty.
	var summed sync.WaitGroup
	summed.Add(len(reqs))
	all := make(chan struct{})
	go func() { summed.Wait(); close(all) }()
	s.afterSum = func() {
		summed.Done()
		select {
		case <-all:
		case <-time.After(200 * time.Millisecond):
		}
	}
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		moved, refused, bad int
		first               error
	)
	start := make(chan struct{})
	for _, r := range reqs {
		wg.Go(func() {
			<-start
			_, ok, err := claim(s, r, "U-A", b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, renew.ErrOverBudget):
				refused++
			case err != nil:
				bad++
				first = err
			case ok:
				moved++
			}
		})
	}
	close(start)
	wg.Wait()
	if bad > 0 {
		t.Fatalf("%d unexpected errors, first: %v", bad, first)
	}
	if moved != 1 || refused != len(reqs)-1 {
		t.Fatalf("%d claims and %d refusals of %d orders of 60.00 under a 100.00 budget, want 1 and %d", moved, refused, len(reqs), len(reqs)-1)
	}
}

// Payments written by a version without budgets (a replica not yet
// upgraded: no claimed_at, no amount_ucents) still count against the
// month.
func testBudgetCountsOlderClaims(t *testing.T, s *Store) {
	b := renew.Budget{Limit: euros(100_00).Ucents}
	old := priced(t, s, 1, euros(90_00))
	move(t, s, old.ID, renew.StateAwaitingApproval, renew.StatePaying, nil)
	move(t, s, old.ID, renew.StatePaying, renew.StatePaid, nil)
	// What the older version's writes leave.
	if _, err := s.db.Exec(s.d.rebind("UPDATE requests SET claimed_at = NULL, amount_ucents = NULL WHERE id = ?"), old.ID); err != nil {
		t.Fatal(err)
	}
	_, moved, err := claim(s, priced(t, s, 2, euros(90_00)), "U-A", b)
	if !errors.Is(err, renew.ErrOverBudget) || moved {
		t.Fatalf("90.00 after an older version's 90.00 under a 100.00 budget: moved %v, %v", moved, err)
	}
}

// The claim's time is the store's: a change function cannot move it to
// another month, and neither can Transition or Update.
func testBudgetClaimOwnedByStore(t *testing.T, s *Store) {
	r := priced(t, s, 1, euros(10_00))
	got, moved, err := claim(s, r, "U-A", renew.Budget{Limit: euros(100_00).Ucents})
	if err != nil || !moved {
		t.Fatal(moved, err)
	}
	if !got.ClaimedAt.Equal(s.Now()) {
		t.Fatalf("claimed at %v, want the store's clock %v", got.ClaimedAt, s.Now())
	}
	moved2 := move(t, s, r.ID, renew.StatePaying, renew.StatePaid, func(r *renew.Request) { r.ClaimedAt = t0.AddDate(0, -3, 0) })
	if !moved2.ClaimedAt.Equal(got.ClaimedAt) || !get(t, s, r.ID).ClaimedAt.Equal(got.ClaimedAt) {
		t.Fatalf("a change function moved the claim to %v", get(t, s, r.ID).ClaimedAt)
	}
}

// List selects by the claim's time.
func testListClaimed(t *testing.T, s *Store) {
	start := s.Now()
	a := priced(t, s, 1, euros(10_00))
	claim(s, a, "U-A", renew.Budget{})
	clockOf(s).Advance(time.Hour)
	bReq := priced(t, s, 2, euros(10_00))
	claim(s, bReq, "U-A", renew.Budget{})
	priced(t, s, 3, euros(10_00)) // never claimed
	got, err := s.List(t.Context(), renew.Filter{ClaimedFrom: start.Add(time.Minute), ClaimedBefore: start.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != bReq.ID {
		t.Fatalf("claimed in the second hour: %v, want %s", ids(got), bReq.ID)
	}
}

func testFirstDelivery(t *testing.T, s *Store) {
	ctx := t.Context()
	keep := time.Hour
	for i, want := range []bool{true, false, false} {
		if first, err := s.FirstDelivery(ctx, "Ev0123", keep); err != nil || first != want {
			t.Fatalf("delivery %d: first %v, %v; want %v", i+1, first, err, want)
		}
	}
	// Past keep, old ids are forgotten as new ones come: the table stays
	// small however long the bot runs.
	clockOf(s).Advance(keep + time.Second)
	if first, err := s.FirstDelivery(ctx, "Ev0456", keep); err != nil || !first {
		t.Fatalf("a new event: %v, %v", first, err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM slack_events").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d ids kept (%v), want only the recent one", n, err)
	}
	if _, err := s.FirstDelivery(ctx, "", keep); err == nil {
		t.Fatal("an empty event id was recorded")
	}
}

func testFirstDeliveryRace(t *testing.T, s *Store) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first int
		errs  []error
	)
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			ok, err := s.FirstDelivery(context.Background(), "Ev-race", time.Hour)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				first++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 || first != 1 {
		t.Fatalf("%d first deliveries of 20, errors %v; want exactly 1", first, errs)
	}
}

func testHomeOpens(t *testing.T, s *Store) {
	ctx := t.Context()
	clk := clockOf(s)
	day := 24 * time.Hour
	for _, u := range []string{"U1", "U2", "U3"} {
		if err := s.HomeOpened(ctx, u, day); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
	}
	if err := s.HomeOpened(ctx, "U1", day); err != nil { // again: most recent now
		t.Fatal(err)
	}
	got, err := s.HomeOpeners(ctx, s.Now().Add(-day), 10)
	if err != nil || fmt.Sprint(got) != "[U1 U3 U2]" {
		t.Fatalf("openers: %v, %v; want [U1 U3 U2]", got, err)
	}
	if got, _ := s.HomeOpeners(ctx, s.Now().Add(-day), 2); len(got) != 2 {
		t.Fatalf("limit 2: %v", got)
	}
	clk.Advance(day - 30*time.Minute) // U2 opened 25.5 h ago, U3 24.5 h ago, U1 23.5 h ago
	got, err = s.HomeOpeners(ctx, s.Now().Add(-day), 10)
	if err != nil || fmt.Sprint(got) != "[U1]" {
		t.Fatalf("openers of the last 24 h: %v, %v; want [U1]", got, err)
	}
	if err := s.HomeOpened(ctx, "U4", day); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM home_opens").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows kept (%v), want 2: older ones are forgotten", n, err)
	}
}

// BenchmarkClaimUnderBudget claims payments under a budget in a month
// that already holds a thousand: the sum reads the claimed_at index.
func BenchmarkClaimUnderBudget(b *testing.B) {
	s := open(b, sqliteURL(b))
	budget := renew.Budget{Limit: 1 << 60}
	for i := range 1000 {
		claim(s, priced(b, s, int64(i+1), euros(10_00)), "U-A", budget)
	}
	reqs := make([]*renew.Request, b.N)
	for i := range reqs {
		reqs[i] = priced(b, s, int64(100000+i), euros(10_00))
	}
	b.ResetTimer()
	for i := range b.N {
		if _, moved, err := claim(s, reqs[i], "U-A", budget); err != nil || !moved {
			b.Fatal(moved, err)
		}
	}
}

// BenchmarkClaimNoBudget is the same claim without a budget: the
// difference is what the budget costs.
func BenchmarkClaimNoBudget(b *testing.B) {
	s := open(b, sqliteURL(b))
	for i := range 1000 {
		claim(s, priced(b, s, int64(i+1), euros(10_00)), "U-A", renew.Budget{})
	}
	reqs := make([]*renew.Request, b.N)
	for i := range reqs {
		reqs[i] = priced(b, s, int64(100000+i), euros(10_00))
	}
	b.ResetTimer()
	for i := range b.N {
		if _, moved, err := claim(s, reqs[i], "U-A", renew.Budget{}); err != nil || !moved {
			b.Fatal(moved, err)
		}
	}
}

// The month's sum reads a covering index, not every payment ever made:
// a claim costs the same in the tenth year as in the first.
func TestSQLiteBudgetSumUsesItsIndex(t *testing.T) {
	s := open(t, sqliteURL(t))
	args := []any{1, 2}
	for _, st := range renew.CountedStates {
		args = append(args, string(st))
	}
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+spentQuery, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "USING COVERING INDEX requests_claimed (state=? AND claimed_at>? AND claimed_at<?)") {
		t.Fatalf("plan of the month's sum: %q", plan)
	}
}
