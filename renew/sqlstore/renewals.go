package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/renewbot/renewbot/renew"
)

// expiresAt is a renewal's key: its expiry as an instant (Unix seconds),
// so that two reads of one expiry written with different UTC offsets are
// the same renewal, as renew compares them.
func expiresAt(rw renew.Renewal) int64 { return rw.From.Unix() }

// countedIn lists renew.CountedStates for an SQL IN clause.
var countedIn = func() string {
	q := make([]string, len(renew.CountedStates))
	for i, st := range renew.CountedStates {
		q[i] = "'" + string(st) + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}()

// RenewedBy returns the request that claimed rw and may have paid, or nil.
func (s *Store) RenewedBy(ctx context.Context, rw renew.Renewal) (*renew.Request, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT l.request_id FROM renewals l JOIN requests q ON q.id = l.request_id"+
		" WHERE l.service_id = ? AND l.expires_at = ? AND q.state IN "+countedIn), rw.ServiceID, expiresAt(rw)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err = s.unrecorded(ctx, s.db, rw, "")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: renewal of service %d: %w", rw.ServiceID, err)
	}
	if id == "" {
		return nil, nil
	}
	r, err := s.Get(ctx, id)
	if errors.Is(err, renew.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !r.State.Counts() {
		return nil, nil // its payment failed since: the renewal is free again
	}
	return r, nil
}

// unrecorded returns a request other than except that may have paid for
// renewing rw's service from its expiry without a renewals row: a claim
// made by a version from before migration 0005, still running during a
// rolling upgrade. It renews its own service, read from its stored
// service. "" when there is none.
func (s *Store) unrecorded(ctx context.Context, q querier, rw renew.Renewal, except string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, s.d.rebind("SELECT id FROM requests WHERE service_id = ? AND id <> ? AND state IN "+countedIn+
		" AND NOT EXISTS (SELECT 1 FROM renewals l WHERE l.request_id = requests.id)"+
		" AND "+s.d.serviceExpiry+" = ? ORDER BY created_at LIMIT 1"), rw.ServiceID, except, expiresAt(rw)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// takeRenewals claims r's renewals for r, in the transaction that moves
// it to paying, or fails with a *renew.AlreadyRenewedError naming the
// request that may have paid one of them. The primary key decides between
// writers, as for service locks; a row whose request may no longer have
// paid is taken over, on condition that it is still that request's.
func (s *Store) takeRenewals(ctx context.Context, tx *sql.Tx, r *renew.Request) error {
	refuse := func(rw renew.Renewal, holder string) error {
		ae := &renew.AlreadyRenewedError{Renewal: rw}
		if h, err := s.load(ctx, tx, holder, false); err == nil {
			ae.By = h
		}
		return ae
	}
	for _, rw := range r.Renewals() {
		key := expiresAt(rw)
		if _, err := tx.ExecContext(ctx, s.d.rebind(
			"INSERT INTO renewals (service_id, expires_at, request_id) VALUES (?, ?, ?) ON CONFLICT (service_id, expires_at) DO NOTHING"),
			rw.ServiceID, key, r.ID); err != nil {
			return fmt.Errorf("sqlstore: renewal of service %d for %s: %w", rw.ServiceID, r.ID, err)
		}
		var holder, state string
		err := tx.QueryRowContext(ctx, s.d.rebind("SELECT l.request_id, q.state FROM renewals l JOIN requests q ON q.id = l.request_id"+
			" WHERE l.service_id = ? AND l.expires_at = ?"), rw.ServiceID, key).Scan(&holder, &state)
		if err != nil {
			return fmt.Errorf("sqlstore: renewal of service %d for %s: %w", rw.ServiceID, r.ID, err)
		}
		switch {
		case holder == r.ID:
		case renew.State(state).Counts():
			return refuse(rw, holder)
		default:
			res, err := tx.ExecContext(ctx, s.d.rebind("UPDATE renewals SET request_id = ? WHERE service_id = ? AND expires_at = ? AND request_id = ?"),
				r.ID, rw.ServiceID, key, holder)
			if err != nil {
				return fmt.Errorf("sqlstore: take over the renewal of service %d for %s: %w", rw.ServiceID, r.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("sqlstore: take over the renewal of service %d for %s: %w: %w", rw.ServiceID, r.ID, errLostRace, renew.ErrConflict)
			}
		}
		if rw.ServiceID != r.Service.ID {
			continue
		}
		old, err := s.unrecorded(ctx, tx, rw, r.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: renewals of service %d for %s: %w", rw.ServiceID, r.ID, err)
		}
		if old != "" {
			return refuse(rw, old)
		}
	}
	return nil
}
