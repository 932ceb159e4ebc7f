package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/renewbot/renewbot/renew"
)

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
