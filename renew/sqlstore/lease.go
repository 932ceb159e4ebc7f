package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// Lease takes or renews the lease name for holder until ttl from now, and
// reports whether holder holds it. A lease is free once its holder let ttl
// pass without renewing it. The check and the take are one statement, so
// of two replicas asking together exactly one wins.
//
// Expiry is judged by the store's clock: replicas' clocks must agree to
// well within ttl.
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("sqlstore: lease %q for %q: need a name, a holder and a positive ttl", name, holder)
	}
	now := s.Now()
	res, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE leases.holder = excluded.holder OR leases.until <= ?`),
		name, holder, now.Add(ttl).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("sqlstore: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: lease %s: %w", name, err)
	}
	return n == 1, nil
}

// Release gives up holder's lease name, if it holds it, so another
// replica takes over at its next try instead of waiting for the lease to
// run out: a rolling restart moves background work at once.
func (s *Store) Release(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, s.d.rebind("DELETE FROM leases WHERE name = ? AND holder = ?"), name, holder); err != nil {
		return fmt.Errorf("sqlstore: release lease %s: %w", name, err)
	}
	return nil
}

// Remember records key and reports whether it was new. Only one caller
// ever gets true for a key, however many ask together. Keys remembered
// more than rememberFor ago (by the store's clock) are forgotten in the
// same transaction, so the table stays about a year of reminders.
func (s *Store) Remember(ctx context.Context, key string, at time.Time) (bool, error) {
	if at.IsZero() {
		at = s.Now()
	}
	n, err := nanos(at)
	if err != nil {
		return false, err
	}
	var added int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM reminders WHERE at < ?"), s.Now().Add(-rememberFor).UnixNano()); err != nil {
			return fmt.Errorf("sqlstore: remember %s: forget old reminders: %w", key, err)
		}
		res, err := tx.ExecContext(ctx, s.d.rebind("INSERT INTO reminders (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"), key, n)
		if err != nil {
			return fmt.Errorf("sqlstore: remember %s: %w", key, err)
		}
		if added, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: remember %s: %w", key, err)
		}
		return nil
	})
	return added == 1, err
}

// rememberFor is how long a reminder's key is kept. A key names a
// service's expiry date, which a renewal moves: past a year it holds
// nothing back but a reminder of a service still unrenewed on the same
// expiry (a threshold above 400 days, or an expired service OVHcloud
// never deleted), which is then reminded once more.
const rememberFor = 400 * 24 * time.Hour

var _ renew.SentLog = (*Store)(nil)

// Remembered reports which of keys were remembered, without remembering
// any: `renewbot remind --dry-run` shows what is due and changes nothing.
func (s *Store) Remembered(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	for len(keys) > 0 {
		// Bounded batches keep under SQLite's and PostgreSQL's parameter limits.
		batch := keys[:min(len(keys), 500)]
		keys = keys[len(batch):]
		args := make([]any, len(batch))
		for i, k := range batch {
			args[i] = k
		}
		q := "SELECT key FROM reminders WHERE key IN (" + strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",") + ")"
		rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: remembered: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: remembered: %w", err)
			}
			out[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CountByState counts requests in each state, for metrics.
func (s *Store) CountByState(ctx context.Context) (map[renew.State]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT state, COUNT(*) FROM requests GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: count by state: %w", err)
	}
	defer rows.Close()
	out := map[renew.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: count by state: %w", err)
		}
		out[renew.State(st)] = n
	}
	return out, rows.Err()
}
