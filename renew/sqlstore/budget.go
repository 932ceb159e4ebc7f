package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// budgetLockKey is the PostgreSQL advisory lock that serialises the
// claims of payments under a budget ("budget" in ASCII).
const budgetLockKey = 0x627564676574

// claim is the move of r to paying: it returns the claim's time, on the
// store's clock. With a budget set, it first makes sure the payment fits:
// the payments claimed in the claim's month that count (renew.Budget)
// and r's order, with tax, must add up to at most the limit.
//
// The check and the claim that follows are one transaction, and claims
// take turns: on SQLite every write transaction already does (BEGIN
// IMMEDIATE); on PostgreSQL, whose READ COMMITTED lets two transactions
// add up the same month side by side, an advisory lock held until commit
// makes the next claimer wait, and its sum, a statement that starts once
// it holds the lock, sees the claim committed before. So two approvals on
// two replicas can never both fit in what is left for one.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, r *renew.Request, b renew.Budget) (time.Time, error) {
	if !b.Set() {
		return s.Now(), nil
	}
	if s.d.name == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(budgetLockKey)); err != nil {
			return time.Time{}, fmt.Errorf("sqlstore: budget lock: %w", err)
		}
	}
	// Read the clock once the lock is held: claims are then stamped in
	// the order they were checked.
	now := s.Now()
	m := b.MonthOf(now)
	if err := s.backfillClaims(ctx, tx, m.Start(), m.End()); err != nil {
		return time.Time{}, err
	}
	spent, err := s.spent(ctx, tx, m.Start(), m.End())
	if err != nil {
		return time.Time{}, err
	}
	if s.afterSum != nil {
		s.afterSum()
	}
	if err := b.Check(m, spent, r.Amount()); err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: approve %s: %w", r.ID, err)
	}
	return now, nil
}

// backfillClaims stamps the payments a version without budgets wrote
// (a replica not yet upgraded claims without claimed_at, an order stored
// by it has no amount_ucents): they count from their pay call, payment or
// last change, as migration 0004 counted those before it, for the price
// their order says. Only payments that count are touched.
func (s *Store) backfillClaims(ctx context.Context, tx *sql.Tx, from, to time.Time) error {
	states := make([]any, len(renew.CountedStates))
	for i, st := range renew.CountedStates {
		states[i] = string(st)
	}
	in := placeholders(len(states))
	if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE requests SET claimed_at = COALESCE(pay_sent_at, paid_at, updated_at)"+
		" WHERE claimed_at IS NULL AND state IN ("+in+")"), states...); err != nil {
		return fmt.Errorf("sqlstore: stamp older claims: %w", err)
	}
	f, err := nanos(from)
	if err != nil {
		return err
	}
	t, err := nanos(to)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE requests SET amount_ucents = "+s.d.orderAmount+
		" WHERE state IN ("+in+") AND claimed_at >= ? AND claimed_at < ? AND amount_ucents IS NULL AND order_json IS NOT NULL"),
		append(states, f, t)...); err != nil {
		return fmt.Errorf("sqlstore: amounts of older claims: %w", err)
	}
	return nil
}

// spentQuery adds a month up; its arguments are the month's bounds, then
// renew.CountedStates.
var spentQuery = "SELECT COALESCE(SUM(amount_ucents), 0) FROM requests" +
	" WHERE claimed_at >= ? AND claimed_at < ? AND state IN (" + placeholders(len(renew.CountedStates)) + ")"

// spent adds up, with tax, the payments claimed in [from, to) that count
// against the budget (the request being claimed is in none of their
// states). The index on (state, claimed_at, amount_ucents) covers it,
// however many months the table holds (TestSQLiteBudgetSumUsesItsIndex).
func (s *Store) spent(ctx context.Context, q querier, from, to time.Time) (int64, error) {
	f, err := nanos(from)
	if err != nil {
		return 0, err
	}
	t, err := nanos(to)
	if err != nil {
		return 0, err
	}
	args := []any{f, t}
	for _, st := range renew.CountedStates {
		args = append(args, string(st))
	}
	var sum int64
	err = q.QueryRowContext(ctx, s.d.rebind(spentQuery), args...).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: payments claimed from %s: %w", from.Format(time.RFC3339), err)
	}
	return sum, nil
}
