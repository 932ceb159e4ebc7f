package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// maxAttempts bounds the read-modify-write attempts of Transition and
// Update when another writer changed the request between read and write.
const maxAttempts = 5

// errLostRace: the conditional UPDATE matched no row, someone wrote
// first; the read-modify-write starts over.
var errLostRace = errors.New("request changed during the write")

// Create stores a new request, its approvals if any, and ev as its first
// event (From empty, To the request's state), in one transaction. It fills
// in r.CreatedAt (now) and r.UpdatedAt (r.CreatedAt) when they are zero.
// A request with the same id already stored is an ErrConflict.
func (s *Store) Create(ctx context.Context, r *renew.Request, ev renew.Event) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.Now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	w, err := encodeRequest(r)
	if err != nil {
		return err
	}
	ev.RequestID, ev.From, ev.To = r.ID, "", r.State
	if ev.At.IsZero() {
		ev.At = r.CreatedAt
	}
	if ev.Action == "" {
		ev.Action = "created"
	}
	insert := s.d.rebind("INSERT INTO requests (" + columnList("") + ") VALUES (" +
		placeholders(len(requestColumns)) + ") ON CONFLICT (id) DO NOTHING")
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, insert, w.args()...)
		if err != nil {
			return fmt.Errorf("sqlstore: create request %s: %w", r.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: create request %s: %w", r.ID, err)
		} else if n == 0 {
			return fmt.Errorf("sqlstore: create request %s: id taken: %w", r.ID, renew.ErrConflict)
		}
		for _, a := range r.Approvals {
			if err := s.insertApproval(ctx, tx, r.ID, a); err != nil {
				return err
			}
		}
		if r.State.Holds() {
			if err := s.hold(ctx, tx, r); err != nil {
				return err
			}
		}
		return s.insertEvent(ctx, tx, ev, w.Channel, w.ServiceID)
	})
}

// Get returns the request with its approvals in the order they came, or an
// error wrapping renew.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*renew.Request, error) {
	return s.load(ctx, s.db, id, false)
}

// load reads one request and its approvals in a single statement (one
// snapshot). lock first takes the request's row lock where the dialect
// needs one (PostgreSQL), for a read-modify-write.
func (s *Store) load(ctx context.Context, q querier, id string, lock bool) (*renew.Request, error) {
	if lock && s.d.lockRow != "" {
		// A statement of its own: in READ COMMITTED a statement that waits
		// for a row lock re-reads that row but not the rows it joins, and
		// the approvals would be those before the lock holder's commit.
		var one int
		err := q.QueryRowContext(ctx, s.d.rebind("SELECT 1 FROM requests WHERE id = ?"+s.d.lockRow), id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlstore: request %s: %w", id, renew.ErrNotFound)
		} else if err != nil {
			return nil, fmt.Errorf("sqlstore: lock request %s: %w", id, err)
		}
	}
	query := "SELECT " + columnList("r") + ", a.user_id, a.at FROM requests r" +
		" LEFT JOIN approvals a ON a.request_id = r.id WHERE r.id = ? ORDER BY a.seq, a.at, a.user_id"
	rows, err := q.QueryContext(ctx, s.d.rebind(query), id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get request %s: %w", id, err)
	}
	rs, err := scanRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get request %s: %w", id, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("sqlstore: request %s: %w", id, renew.ErrNotFound)
	}
	return rs[0], nil
}

// scanRequests reads rows of request columns followed by an approval's
// user_id and at (NULL for a request without approvals), grouped by
// request, and closes rows.
func scanRequests(rows *sql.Rows) ([]*renew.Request, error) {
	defer rows.Close()
	var (
		out  []*renew.Request
		w    row
		user sql.NullString
		at   sql.NullInt64
	)
	dest := append(w.dest(), &user, &at)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != w.ID {
			r, err := w.decode()
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if user.Valid {
			r := out[len(out)-1]
			r.Approvals = append(r.Approvals, renew.Approval{User: user.String, At: fromNanos(at)})
		}
	}
	return out, rows.Err()
}

// Transition moves request id from one of the states in from to the state
// to, after applying change to it, and records ev with From and To filled
// in. When the request is in none of from, it returns the request as it is
// and a *renew.StateError. A move renew.CanMove forbids is refused with an
// error: it is a bug in the caller. Moving to renew.StatePaymentFailed
// forgets the approvals.
//
// change may run more than once (each time on a freshly read request) and
// must not have other effects. The ID, Version, State, CreatedAt and
// Approvals it sets are ignored: the store owns them.
func (s *Store) Transition(ctx context.Context, id string, from []renew.State, to renew.State, ev renew.Event, change func(*renew.Request)) (*renew.Request, error) {
	return s.rewrite(ctx, id, nil, ev, change, func(cur renew.State) (renew.State, error) {
		if !slices.Contains(from, cur) {
			return "", &renew.StateError{ID: id, State: cur}
		}
		if !renew.CanMove(cur, to) {
			return "", fmt.Errorf("sqlstore: request %s: move %s -> %s is not allowed", id, cur, to)
		}
		return to, nil
	}, true)
}

