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
	return s.rewrite(ctx, id, anyVersion, ev, change, func(cur renew.State) (renew.State, error) {
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
	return s.rewrite(ctx, id, anyVersion, ev, change, func(cur renew.State) (renew.State, error) {
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
	return s.rewrite(ctx, id, version, ev, change, func(cur renew.State) (renew.State, error) {
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
	return s.rewrite(ctx, id, version, ev, change, func(cur renew.State) (renew.State, error) {
		if !renew.CanMove(cur, to) {
			return "", fmt.Errorf("sqlstore: request %s: move %s -> %s is not allowed", id, cur, to)
		}
		return to, nil
	}, true)
}

// anyVersion: rewrite writes whatever version it reads.
const anyVersion = -1

// rewrite is the read-modify-write behind Transition and Update: read the
// request, decide its next state, apply change, write it back on condition
// that nobody wrote meanwhile, and start over if somebody did.
//
// The read also locks the row (PostgreSQL; SQLite's immediate transaction
// already excludes other writers), so concurrent writers of one request
// queue rather than exhaust their attempts; the conditional write still
// guards against any writer that does not lock.
func (s *Store) rewrite(ctx context.Context, id string, version int64, ev renew.Event, change func(*renew.Request),
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
			if version != anyVersion && cur.Version != version {
				return &renew.StateError{ID: id, State: cur.State}
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
// *renew.BudgetError and the request is returned as it is.
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
		res, err := tx.ExecContext(ctx, s.d.rebind("UPDATE requests SET state = ?, version = ?, updated_at = ?, claimed_at = ? WHERE id = ? AND version = ?"),
			string(to), r.Version+1, at, claimedAt, id, r.Version)
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
		if errors.Is(err, renew.ErrOverBudget) {
			return before, false, err
		}
		return nil, false, err
	}
	return out, moved, nil
}

// Holder returns the request that holds service id, or nil when none
// does.
func (s *Store) Holder(ctx context.Context, serviceID int64) (*renew.Request, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT request_id FROM service_locks WHERE service_id = ?"), serviceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: holder of service %d: %w", serviceID, err)
	}
	r, err := s.Get(ctx, id)
	if errors.Is(err, renew.ErrNotFound) {
		return nil, nil // released meanwhile
	}
	if err == nil && !r.State.Holds() {
		return nil, nil // a lock left by a version that did not release it
	}
	return r, err
}

// holdOrRelease makes the service locks agree with r's state: held while
// the state Holds, released otherwise.
func (s *Store) holdOrRelease(ctx context.Context, tx *sql.Tx, r *renew.Request) error {
	if r.State.Holds() {
		return s.hold(ctx, tx, r)
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM service_locks WHERE request_id = ?"), r.ID); err != nil {
		return fmt.Errorf("sqlstore: release the services of %s: %w", r.ID, err)
	}
	return nil
}

// hold takes the services r renews for r, or fails with a
// *renew.BusyError naming the request that holds one. The primary key on
// service_id decides between writers: on PostgreSQL a second insert
// waits for the first transaction and then finds its row. Services are
// taken in ascending order, so two requests naming the same ones in
// another order wait for each other instead of deadlocking. A lock whose
// holder no longer holds (left by a version that did not release locks)
// is taken over.
func (s *Store) hold(ctx context.Context, tx *sql.Tx, r *renew.Request) error {
	ids := slices.Sorted(slices.Values(r.Services()))
	for _, sid := range ids {
		if _, err := tx.ExecContext(ctx, s.d.rebind(
			"INSERT INTO service_locks (service_id, request_id) VALUES (?, ?) ON CONFLICT (service_id) DO NOTHING"), sid, r.ID); err != nil {
			return fmt.Errorf("sqlstore: hold service %d for %s: %w", sid, r.ID, err)
		}
	}
	args := make([]any, len(ids))
	for i, sid := range ids {
		args[i] = sid
	}
	rows, err := tx.QueryContext(ctx, s.d.rebind("SELECT l.service_id, l.request_id, q.state FROM service_locks l"+
		" JOIN requests q ON q.id = l.request_id WHERE l.service_id IN ("+placeholders(len(ids))+") ORDER BY l.service_id"), args...)
	if err != nil {
		return fmt.Errorf("sqlstore: service holders of %s: %w", r.ID, err)
	}
	type lock struct {
		service int64
		holder  string
	}
	var held, stale []lock
	for rows.Next() {
		var (
			l     lock
			state string
		)
		if err := rows.Scan(&l.service, &l.holder, &state); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: service holders of %s: %w", r.ID, err)
		}
		switch {
		case l.holder == r.ID:
		case renew.State(state).Holds():
			held = append(held, l)
		default:
			stale = append(stale, l)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: service holders of %s: %w", r.ID, err)
	}
	if len(held) > 0 {
		be := &renew.BusyError{ServiceID: held[0].service}
		if h, err := s.load(ctx, tx, held[0].holder, false); err == nil {
			be.Holder = h
		}
		return be
	}
	for _, l := range stale {
		if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE service_locks SET request_id = ? WHERE service_id = ? AND request_id = ?"),
			r.ID, l.service, l.holder); err != nil {
			return fmt.Errorf("sqlstore: take over service %d for %s: %w", l.service, r.ID, err)
		}
	}
	return nil
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

// insertEvent appends ev to the audit trail; channel and serviceID are
// the request's, copied for the history queries.
func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, ev renew.Event, channel string, serviceID int64) error {
	if ev.At.IsZero() {
		ev.At = s.Now()
	}
	at, err := nanos(ev.At)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO events
		(request_id, at, actor, action, from_state, to_state, detail, channel, service_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		ev.RequestID, at, ev.Actor, ev.Action, string(ev.From), string(ev.To), ev.Detail, channel, serviceID)
	if err != nil {
		return fmt.Errorf("sqlstore: record event %s of %s: %w", ev.Action, ev.RequestID, err)
	}
	return nil
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

// Events returns the audit events matching f, newest first.
func (s *Store) Events(ctx context.Context, f renew.EventFilter) ([]renew.Event, error) {
	var (
		conds []string
		args  []any
	)
	if f.RequestID != "" {
		conds = append(conds, "request_id = ?")
		args = append(args, f.RequestID)
	}
	if f.ServiceID != 0 {
		conds = append(conds, "service_id = ?")
		args = append(args, f.ServiceID)
	}
	if f.Channel != "" {
		conds = append(conds, "channel = ?")
		args = append(args, f.Channel)
	}
	query := "SELECT id, request_id, at, actor, action, from_state, to_state, detail FROM events" +
		where(conds) + " ORDER BY id DESC"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list events: %w", err)
	}
	defer rows.Close()
	var out []renew.Event
	for rows.Next() {
		var (
			ev       renew.Event
			at       sql.NullInt64
			from, to string
		)
		if err := rows.Scan(&ev.ID, &ev.RequestID, &at, &ev.Actor, &ev.Action, &from, &to, &ev.Detail); err != nil {
			return nil, fmt.Errorf("sqlstore: list events: %w", err)
		}
		ev.At, ev.From, ev.To = fromNanos(at), renew.State(from), renew.State(to)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list events: %w", err)
	}
	return out, nil
}

func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
