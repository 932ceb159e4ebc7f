// Package sqlstore keeps renewbot's requests, approvals and audit trail in
// SQLite (one replica, a file) or PostgreSQL (several replicas sharing the
// state). It implements renew.Store, renew.Leaser and renew.ReminderLog.
//
// Money safety rests on two rules. Every change of a request is a
// read-modify-write in one transaction whose UPDATE is conditional on the
// state and version it read, so two writers can never both move a request
// out of the same state. And writes of one request, approvals above all,
// are serialised (SQLite: every write transaction is BEGIN IMMEDIATE;
// PostgreSQL: SELECT ... FOR UPDATE), so exactly one approver's click
// moves a request to paying.
//
// Queries are written once with ? placeholders and rebound to $n for
// PostgreSQL. The schema is migrated at Open from embedded, versioned files.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver

	"github.com/renewbot/renewbot/renew"
)

var (
	_ renew.Store       = (*Store)(nil)
	_ renew.Leaser      = (*Store)(nil)
	_ renew.ReminderLog = (*Store)(nil)
)

// Store is a renew.Store over database/sql. It is safe for concurrent use,
// and several processes may share one database.
type Store struct {
	db *sql.DB
	d  dialect
	// local is this process's clock; synced is the database server's
	// time as SyncClock last read it, and the local reading then (nil:
	// never synced, SQLite).
	local  func() time.Time
	synced atomic.Pointer[syncPoint]

	// path is the SQLite file ("" for PostgreSQL); existing refuses to
	// create it (Existing).
	path     string
	existing bool
	// noMigrate leaves the schema as it is (NoMigrate).
	noMigrate bool
	// maxConns caps PostgreSQL's pool (postgresMaxConns unless a test
	// sets it).
	maxConns int

	// afterRead, when set by a test, runs inside a read-modify-write
	// transaction between the read and the conditional write.
	afterRead func(ctx context.Context, tx *sql.Tx, attempt int) error
	// afterSum, when set by a test, runs inside a claim's transaction
	// once the month's payments are added up, before the claim.
	afterSum func()
}

// dialect holds what differs between the two databases.
type dialect struct {
	name string // "sqlite" or "postgres": the migrations directory
	// dollar: placeholders are $1, $2... instead of ?.
	dollar bool
	// lockRow is appended to a SELECT to lock the request it reads
	// before changing it. SQLite needs none: its write transactions are
	// BEGIN IMMEDIATE, so only one is ever open.
	lockRow string
	// txOptions start every write transaction. PostgreSQL's must be READ
	// COMMITTED whatever the server's default: the budget's sum and the
	// service locks read what was committed while they waited for a
	// lock, which REPEATABLE READ would hide (and SERIALIZABLE refuse).
	txOptions *sql.TxOptions
	// orderAmount reads the price with tax, in micro-cents, from a
	// request's order_json.
	orderAmount string
	// serviceExpiry reads the expiry of a request's own service, in Unix
	// seconds, from its stored service (renewals' key). PostgreSQL's
	// timestamptz would round a fraction of a second to microseconds (up,
	// into the next second, from .9999995): the fraction is cut first, as
	// Go's Unix does.
	serviceExpiry string
}

var (
	sqliteDialect = dialect{name: "sqlite",
		orderAmount:   "json_extract(order_json, '$.price_with_tax.ucents')",
		serviceExpiry: "CAST(strftime('%s', json_extract(service, '$.expiration')) AS INTEGER)"}
	postgresDialect = dialect{name: "postgres", dollar: true, lockRow: " FOR UPDATE",
		txOptions:     &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		orderAmount:   "(order_json::jsonb -> 'price_with_tax' ->> 'ucents')::BIGINT",
		serviceExpiry: "extract(epoch FROM regexp_replace(service::json ->> 'expiration', '\\.[0-9]+', '')::timestamptz)::BIGINT"}
)

// Open connects to the database named by rawURL and brings its schema up to
// date (unless NoMigrate). Accepted forms:
//
//	sqlite:PATH                 a file, created when missing
//	postgres://USER@HOST/DB?... or postgresql://...
//
// PostgreSQL URLs take any libpq/pgx parameter, e.g. search_path to keep
// renewbot's tables in their own schema.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		s, err = openSQLite(strings.TrimPrefix(rawURL, "sqlite:"))
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		s, err = openPostgres(rawURL)
	default:
		// Only the scheme is named: the rest may hold a password.
		return nil, fmt.Errorf("sqlstore: unsupported database URL scheme %q: want sqlite:PATH or postgres://...", scheme(rawURL))
	}
	if err != nil {
		return nil, err
	}
	s.local = time.Now
	for _, o := range opts {
		o(s)
	}
	if s.d.name == "postgres" {
		s.limitPool()
	}
	if s.existing && s.path != "" {
		if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) {
			s.db.Close()
			return nil, &openError{msg: "no database at " + shownPath(s.path), err: ErrNoDatabase}
		}
	}
	if err := s.ping(ctx); err != nil {
		s.db.Close()
		return nil, connectError(rawURL, err)
	}
	if !s.noMigrate {
		if err := s.migrate(ctx); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	if err := s.SyncClock(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Option configures a Store.
type Option func(*Store)

// Existing makes Open refuse to create a SQLite database that is not
// there (ErrNoDatabase): a command that only reads, given a wrong path,
// says so rather than leave an empty database behind.
func Existing() Option { return func(s *Store) { s.existing = true } }

// NoMigrate makes Open leave the schema as it finds it: a command that
// only looks (renewbot check, remind --dry-run) changes nothing. Pending
// then says what the bot would apply at start.
func NoMigrate() Option { return func(s *Store) { s.noMigrate = true } }

// ErrNoDatabase: the SQLite file named is not there (see Existing).
var ErrNoDatabase = errors.New("no such database")

// WithClock makes the store take now, instead of time.Now, as this
// process's clock (see Now).
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.local = now
		}
	}
}