// Update applies change to request id without changing its state, and
// records ev when ev.Action is not empty. change follows the rules of
// Transition's.
func (s *Store) Update(ctx context.Context, id string, ev renew.Event, change func(*renew.Request)) (*renew.Request, error) {
	return s.rewrite(ctx, id, nil, ev, change, func(cur renew.State) (renew.State, error) {
		return cur, nil
	}, ev.Action != "")
}

// UpdateIfUnchanged is Update on condition that request id is still at
// version; otherwise it returns the request as it is and a
// *renew.StateError, and writes nothing.
func (s *Store) UpdateIfUnchanged(ctx context.Context, id string, version int64, ev renew.Event, change func(*renew.Request)) (*renew.Request, error) {
	if version < 0 {
		return nil, fmt.Errorf("sqlstore: update %s: negative version %d", id, version)
	}
	return s.rewrite(ctx, id, atVersion(version), ev, change, func(cur renew.State) (renew.State, error) {
		return cur, nil
	}, ev.Action != "")
}

// TransitionIfUnchanged moves request id to the state to on condition
// that it is still at version; otherwise it returns the request as it is
// and a *renew.StateError, and writes nothing.
func (s *Store) TransitionIfUnchanged(ctx context.Context, id string, version int64, to renew.State, ev renew.Event, change func(*renew.Request)) (*renew.Request, error) {
	if version < 0 {
		return nil, fmt.Errorf("sqlstore: transition %s: negative version %d", id, version)
	}
	return s.rewrite(ctx, id, atVersion(version), ev, change, func(cur renew.State) (renew.State, error) {
		if !renew.CanMove(cur, to) {
			return "", fmt.Errorf("sqlstore: request %s: move %s -> %s is not allowed", id, cur, to)
		}
		return to, nil
	}, true)
}

// TransitionIfClaimed moves request id to the state to (or, when to is
// renew.StatePaying, only changes it) on condition that it is still paying
// under claim c; otherwise it returns the request as it is and a
// *renew.StateError, and writes nothing. Writes that leave the claim as it
// was (the message ts) do not stand in the way.
func (s *Store) TransitionIfClaimed(ctx context.Context, id string, c renew.Claim, to renew.State, ev renew.Event, change func(*renew.Request)) (*renew.Request, error) {
	guard := func(cur *renew.Request) error {
		if cur.State != renew.StatePaying || !cur.Claim().Is(c) {
			return &renew.StateError{ID: id, State: cur.State}
		}
		return nil
	}
	return s.rewrite(ctx, id, guard, ev, change, func(cur renew.State) (renew.State, error) {
		if to != cur && !renew.CanMove(cur, to) {
			return "", fmt.Errorf("sqlstore: request %s: move %s -> %s is not allowed", id, cur, to)
		}
		return to, nil
	}, to != renew.StatePaying || ev.Action != "")
}

// atVersion is the guard of a write on condition that the request is
// still at version.
func atVersion(version int64) func(*renew.Request) error {
	return func(cur *renew.Request) error {
		if cur.Version != version {
			return &renew.StateError{ID: cur.ID, State: cur.State}
		}
		return nil
	}
}

// rewrite is the read-modify-write behind Transition and Update: read the
// request, decide its next state, apply change, write it back on condition
// that nobody wrote meanwhile, and start over if somebody did. guard, when
// set, refuses a request that is no longer as the caller read it.
//
// The read also locks the row (PostgreSQL; SQLite's immediate transaction
// already excludes other writers), so concurrent writers of one request
// queue rather than exhaust their attempts; the conditional write still
// guards against any writer that does not lock.
func (s *Store) rewrite(ctx context.Context, id string, guard func(*renew.Request) error, ev renew.Event, change func(*renew.Request),
	next func(cur renew.State) (renew.State, error), record bool) (*renew.Request, error) {
	for attempt := 1; ; attempt++ {
		var cur, out *renew.Request
		var read renew.Request // as read, before change: returned with a refusal
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			if cur, err = s.load(ctx, tx, id, true); err != nil {
				return err
			}
			read = *cur
			if guard != nil {
				if err := guard(cur); err != nil {
					return err
				}
			}
			to, err := next(cur.State)
			if err != nil {
				return err
			}
			if s.afterRead != nil {
				if err := s.afterRead(ctx, tx, attempt); err != nil {
					return err
				}
			}
			out, err = s.save(ctx, tx, cur, to, ev, change, record)
			return err
		})
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, errLostRace) && attempt < maxAttempts:
			continue
		case errors.Is(err, errLostRace):
			return nil, fmt.Errorf("sqlstore: request %s kept changing during %d attempts to write it: %w", id, attempt, renew.ErrConflict)
		}
		if errors.Is(err, renew.ErrConflict) || errors.Is(err, renew.ErrServiceBusy) {
			return &read, err
		}
		return nil, err
	}
}

