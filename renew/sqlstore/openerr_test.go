package sqlstore

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A database that cannot be opened is said in one line that names it and
// says why.
func TestOpenErrorsNameTheDatabase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once closed
	l.Close()

	for url, want := range map[string]string{
		"sqlite:" + filepath.Join(dir, "missing", "renewbot.db"): "cannot open the SQLite file " + filepath.Join(dir, "missing", "renewbot.db") + ": its directory " + filepath.Join(dir, "missing") + " does not exist",
		"sqlite:" + filepath.Join(file, "renewbot.db"):           "cannot open the SQLite file " + filepath.Join(file, "renewbot.db") + ": " + file + " is not a directory",
		"sqlite:" + dir: "cannot open the SQLite file " + dir + ": it is a directory",
		"postgres://renewbot:s3cret@" + closed + "/team?connect_timeout=5": "cannot connect to PostgreSQL at " + closed + " (user renewbot, database team): connection refused",
	} {
		s, err := Open(context.Background(), url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) worked", url)
			continue
		}
		if got := err.Error(); got != want {
			t.Errorf("Open(%s):\n got %q\nwant %q", url, got, want)
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s) = %q: not one line, or shows the password", url, err)
		}
	}
}
