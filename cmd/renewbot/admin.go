package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/renewbot/renewbot/bot"
)

// server is one HTTP listener of the bot.
type server struct {
	*http.Server
	ln net.Listener
}

func (s *server) serve() error { return s.Serve(s.ln) }

// defaultMaxConns is how many connections each listener serves at once;
// more wait in the kernel's backlog until one closes. With the header
// limit and timeouts below, a flood of slow clients then holds a few
// MiB, not a goroutine and a buffer per connection.
const defaultMaxConns = 512

// maxHeaderBytes bounds a request's headers (net/http adds 4 KiB):
// Slack's are well under 2 KiB. More is answered 431.
const maxHeaderBytes = 16 << 10

// newServer listens on addr (named by the variable that gave it), serving
// at most maxConns connections at once, with timeouts that keep a slow
// client from holding a connection for long.
func newServer(addr, variable string, h http.Handler, maxConns int) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	return &server{Server: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
	}, ln: limitListener(ln, maxConns)}, nil
}

// limitListener accepts at most n connections at once: Accept waits for
// one to close before it takes the next from the backlog.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots     chan struct{} // one per open connection
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed: // Shutdown: stop waiting for a slot
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn frees its slot when closed, once however often it is.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// listen opens the admin address (health, readiness, metrics) and, in
// HTTP mode, Slack's: two listeners, so exposing Slack's to the internet
// exposes nothing else. Socket Mode needs no listener facing Slack.
func (a *app) listen(c Config, maxConns int) ([]*server, error) {
	if maxConns <= 0 {
		maxConns = defaultMaxConns
	}
	admin := http.NewServeMux()
	bot.AdminRoutes(admin, a.store.Ping, a.metrics.Handler())
	as, err := newServer(c.AdminAddr, "RENEWBOT_ADMIN_ADDR", admin, maxConns)
	if err != nil {
		return nil, err
	}
	servers := []*server{as}
	slackAddr := "none (Socket Mode)"
	if c.SlackAppToken == "" {
		mux := http.NewServeMux()
		bot.Routes(mux, a.bot, c.SlackSigningSecret)
		ss, err := newServer(c.Addr, "RENEWBOT_ADDR", mux, maxConns)
		if err != nil {
			as.ln.Close()
			return nil, err
		}
		servers = append(servers, ss)
		slackAddr = ss.ln.Addr().String()
	}
	a.log.Info("renewbot listening", "addr", slackAddr, "admin_addr", as.ln.Addr().String(), "dry_run", c.DryRun, "ovh_endpoint", c.OVHEndpoint)
	return servers, nil
}

// countStates counts the stored requests by state every period for
// renewbot_requests, so that a scrape of /metrics reads no database.
func (a *app) countStates(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, every)
		if err := a.metrics.RefreshStates(cctx, a.store.CountByState); err != nil && ctx.Err() == nil {
			a.log.Warn("count requests by state", "error", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// healthcheck asks a running bot whether it is alive, on its admin
// address: the image has no curl, so Docker's HEALTHCHECK runs the binary
// itself.
func healthcheck(ctx context.Context, stdout io.Writer) error {
	addr := os.Getenv("RENEWBOT_ADMIN_ADDR")
	if addr == "" {
		addr = ":9090"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+localAddr(addr)+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: RENEWBOT_ADMIN_ADDR %q: %w", addr, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if why, ok := unreachable(err); ok {
		return fmt.Errorf("healthcheck: no renewbot answers at %s (RENEWBOT_ADMIN_ADDR): %s", localAddr(addr), why)
	}
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s", resp.Status)
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}

// localAddr is where this host reaches a listen address: ":9090" and
// "0.0.0.0:9090" are 127.0.0.1:9090, "[::]:9090" is [::1]:9090.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
