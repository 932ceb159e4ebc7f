package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/renewbot/renewbot/renew"
)

// Approve records a's approval of request id while it is in one of from,
// and moves it to renew.StatePaying when the approvals reach need (at
// least 1), reporting moved. The same user approving twice counts once.
// Concurrent approvals of one request are serialised, so exactly one
// caller ever sees moved. In none of from, it returns the request as it is
// and a *renew.StateError.
//
// The move to paying claims the payment: it stamps ClaimedAt with the
// store's clock and, with a budget set, first checks in the same
// transaction that the month's claimed payments and this one fit it (see
// claim). Over the budget, nothing is written: the error is a
// *renew.BudgetError and the request is returned as it is. The claim also
// takes the request's renewals (see takeRenewals): one another request
// may have paid fails with a *renew.AlreadyRenewedError, nothing written.
func (s *Store) Approve(ctx context.Context, id string, from []renew.State, a renew.Approval, need int, budget renew.Budget) (*renew.Request, bool, error) {
	if a.User == "" {
		return nil, false, fmt.Errorf("sqlstore: approve %s: no user", id)
	}
	need = max(need, 1)
	if a.At.IsZero() {
		a.At = s.Now()
	}
	var (
		out, before *renew.Request // as returned, and as read
		moved       bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		moved = false
		r, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		out = r
		read := *r
		read.Approvals = slices.Clone(r.Approvals)
		before = &read
		if !slices.Contains(from, r.State) {
			return &renew.StateError{ID: id, State: r.State}
		}
		if a.Attempt != r.Attempt {
			return &renew.StaleApprovalError{ID: id, Got: a.Attempt, Want: r.Attempt}
		}
		added := !r.ApprovedBy(a.User)
		if added {
			if err := s.insertApproval(ctx, tx, id, a); err != nil {
				return err
			}
			r.Approvals = append(r.Approvals, a)
		}
		to := r.State
		if len(r.Approvals) >= need {
			to = renew.StatePaying
			if !renew.CanMove(r.State, to) {
				return fmt.Errorf("sqlstore: request %s: move %s -> %s is not allowed", id, r.State, to)
			}
		}
		if !added && to == r.State {
			return nil // a second click: nothing to write
		}
		claimed := r.ClaimedAt
		if to == renew.StatePaying {
			if err := s.takeRenewals(ctx, tx, r); err != nil {
				return err
			}
			if claimed, err = s.claim(ctx, tx, r, budget); err != nil {
				return err
			}
		}
		if to != r.State {
			if err := s.holdOrRelease(ctx, tx, r); err != nil {
				return err
			}
		}
		at, err := nanos(a.At)
		if err != nil {
			return err
		}
		claimedAt, err := nanos(claimed)
		if err != nil {
			return err
		}
		// The amount too: an order stored by an older version has none,
		// and the claim must count for what it pays.
		var amount sql.NullInt64
		if r.Order != nil {
			amount = sql.NullInt64{Int64: r.Amount().Ucents, Valid: true}
		}
		res, err := tx.ExecContext(ctx, s.d.rebind("UPDATE requests SET state = ?, version = ?, updated_at = ?, claimed_at = ?, amount_ucents = ? WHERE id = ? AND version = ?"),
			string(to), r.Version+1, at, claimedAt, amount, id, r.Version)
		if err != nil {
			return fmt.Errorf("sqlstore: approve %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: approve %s: %w", id, err)
		} else if n == 0 {
			// The row is locked since the read: this cannot happen.
			return fmt.Errorf("sqlstore: approve %s: %w: %w", id, errLostRace, renew.ErrConflict)
		}
		ev := renew.Event{
			RequestID: id, At: a.At, Actor: a.User, Action: "approved", From: r.State, To: to,
			Detail: fmt.Sprintf("%d of %d", len(r.Approvals), need),
		}
		if !added {
			ev.Detail += ", approved before"
		}
		if err := s.insertEvent(ctx, tx, ev, r.Channel, r.Service.ID); err != nil {
			return err
		}
		moved = to == renew.StatePaying
		r.State, r.Version, r.UpdatedAt, r.ClaimedAt = to, r.Version+1, a.At, claimed
		return nil
	})
	if err != nil {
		if errors.Is(err, renew.ErrConflict) || errors.Is(err, renew.ErrStaleApproval) || errors.Is(err, renew.ErrServiceBusy) {
			return out, false, err
		}
		if errors.Is(err, renew.ErrOverBudget) || errors.Is(err, renew.ErrRenewedElsewhere) {
			return before, false, err
		}
		return nil, false, err
	}
	return out, moved, nil
}

func (s *Store) insertApproval(ctx context.Context, tx *sql.Tx, id string, a renew.Approval) error {
	at, err := nanos(a.At)
	if err != nil {
		return err
	}
	// seq keeps the approvals in the order they were written: the
	// request's row is locked, so no other approval of it is being added.
	_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO approvals (request_id, user_id, at, seq)
		VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM approvals WHERE request_id = ?))`), id, a.User, at, id)
	if err != nil {
		return fmt.Errorf("sqlstore: approval of %s by %s: %w", id, a.User, err)
	}
	return nil
}
