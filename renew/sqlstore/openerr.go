package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// openError is a database that could not be opened, said in one line that
// names it: the SQLite file, or the PostgreSQL server, user and database.
// It wraps the driver's error.
type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// connectError explains why the database of rawURL did not answer.
func connectError(rawURL string, err error) error {
	if path, ok := strings.CutPrefix(rawURL, "sqlite:"); ok {
		return &openError{msg: fmt.Sprintf("cannot open the SQLite file %s: %s", shownPath(path), sqliteReason(path, err)), err: err}
	}
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) || ce.Config == nil {
		return &openError{msg: "cannot connect to PostgreSQL: " + oneLine(err.Error()), err: err}
	}
	where := ce.Config.Host
	if !strings.HasPrefix(where, "/") { // a unix socket's directory has no port
		where = net.JoinHostPort(where, fmt.Sprint(ce.Config.Port))
	}
	return &openError{
		msg: fmt.Sprintf("cannot connect to PostgreSQL at %s (user %s, database %s): %s", where, ce.Config.User, ce.Config.Database, pgReason(ce)),
		err: err,
	}
}

// pgReason is the one reason a connection failed. pgx tries each address
// of the host (and with and without TLS) and joins their errors; what the
// server said wins, then what the network said, then the last attempt.
func pgReason(ce *pgconn.ConnectError) string {
	var pe *pgconn.PgError
	if errors.As(ce, &pe) {
		return fmt.Sprintf("the server said: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var dns *net.DNSError
	if errors.As(ce, &dns) {
		return fmt.Sprintf("cannot resolve %s: %s", dns.Name, dns.Err)
	}
	var sys *os.SyscallError
	if errors.As(ce, &sys) {
		return sys.Err.Error() // "connection refused"
	}
	var ne net.Error
	if errors.As(ce, &ne) && ne.Timeout() {
		return "no answer in time"
	}
	last := ce.Unwrap()
	if j, ok := last.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 0 {
		errs := j.Unwrap()
		last = errs[len(errs)-1]
		if inner := errors.Unwrap(last); inner != nil {
			last = inner // without the address pgx puts before it
		}
	}
	return oneLine(last.Error())
}

// sqliteReason says why SQLite could not open or create path: SQLite's
// own "unable to open database file" names neither the file nor why.
func sqliteReason(path string, err error) string {
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		abs = path
	}
	dir := filepath.Dir(abs)
	st, serr := os.Stat(dir)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return fmt.Sprintf("its directory %s does not exist", dir)
	case serr == nil && !st.IsDir():
		return fmt.Sprintf("%s is not a directory", dir)
	case serr != nil:
		return oneLine(serr.Error())
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return "it is a directory"
	}
	if f, err := os.OpenFile(abs, os.O_RDWR, 0); err == nil {
		f.Close()
	} else if errors.Is(err, fs.ErrPermission) {
		return "this user may not write it (permission denied)"
	}
	// May this user create files there? (The probe is removed at once.)
	probe, perr := os.CreateTemp(dir, ".renewbot-probe-*")
	if perr == nil {
		probe.Close()
		os.Remove(probe.Name())
		return oneLine(err.Error()) // SQLite's own words, then
	}
	if errors.Is(perr, fs.ErrPermission) {
		return fmt.Sprintf("this user may not write in %s (permission denied)", dir)
	}
	var pe *fs.PathError
	if errors.As(perr, &pe) {
		return fmt.Sprintf("cannot write in %s: %s", dir, pe.Err)
	}
	return oneLine(perr.Error())
}

// shownPath is path as given, and absolute when it is relative: the
// reader may not know the directory the bot started in.
func shownPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil && abs != path {
		return fmt.Sprintf("%s (%s)", path, abs)
	}
	return path
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
