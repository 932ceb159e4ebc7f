package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrations/DIALECT/NNNN_name.sql: applied in order of NNNN, each once,
// recorded in schema_migrations. A file is never edited once released; a
// change is a new file, in both directories.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrationLockKey is the PostgreSQL advisory lock that serialises replicas
// migrating the same database ("renewbot" in ASCII).
const migrationLockKey = 0x72656e6577626f74

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	name       TEXT   NOT NULL,
	applied_at BIGINT NOT NULL
)`

func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("sqlstore: migrations: bad file name %s", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migrations: %w", err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlstore: migrations: version %d twice", ms[i].version)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks. Replicas starting
// together take turns: on PostgreSQL behind an advisory lock, on SQLite
// inside one immediate transaction. Versions the database has and this
// binary does not know are left alone, so an older replica keeps running
// during a rolling upgrade (migrations only ever add).
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		return err
	}
	if s.d.name == "postgres" {
		return s.migratePostgres(ctx, ms)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error { return applyMigrations(ctx, tx, s.d, ms) })
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

func (s *Store) migratePostgres(ctx context.Context, ms []migration) error {
	// The advisory lock belongs to a session: take it, migrate and release
	// it on one connection.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
		return fmt.Errorf("sqlstore: migrate: lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done. Should that fail, discard the
		// connection rather than return it to the pool: closing the
		// session releases the lock.
		_, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey))
		if uerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: begin: %w", err)
	}
	if err := applyMigrations(ctx, tx, s.d, ms); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: commit: %w", err)
	}
	return nil
}

// Pending returns the versions of the migrations this binary has and the
// database lacks, oldest first: every one for a database renewbot never
// opened, none once Open has migrated it.
func (s *Store) Pending(ctx context.Context) ([]int, error) {
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		return nil, err
	}
	exists := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if s.d.name == "postgres" {
		exists = "SELECT COUNT(*) FROM (SELECT to_regclass('schema_migrations') AS t) r WHERE t IS NOT NULL" // on the search_path
	}
	var n int
	if err := s.db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	if n > 0 {
		rows, err := s.db.QueryContext(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
			}
			applied[v] = true
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
	}
	var pending []int
	for _, m := range ms {
		if !applied[m.version] {
			pending = append(pending, m.version)
		}
	}
	return pending, nil
}

// applyMigrations runs, in tx, the migrations not yet recorded.
func applyMigrations(ctx context.Context, tx *sql.Tx, d dialect, ms []migration) error {
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("%04d_%s: %w", m.version, m.name, err)
		}
		_, err := tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.version, m.name, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("%04d_%s: record: %w", m.version, m.name, err)
		}
	}
	return nil
}