// Now is the database's time: the process's clock corrected by the offset
// SyncClock measured. Replicas whose own clocks disagree then stamp and
// compare times (leases, stuck payments, expiries) on one clock, the
// database server's, to within a round trip. SQLite runs on this machine:
// its clock is the process's, and Now is the process's clock.
func (s *Store) Now() time.Time {
	p := s.synced.Load()
	if p == nil {
		return s.local()
	}
	// The time elapsed since the sync, on the local clock: with time.Now
	// it is the monotonic reading, so a step of the wall clock (NTP, a
	// resumed VM) between syncs moves nothing.
	return p.db.Add(s.local().Sub(p.local))
}

// syncPoint is one reading of the database's clock.
type syncPoint struct {
	db    time.Time // the server's time
	local time.Time // this process's clock at that moment
}

// SyncClock measures how far the database server's clock is from this
// process's. Open runs it once; call it again now and then (the
// background sweep does) to follow drift. It does nothing on SQLite.
func (s *Store) SyncClock(ctx context.Context) error {
	if s.d.name != "postgres" {
		return nil
	}
	before := s.local()
	var micros int64
	if err := s.db.QueryRowContext(ctx, "SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT").Scan(&micros); err != nil {
		return fmt.Errorf("sqlstore: read the database clock: %w", err)
	}
	after := s.local()
	// The server read its clock somewhere in the round trip: take the
	// middle, so the error is at most half of it.
	mid := before.Add(after.Sub(before) / 2)
	s.synced.Store(&syncPoint{db: time.UnixMicro(micros).UTC(), local: mid})
	return nil
}

func scheme(rawURL string) string {
	if i := strings.Index(rawURL, ":"); i >= 0 {
		return rawURL[:i]
	}
	return ""
}

// sqliteBusyTimeout is how long a writer waits for another one before
// SQLITE_BUSY. Transactions are short; a long wait means a stuck process.
const sqliteBusyTimeout = 10 * time.Second

// ping opens a first connection. SQLite answers SQLITE_BUSY at once,
// without waiting its busy timeout, to a connection that switches the
// file to WAL while another process or store does the same (replicas and
// `renewbot remind` starting together): that is retried for as long as
// the busy timeout.
func (s *Store) ping(ctx context.Context) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		err := s.db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || s.d.name != "sqlite" || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code.
const sqliteBusy = 5

// sqliteMaxConns bounds the pool: enough for WAL's concurrent readers.
const sqliteMaxConns = 8

func openSQLite(path string) (*Store, error) {
	switch {
	case path == "":
		return nil, errors.New("sqlstore: sqlite: empty path: want sqlite:PATH")
	case path == ":memory:" || strings.HasPrefix(path, "file:") || strings.HasPrefix(path, "//"):
		// Every pooled connection would see its own in-memory database; a
		// file: URI would bypass the parameters below; and sqlite://x means
		// a relative path to some tools and an absolute one to others.
		return nil, fmt.Errorf("sqlstore: sqlite: %q is not supported: want sqlite:PATH, e.g. sqlite:renewbot.db or sqlite:/var/lib/renewbot/renewbot.db", path)
	case strings.Contains(path, "?"):
		return nil, errors.New("sqlstore: sqlite: the path may not carry parameters: sqlstore sets them")
	}
	q := url.Values{}
	// Every write transaction takes the write lock at BEGIN: a
	// read-modify-write can then never be overtaken between its read and
	// its write, and never fails on a lock upgrade.
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	// WAL lets readers run while a write is in progress.
	q.Set("_journal_mode", "WAL")
	// FULL: a commit survives a power cut. With NORMAL, WAL may lose the
	// last commits, e.g. the move to paying, and a second payment could
	// follow.
	q.Set("_synchronous", "FULL")
	// Double-quoted strings are identifiers, never string literals.
	q.Set("_dqs", "0")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	// Writers take turns anyway: a burst of clicks waits in the pool's
	// queue rather than in SQLite's busy-sleep loop, and idle connections
	// are kept so the PRAGMAs above do not run again for each burst.
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	return &Store{db: db, d: sqliteDialect, path: path}, nil
}

func openPostgres(rawURL string) (*Store, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("sqlstore: postgres: %w", err)
	}
	return &Store{db: db, d: postgresDialect, maxConns: postgresMaxConns}, nil
}

// postgresMaxConns bounds each replica's PostgreSQL connections: a flood
// of clicks queues in the pool instead of opening a connection per click
// until the server's max_connections refuses every replica. No
// transaction holds a connection while it waits for another (the
// contract tests run on a pool of 2 to prove it), so the cap cannot
// deadlock.
const postgresMaxConns = 16

// limitPool applies maxConns. Idle connections are kept for bursts and
// closed after a few idle minutes, so a quiet bot holds few.
func (s *Store) limitPool() {
	s.db.SetMaxOpenConns(s.maxConns)
	s.db.SetMaxIdleConns(min(s.maxConns, 4))
	s.db.SetConnMaxIdleTime(5 * time.Minute)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// rebind turns ? placeholders into $1, $2... for PostgreSQL. Queries in
// this package never hold a ? inside a string literal.
func (d dialect) rebind(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, s.d.txOptions)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	// A panic in a caller's change function must not leave the
	// transaction open: on SQLite it holds the write lock, and net/http
	// recovers the panic and carries on.
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
