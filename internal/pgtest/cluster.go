package pgtest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// debianRoot holds one VERSION/bin directory per installed PostgreSQL on
// Debian and Ubuntu, which put no initdb or pg_ctl on PATH.
var debianRoot = "/usr/lib/postgresql"

type binaries struct{ initdb, pgCtl string }

// findBinaries looks for initdb and pg_ctl in the first directory of
// pathList (PATH's form) that has both, so that they are of one version,
// then in root/VERSION/bin, highest version first.
func findBinaries(pathList, root string) (binaries, bool) {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue // the current directory: not where servers are installed
		}
		b := binaries{filepath.Join(dir, "initdb"), filepath.Join(dir, "pg_ctl")}
		if executable(b.initdb) && executable(b.pgCtl) {
			return b, true
		}
	}
	var best binaries
	var bestVersion []int
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "bin"))
	for _, dir := range dirs {
		v, ok := parseVersion(filepath.Base(filepath.Dir(dir)))
		b := binaries{filepath.Join(dir, "initdb"), filepath.Join(dir, "pg_ctl")}
		if ok && executable(b.initdb) && executable(b.pgCtl) && (bestVersion == nil || newer(v, bestVersion)) {
			best, bestVersion = b, v
		}
	}
	return best, bestVersion != nil
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// parseVersion reads a directory name such as "15" or "9.6".
func parseVersion(s string) ([]int, bool) {
	var v []int
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

func newer(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

// cluster is a private PostgreSQL cluster in a temporary directory.
type cluster struct {
	dir    string
	url    string
	reaper *exec.Cmd
	// Closing it tells the reaper to stop the cluster and remove dir.
	reaperIn io.Closer
}

// conf makes the cluster private (TCP on 127.0.0.1 only, no unix socket)
// and fast: its data is thrown away.
const conf = `
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
`

// startCluster creates and starts a private cluster. A non-empty skip says
// why none can be started on this machine.
func startCluster(b binaries) (c *cluster, skip string, err error) {
	attr := &syscall.SysProcAttr{}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root, which initdb refuses, with no postgres user to run it as", nil
		}
		if uid, err = strconv.Atoi(u.Uid); err != nil {
			return nil, "", fmt.Errorf("user postgres: uid %q: %w", u.Uid, err)
		}
		if gid, err = strconv.Atoi(u.Gid); err != nil {
			return nil, "", fmt.Errorf("user postgres: gid %q: %w", u.Gid, err)
		}
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "renewbot-pgtest-")
	if err != nil {
		return nil, "", err
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, "", err
		}
	}
	data, logFile := filepath.Join(dir, "data"), filepath.Join(dir, "log")

	// The reaper stops the cluster and removes it when its stdin closes:
	// when Main closes it, and also when this process dies of a panic, a
	// timeout or a signal, which Main never sees. Its own session keeps it
	// out of the terminal's Ctrl-C.
	c = &cluster{dir: dir}
	c.reaper = exec.Command("sh", "-c", `read _; "$0" stop -D "$1" -m immediate >/dev/null 2>&1; rm -rf "$2" || :`, b.pgCtl, data, dir)
	c.reaper.Dir = dir
	c.reaper.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: attr.Credential}
	if c.reaperIn, err = c.reaper.StdinPipe(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	if err := c.reaper.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("start the reaper: %w", err)
	}
	fail := func(err error) (*cluster, string, error) {
		if rerr := c.remove(); rerr != nil {
			err = fmt.Errorf("%w; %w", err, rerr)
		}
		return nil, "", err
	}

	run := func(name string, args ...string) ([]byte, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir // postgres may not read the test's directory
		cmd.SysProcAttr = attr
		return cmd.CombinedOutput()
	}
	if out, err := run(b.initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return fail(fmt.Errorf("%s: %w\n%s", b.initdb, err, out))
	}
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fail(err)
	}
	// The free port may be taken before postgres binds it: try another.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		out, err := run(b.pgCtl, "start", "-w", "-t", "60", "-D", data, "-l", logFile, "-o", "-p "+strconv.Itoa(port))
		if err == nil {
			c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			return c, "", nil
		}
		log, _ := os.ReadFile(logFile)
		if attempt < 3 && bytes.Contains(log, []byte("could not bind")) {
			continue
		}
		return fail(fmt.Errorf("%s start: %w\n%s%s", b.pgCtl, err, out, log))
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// remove stops the cluster and deletes its directory.
func (c *cluster) remove() error {
	_ = c.reaperIn.Close()
	werr := c.reaper.Wait()
	// The reaper, running as postgres, may lack the right to remove it all.
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove the private cluster: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("stop the private cluster in %s: %w", c.dir, werr)
	}
	return nil
}
