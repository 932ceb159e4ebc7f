package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// expiresOn is a renewal's key: the expiry's date as OVHcloud wrote it,
// as migration 0005 reads it from stored services.
func expiresOn(rw renew.Renewal) string { return rw.From.Format(time.DateOnly) }

// RenewedBy returns the request that claimed rw and may have paid, or nil.
func (s *Store) RenewedBy(ctx context.Context, rw renew.Renewal) (*renew.Request, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT request_id FROM renewals WHERE service_id = ? AND expires_on = ?"),
		rw.ServiceID, expiresOn(rw)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: renewal of service %d: %w", rw.ServiceID, err)
	}
	r, err := s.Get(ctx, id)
	if errors.Is(err, renew.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !r.State.Counts() {
		return nil, nil // its payment failed: the renewal is free again
	}
	return r, nil
}

// takeRenewals claims r's renewals for r, in the transaction that moves
// it to paying, or fails with a *renew.AlreadyRenewedError naming the
// request that may have paid one of them. The primary key decides between
// writers, as for service locks; a row whose request may no longer have
// paid is taken over, on condition that it is still that request's.
func (s *Store) takeRenewals(ctx context.Context, tx *sql.Tx, r *renew.Request) error {
	for _, rw := range r.Renewals() {
		key := expiresOn(rw)
		if _, err := tx.ExecContext(ctx, s.d.rebind(
			"INSERT INTO renewals (service_id, expires_on, request_id) VALUES (?, ?, ?) ON CONFLICT (service_id, expires_on) DO NOTHING"),
			rw.ServiceID, key, r.ID); err != nil {
			return fmt.Errorf("sqlstore: renewal of service %d for %s: %w", rw.ServiceID, r.ID, err)
		}
		var holder, state string
		err := tx.QueryRowContext(ctx, s.d.rebind("SELECT l.request_id, q.state FROM renewals l JOIN requests q ON q.id = l.request_id"+
			" WHERE l.service_id = ? AND l.expires_on = ?"), rw.ServiceID, key).Scan(&holder, &state)
		if err != nil {
			return fmt.Errorf("sqlstore: renewal of service %d for %s: %w", rw.ServiceID, r.ID, err)
		}
		switch {
		case holder == r.ID:
		case renew.State(state).Counts():
			ae := &renew.AlreadyRenewedError{Renewal: rw}
			if h, err := s.load(ctx, tx, holder, false); err == nil {
				ae.By = h
			}
			return ae
		default:
			res, err := tx.ExecContext(ctx, s.d.rebind("UPDATE renewals SET request_id = ? WHERE service_id = ? AND expires_on = ? AND request_id = ?"),
				r.ID, rw.ServiceID, key, holder)
			if err != nil {
				return fmt.Errorf("sqlstore: take over the renewal of service %d for %s: %w", rw.ServiceID, r.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("sqlstore: take over the renewal of service %d for %s: %w: %w", rw.ServiceID, r.ID, errLostRace, renew.ErrConflict)
			}
		}
	}
	return nil
}