// updateRequest writes every column but id and created_at, on condition
// that the row is still in the state and version that were read.
var updateRequest = "UPDATE requests SET " + strings.Join(slices.DeleteFunc(slices.Clone(requestColumns), fixedColumn), " = ?, ") +
	" = ? WHERE id = ? AND state = ? AND version = ?"

// fixedColumn reports the columns no write changes.
func fixedColumn(name string) bool { return name == "id" || name == "created_at" }

// save writes cur, changed, in state to; cur is modified in place and
// returned.
func (s *Store) save(ctx context.Context, tx *sql.Tx, cur *renew.Request, to renew.State, ev renew.Event,
	change func(*renew.Request), record bool) (*renew.Request, error) {
	id, from, version, created, approvals, round, claimed := cur.ID, cur.State, cur.Version, cur.CreatedAt, cur.Approvals, cur.Attempt, cur.ClaimedAt
	if change != nil {
		change(cur)
	}
	at := ev.At
	if at.IsZero() {
		at = s.Now()
	}
	cur.ID, cur.State, cur.Version, cur.CreatedAt, cur.Approvals, cur.Attempt = id, to, version+1, created, approvals, round
	cur.ClaimedAt = claimed // only Approve claims a payment
	cur.UpdatedAt = at
	if to == renew.StatePaymentFailed && from != to {
		// A new round of approval: clicks shown for the last one no
		// longer count, and no pay call of this round was sent yet.
		cur.Attempt++
		cur.PaySentAt = time.Time{}
	}
	w, err := encodeRequest(cur)
	if err != nil {
		return nil, err
	}
	var args []any
	for i, v := range w.args() {
		if !fixedColumn(requestColumns[i]) {
			args = append(args, v)
		}
	}
	args = append(args, id, string(from), version)
	res, err := tx.ExecContext(ctx, s.d.rebind(updateRequest), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: update request %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("sqlstore: update request %s: %w", id, err)
	} else if n == 0 {
		return nil, errLostRace
	}
	if from != to {
		if err := s.holdOrRelease(ctx, tx, cur); err != nil {
			return nil, err
		}
	}
	if to == renew.StatePaymentFailed && from != to {
		// A failed payment needs fresh approvals: the people who approved
		// it approved that attempt, not the next one.
		if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM approvals WHERE request_id = ?"), id); err != nil {
			return nil, fmt.Errorf("sqlstore: clear approvals of %s: %w", id, err)
		}
		cur.Approvals = nil
	}
	if record {
		ev.RequestID, ev.From, ev.To, ev.At = id, from, to, at
		if err := s.insertEvent(ctx, tx, ev, w.Channel, w.ServiceID); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// List returns the requests matching f, newest first, with their
// approvals.
func (s *Store) List(ctx context.Context, f renew.Filter) ([]*renew.Request, error) {
	var (
		conds []string
		args  []any
	)
	if f.Channel != "" {
		conds = append(conds, "channel = ?")
		args = append(args, f.Channel)
	}
	if len(f.States) > 0 {
		conds = append(conds, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if !f.ExpiresBefore.IsZero() {
		before, err := nanos(f.ExpiresBefore)
		if err != nil {
			return nil, err
		}
		conds = append(conds, "expires_at IS NOT NULL AND expires_at < ?")
		args = append(args, before)
	}
	for _, c := range []struct {
		t    time.Time
		cond string
	}{{f.ClaimedFrom, "claimed_at >= ?"}, {f.ClaimedBefore, "claimed_at < ?"}} {
		if c.t.IsZero() {
			continue
		}
		n, err := nanos(c.t)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c.cond)
		args = append(args, n)
	}
	inner := "SELECT * FROM requests" + where(conds) + " ORDER BY created_at DESC, id DESC"
	if f.Limit > 0 {
		inner += " LIMIT ?"
		args = append(args, f.Limit)
	}
	// One statement, so each request and its approvals come from the same
	// snapshot.
	query := "SELECT " + columnList("r") + ", a.user_id, a.at FROM (" + inner + ") r" +
		" LEFT JOIN approvals a ON a.request_id = r.id ORDER BY r.created_at DESC, r.id DESC, a.seq, a.at, a.user_id"
	rows, err := s.db.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list requests: %w", err)
	}
	rs, err := scanRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list requests: %w", err)
	}
	return rs, nil
}

func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
