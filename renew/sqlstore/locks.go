package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/renewbot/renewbot/renew"
)

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
		res, err := tx.ExecContext(ctx, s.d.rebind("UPDATE service_locks SET request_id = ? WHERE service_id = ? AND request_id = ?"),
			r.ID, l.service, l.holder)
		if err != nil {
			return fmt.Errorf("sqlstore: take over service %d for %s: %w", l.service, r.ID, err)
		}
		// Another writer took it over between the read and this write:
		// it holds the service now.
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return &renew.BusyError{ServiceID: l.service}
		}
	}
	return nil
}
