// Package pgtest gives tests a PostgreSQL database, so that the README's
// test command passes on a machine with nothing but Go and still runs the
// PostgreSQL tests wherever PostgreSQL can be had.
//
// RENEWBOT_TEST_POSTGRES says where the database comes from:
//
//   - unset: when the server binaries are installed (initdb and pg_ctl on
//     PATH, or in Debian's /usr/lib/postgresql/VERSION/bin, highest version
//     first), a private throwaway cluster is started in a temporary
//     directory, listening on a free port of 127.0.0.1 only, the first time
//     a test asks, and removed when the test binary ends. As root, initdb
//     and pg_ctl run as the postgres user, since they refuse root. A server
//     the machine already runs is never used. Without the binaries, the
//     tests are skipped with one line saying why.
//   - require: the same, but failing where it would skip (CI).
//   - a postgres:// URL: that server; unreachable fails the tests.
//   - off: the tests are skipped.
//
// Every URL names a fresh schema, dropped when its test ends. A test binary
// that calls URL must run its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env is the environment variable that chooses the database.
const Env = "RENEWBOT_TEST_POSTGRES"

type mode int

const (
	modeAuto    mode = iota // unset: a private cluster if the binaries are installed, else skip
	modeRequire             // a private cluster, or fail
	modeOff                 // skip
	modeDSN                 // the server at the given URL, or fail
)

func parseMode(v string) (mode, error) {
	switch {
	case v == "":
		return modeAuto, nil
	case v == "require":
		return modeRequire, nil
	case v == "off":
		return modeOff, nil
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		return modeDSN, nil
	}
	return 0, fmt.Errorf("%s=%q: want a postgres:// URL, require or off", Env, v)
}

var (
	mainRan atomic.Bool // Main is running the tests
	skipped atomic.Bool // a test was skipped for want of PostgreSQL

	once     sync.Once
	base     string  // URL of the database the schemas are created in
	admin    *sql.DB // connection to base, for CREATE and DROP SCHEMA
	private  *cluster
	skipWhy  string // set when the tests must skip
	setupErr error  // set when the tests must fail
)

// Main runs the tests, removes the private cluster if one was started and,
// if PostgreSQL tests were skipped, says so in one line.
func Main(m *testing.M) int {
	mainRan.Store(true)
	code := m.Run()
	if admin != nil {
		_ = admin.Close()
	}
	if private != nil {
		if err := private.remove(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if skipped.Load() && !testing.Verbose() {
		// With -v each skipped test already prints the reason.
		announce(packagePath() + ": " + skipWhy)
	}
	return code
}

// URL returns the URL of a fresh, empty schema, dropped when t ends. It
// skips t when no PostgreSQL can be had and that is allowed, and fails it
// otherwise.
func URL(t testing.TB) string {
	t.Helper()
	if !mainRan.Load() {
		t.Fatal("pgtest: the test binary's TestMain must return pgtest.Main(m), which removes the private cluster")
	}
	once.Do(setup)
	if skipWhy != "" {
		skipped.Store(true)
		t.Skip(skipWhy)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := fmt.Sprintf("test_%x", b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// setup finds the database once per test binary and sets base and admin,
// skipWhy or setupErr.
func setup() {
	v := os.Getenv(Env)
	m, err := parseMode(v)
	if err != nil {
		setupErr = err
		return
	}
	switch m {
	case modeOff:
		skipWhy = "PostgreSQL tests skipped: " + Env + "=off"
		return
	case modeDSN:
		base = v
	default:
		why, how := "", "install PostgreSQL"
		if bins, ok := findBinaries(os.Getenv("PATH"), debianRoot); !ok {
			why = "no initdb/pg_ctl found on PATH or in " + debianRoot + "/*/bin"
		} else if private, why, err = startCluster(bins); err != nil {
			setupErr = fmt.Errorf("private PostgreSQL cluster: %w", err)
			return
		} else {
			how = "run the tests as another user"
		}
		if why != "" {
			if m == modeRequire {
				setupErr = fmt.Errorf("%s=require, but %s", Env, why)
			} else {
				skipWhy = "PostgreSQL tests skipped: " + why + ", and " + Env + " is unset; " +
					how + " or set " + Env + "=postgres://… (see README, Tests)"
			}
			return
		}
		base = private.url
	}
	if admin, err = sql.Open("pgx", base); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = admin.PingContext(ctx)
	}
	if err != nil {
		hint := ""
		if m == modeDSN {
			hint = fmt.Sprintf(" (unset %s for a private cluster, or set it to off to skip)", Env)
		}
		setupErr = fmt.Errorf("PostgreSQL at %s unreachable%s: %w", redact(base), hint, err)
	}
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

// announce shows line in a plain `go test ./...`, which prints nothing of a
// package that passes but its "ok" line: when stderr is not the terminal,
// the line goes to the terminal itself, if there is one.
func announce(line string) {
	line += "\n"
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		fmt.Fprint(os.Stderr, line)
		return
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprint(tty, line)
		_ = tty.Close()
		return
	}
	// No terminal: go test shows it with -v or when the package fails.
	fmt.Fprint(os.Stderr, line)
}

// packagePath names the package under test by its directory (go test runs a
// test binary in its package's directory) relative to the module root.
func packagePath() string {
	wd, err := os.Getwd()
	if err != nil {
		return "pgtest"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil && rel != "." {
				return filepath.ToSlash(rel)
			}
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return filepath.Base(wd)
}
