package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestParseMode(t *testing.T) {
	for v, want := range map[string]mode{
		"":                                      modeAuto,
		"require":                               modeRequire,
		"off":                                   modeOff,
		"postgres://postgres@127.0.0.1:5432/x":  modeDSN,
		"postgresql://u:p@db/x?sslmode=disable": modeDSN,
	} {
		if got, err := parseMode(v); err != nil || got != want {
			t.Errorf("parseMode(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"on", "OFF", "true", "host=127.0.0.1 user=postgres"} {
		if _, err := parseMode(v); err == nil {
			t.Errorf("parseMode(%q): no error", v)
		}
	}
}

// fakeBin creates executable files named names in dir.
func fakeBin(t *testing.T, dir string, names ...string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindBinaries(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "lib", "postgresql")
	fakeBin(t, filepath.Join(root, "9.6", "bin"), "initdb", "pg_ctl")
	fakeBin(t, filepath.Join(root, "10", "bin"), "initdb", "pg_ctl")
	fakeBin(t, filepath.Join(root, "16", "bin"), "initdb") // incomplete
	fakeBin(t, filepath.Join(root, "common", "bin"), "initdb", "pg_ctl")
	onlyInitdb := fakeBin(t, filepath.Join(tmp, "partial"), "initdb")
	notExecutable := filepath.Join(tmp, "noexec")
	fakeBin(t, notExecutable)
	for _, n := range []string{"initdb", "pg_ctl"} {
		if err := os.WriteFile(filepath.Join(notExecutable, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	both := fakeBin(t, filepath.Join(tmp, "both"), "initdb", "pg_ctl")
	list := func(dirs ...string) string { return strings.Join(dirs, string(os.PathListSeparator)) }

	for _, tt := range []struct {
		name, path, root string
		want             string // directory of both binaries; "" for none
	}{
		{"PATH first", list(onlyInitdb, both), root, both},
		{"highest complete Debian version", list(onlyInitdb, notExecutable), root, filepath.Join(root, "10", "bin")},
		{"none", list(onlyInitdb, notExecutable), filepath.Join(tmp, "missing"), ""},
	} {
		b, ok := findBinaries(tt.path, tt.root)
		want := binaries{filepath.Join(tt.want, "initdb"), filepath.Join(tt.want, "pg_ctl")}
		if tt.want == "" {
			want = binaries{}
		}
		if ok != (tt.want != "") || b != want {
			t.Errorf("%s: findBinaries = %+v, %v; want %+v", tt.name, b, ok, want)
		}
	}
}

func open(t *testing.T, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query().Get("search_path")
}

// Each URL is a schema of its own, dropped when its test ends.
func TestURL(t *testing.T) {
	second := URL(t)
	var first string
	t.Run("first", func(t *testing.T) {
		first = URL(t)
		if _, err := open(t, first).Exec("CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	db := open(t, second)
	var current string
	if err := db.QueryRow("SELECT current_schema()").Scan(&current); err != nil || current != schemaOf(t, second) {
		t.Fatalf("current_schema() = %q, %v; want %q", current, err, schemaOf(t, second))
	}
	if _, err := db.Exec("SELECT * FROM t"); err == nil {
		t.Error("the second schema sees the first one's table")
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schemaOf(t, first)).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema of the finished test: %d, %v; want dropped", n, err)
	}
}

// A test binary that dies without Main's cleanup (panic, timeout, kill)
// still leaves no cluster behind.
func TestPrivateClusterRemovedWhenTheProcessDies(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		u := URL(t)
		println("cluster", private.dir, u)
		os.Exit(3)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPrivateClusterRemovedWhenTheProcessDies$", "-test.v")
	cmd.Env = []string{"PGTEST_CHILD=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, Env+"=") {
			cmd.Env = append(cmd.Env, kv) // unset: the child starts a private cluster
		}
	}
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`(?m)^cluster (\S+) (\S+)$`).FindSubmatch(out)
	if m == nil {
		if skip := regexp.MustCompile(`PostgreSQL tests skipped: .*`).Find(out); skip != nil {
			t.Skip(string(skip))
		}
		t.Fatalf("child: %v\n%s", err, out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child: %v; want exit status 3\n%s", err, out)
	}
	dir, u := string(m[1]), string(m[2])
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there a minute after its test binary died", dir)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := open(t, u).PingContext(ctx); err == nil {
		t.Errorf("the cluster at %s still answers", u)
	}
}
