package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// What the Slack transport keeps in the store, so that it holds across
// replicas and restarts: the Events API deliveries already handled, and
// who opened the Home tab lately. Both tables forget old rows as new ones
// come, so they stay small however long the bot runs.

// FirstDelivery records a Slack event id and reports whether this is its
// first delivery: of the deliveries of one event (Slack's retries, to any
// replica, before or after a restart), exactly one gets true. Ids older
// than keep are forgotten in the same transaction.
func (s *Store) FirstDelivery(ctx context.Context, eventID string, keep time.Duration) (bool, error) {
	if eventID == "" || keep <= 0 {
		return false, fmt.Errorf("sqlstore: event delivery: need an event id and a positive keep")
	}
	now := s.Now()
	var first bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM slack_events WHERE at < ?"), now.Add(-keep).UnixNano()); err != nil {
			return fmt.Errorf("sqlstore: forget old events: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.d.rebind("INSERT INTO slack_events (event_id, at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING"),
			eventID, now.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlstore: record event %s: %w", clip(eventID), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: record event %s: %w", clip(eventID), err)
		}
		first = n == 1
		return nil
	})
	return first, err
}

// HomeOpened records that user opened the Home tab now, and forgets who
// opened it more than keep ago.
func (s *Store) HomeOpened(ctx context.Context, user string, keep time.Duration) error {
	if user == "" || keep <= 0 {
		return fmt.Errorf("sqlstore: home opened: need a user and a positive keep")
	}
	now := s.Now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM home_opens WHERE at < ?"), now.Add(-keep).UnixNano()); err != nil {
			return fmt.Errorf("sqlstore: forget old home opens: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO home_opens (user_id, at) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET at = excluded.at`), user, now.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlstore: home opened by %s: %w", clip(user), err)
		}
		return nil
	})
}

// HomeOpeners returns the users who opened the Home tab since, most
// recent first, at most limit of them.
func (s *Store) HomeOpeners(ctx context.Context, since time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind("SELECT user_id FROM home_opens WHERE at >= ? ORDER BY at DESC, user_id LIMIT ?"),
		since.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: home openers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("sqlstore: home openers: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// clip shortens an id from a payload for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
