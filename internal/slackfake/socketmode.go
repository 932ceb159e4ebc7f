package slackfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Ack is one acknowledgement the app sent over Socket Mode.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's payload as sent (nil for a plain ack): for a
	// slash command, the immediate answer to the user.
	Payload json.RawMessage
	// Conn is the connection it came on (1 for the first).
	Conn int
	// Delay is how long after the envelope was sent the ack arrived (0
	// for an envelope the fake did not send).
	Delay time.Duration
}

// SocketMode is a fake of Slack's Socket Mode on a fake Slack server:
// apps.connections.open answers a one-time websocket URL on the same
// server, the websocket greets with hello, pings regularly, carries the
// envelopes a test sends and records the app's acks.
//
// Envelopes sent while no connection is open wait for the next one, as
// Slack holds them while the app reconnects. The newest connection gets
// them when there are several.
type SocketMode struct {
	s *Server

	mu       sync.Mutex
	conns    []*smConn // open connections, oldest first
	total    int       // connections accepted so far
	tickets  map[string]bool
	pending  [][]byte // envelopes waiting for a connection
	sent     map[string]time.Time
	bodies   map[string]envelope // by envelope id, for Redeliver
	acks     []Ack
	changed  chan struct{} // closed and replaced on every ack or connection
	refuse   string
	ping     time.Duration
	envelope int
	closed   bool
}

// envelope is what Send sent, to send it again.
type envelope struct {
	typ     string
	payload json.RawMessage
	accepts bool
	attempt int
}

// smConn is one websocket connection. Writes are serialised: gorilla's
// Conn allows one writer at a time.
type smConn struct {
	n    int
	ws   *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
}

func (c *smConn) write(msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, msg)
}

func (c *smConn) writePing() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
}

// socketModes remembers the SocketMode of each Server: its routes can be
// registered only once.
var socketModes sync.Map // *Server -> *SocketMode

// SocketMode enables the fake Socket Mode on s and returns it; later
// calls return the same one. Enable it before the app connects: until
// then apps.connections.open answers slacktest's default URL.
//
// It overrides slacktest's own apps.connections.open with a more
// specific pattern (POST), so the app keeps one API URL for the Web API
// and Socket Mode.
func (s *Server) SocketMode() *SocketMode {
	if sm, ok := socketModes.Load(s); ok {
		return sm.(*SocketMode)
	}
	sm := &SocketMode{s: s, tickets: map[string]bool{}, sent: map[string]time.Time{}, bodies: map[string]envelope{}, changed: make(chan struct{}), ping: time.Second}
	if prev, loaded := socketModes.LoadOrStore(s, sm); loaded {
		return prev.(*SocketMode)
	}
	s.Server.Handle("POST /apps.connections.open", sm.open)
	s.Server.Handle("GET /socketmode/link/", sm.serveWS)
	return sm
}

// Refuse makes apps.connections.open fail with Slack's error code (e.g.
// "invalid_auth"); "" accepts connections again.
func (sm *SocketMode) Refuse(code string) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.refuse = code
}

// SetPingInterval sets how often the fake pings each connection (default
// 1s); 0 stops pinging, so the client's dead-connection timer fires.
// It applies to new connections.
func (sm *SocketMode) SetPingInterval(d time.Duration) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.ping = d
}

// open answers apps.connections.open: the app-level token (xapp-) is
// required, as on Slack, where a bot token gets not_allowed_token_type.
func (sm *SocketMode) open(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	token, bearer := strings.CutPrefix(auth, "Bearer ")
	sm.s.mu.Lock()
	sm.s.calls = append(sm.s.calls, Call{Method: "apps.connections.open", Form: url.Values{}})
	sm.s.mu.Unlock()

	sm.mu.Lock()
	code := sm.refuse
	switch {
	case !bearer || token == "":
		code = "not_authed"
	case !strings.HasPrefix(token, "xapp-"):
		code = "not_allowed_token_type"
	}
	ticket := ""
	if code == "" {
		ticket = newID()
		sm.tickets[ticket] = true
	}
	sm.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if code != "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code})
		return
	}
	u := "ws://" + sm.s.ServerAddr + "/socketmode/link/?ticket=" + ticket + "&app_id=" + AppID
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": u})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveWS accepts a connection with a ticket from apps.connections.open
// (each works once), says hello, delivers waiting envelopes and reads
// acks until the connection ends.
func (sm *SocketMode) serveWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	sm.mu.Lock()
	valid := sm.tickets[ticket] && !sm.closed
	delete(sm.tickets, ticket)
	sm.mu.Unlock()
	if !valid {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &smConn{ws: ws, done: make(chan struct{})}
	defer func() {
		sm.remove(c)
		_ = ws.Close()
	}()

	sm.mu.Lock()
	sm.total++
	c.n = sm.total
	sm.conns = append(sm.conns, c)
	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": len(sm.conns),
		"debug_info":      map[string]any{"host": "slackfake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	})
	// hello goes first, then what waited, under the lock so that a
	// concurrent Send can't pass them.
	err = c.write(hello)
	for err == nil && len(sm.pending) > 0 {
		if err = c.write(sm.pending[0]); err == nil {
			sm.pending = sm.pending[1:]
		}
	}
	ping := sm.ping
	sm.notify()
	sm.mu.Unlock()
	if err != nil {
		return
	}

	if ping > 0 {
		go func() {
			t := time.NewTicker(ping)
			defer t.Stop()
			for {
				select {
				case <-c.done:
					return
				case <-t.C:
					if c.writePing() != nil {
						return
					}
				}
			}
		}()
	}

	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var a struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(msg, &a) != nil || a.EnvelopeID == "" {
			continue // Slack ignores what is not an ack
		}
		sm.mu.Lock()
		ack := Ack{EnvelopeID: a.EnvelopeID, Payload: a.Payload, Conn: c.n}
		if at, ok := sm.sent[a.EnvelopeID]; ok {
			ack.Delay = time.Since(at)
		}
		if string(ack.Payload) == "null" {
			ack.Payload = nil
		}
		sm.acks = append(sm.acks, ack)
		sm.notify()
		sm.mu.Unlock()
	}
}

func (sm *SocketMode) remove(c *smConn) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for i, o := range sm.conns {
		if o == c {
			sm.conns = append(sm.conns[:i:i], sm.conns[i+1:]...)
			close(c.done)
			break
		}
	}
	sm.notify()
}

// notify wakes the waiters. sm.mu must be held.
func (sm *SocketMode) notify() {
	close(sm.changed)
	sm.changed = make(chan struct{})
}

// Send sends an envelope of type typ ("slash_commands", "interactive",
// "events_api") carrying payload, and returns its envelope id.
// acceptsResponse is Slack's accepts_response_payload: whether the ack
// may carry an answer.
func (sm *SocketMode) Send(typ string, payload any, acceptsResponse bool) string {
	raw, ok := payload.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(payload); err != nil {
			panic(fmt.Sprintf("slackfake: payload: %v", err))
		}
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.envelope++
	id := fmt.Sprintf("%08x-fake-%04d-%s", sm.envelope, sm.envelope, newID()[:12])
	sm.deliver(id, envelope{typ: typ, payload: raw, accepts: acceptsResponse})
	return id
}

// Redeliver sends the envelope id again, as Slack does when it did not
// get the ack in time: same envelope id, retry_attempt one more,
// retry_reason "timeout".
func (sm *SocketMode) Redeliver(id string) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	e, ok := sm.bodies[id]
	if !ok {
		panic("slackfake: Redeliver of an envelope never sent: " + id)
	}
	e.attempt++
	sm.deliver(id, e)
}

// deliver writes an envelope on the newest connection, or keeps it for
// the next one. sm.mu must be held.
func (sm *SocketMode) deliver(id string, e envelope) {
	reason := ""
	if e.attempt > 0 {
		reason = "timeout"
	}
	msg, _ := json.Marshal(map[string]any{
		"envelope_id":              id,
		"type":                     e.typ,
		"payload":                  e.payload,
		"accepts_response_payload": e.accepts,
		"retry_attempt":            e.attempt,
		"retry_reason":             reason,
	})
	sm.bodies[id] = e
	sm.sent[id] = time.Now()
	if n := len(sm.conns); n > 0 && sm.conns[n-1].write(msg) == nil {
		return
	}
	sm.pending = append(sm.pending, msg)
}

// SendSlashCommand sends a slash command, given as the form Slack would
// post over HTTP (see Command): over Socket Mode the same fields come as
// a JSON object of strings. It returns the envelope id.
func (sm *SocketMode) SendSlashCommand(form url.Values) string {
	p := map[string]string{"is_enterprise_install": "false"}
	for k := range form {
		p[k] = form.Get(k)
	}
	return sm.Send("slash_commands", p, true)
}

// SendInteractive sends an interaction payload (the JSON that Click,
// Select and ViewSubmission put in their form's "payload") and returns
// its envelope id. Like Slack, it accepts a response payload only for
// modal submissions and suggestions.
func (sm *SocketMode) SendInteractive(payload []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		panic(fmt.Sprintf("slackfake: interactive payload: %v", err))
	}
	accepts := p.Type == "view_submission" || p.Type == "block_suggestion"
	return sm.Send("interactive", json.RawMessage(payload), accepts)
}

// Disconnect sends Slack's disconnect message (reason e.g.
// "refresh_requested", "warning") on every open connection: the app
// should open a new one.
func (sm *SocketMode) Disconnect(reason string) {
	msg, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "slackfake"}})
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for _, c := range sm.conns {
		_ = c.write(msg)
	}
}

// Drop cuts every open connection without a close handshake, like a
// network failure, and returns how many it cut.
func (sm *SocketMode) Drop() int {
	sm.mu.Lock()
	conns := append([]*smConn(nil), sm.conns...)
	sm.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.NetConn().Close()
	}
	return len(conns)
}

// Close cuts every connection and refuses new ones.
func (sm *SocketMode) Close() {
	sm.mu.Lock()
	sm.closed = true
	sm.mu.Unlock()
	sm.Drop()
}

// Connections returns how many connections were accepted so far,
// reconnections included.
func (sm *SocketMode) Connections() int {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.total
}

// Open returns how many connections are open now.
func (sm *SocketMode) Open() int {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return len(sm.conns)
}

// Acks returns every ack received, oldest first.
func (sm *SocketMode) Acks() []Ack {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return append([]Ack(nil), sm.acks...)
}

// AcksOf returns the acks of one envelope: exactly one is expected.
func (sm *SocketMode) AcksOf(envelopeID string) []Ack {
	var out []Ack
	for _, a := range sm.Acks() {
		if a.EnvelopeID == envelopeID {
			out = append(out, a)
		}
	}
	return out
}

// ErrTimeout is returned by the Wait methods when time runs out.
var ErrTimeout = errors.New("slackfake: timed out")

// WaitAck waits up to timeout for the ack of envelopeID.
func (sm *SocketMode) WaitAck(envelopeID string, timeout time.Duration) (Ack, error) {
	var ack Ack
	err := sm.wait(timeout, func() bool {
		for _, a := range sm.acks {
			if a.EnvelopeID == envelopeID {
				ack = a
				return true
			}
		}
		return false
	})
	if err != nil {
		return Ack{}, fmt.Errorf("no ack of envelope %s: %w", envelopeID, err)
	}
	return ack, nil
}

// WaitConnections waits up to timeout until n connections were accepted
// in all and one is open.
func (sm *SocketMode) WaitConnections(n int, timeout time.Duration) error {
	err := sm.wait(timeout, func() bool { return sm.total >= n && len(sm.conns) > 0 })
	if err != nil {
		return fmt.Errorf("waiting for connection %d: %w", n, err)
	}
	return nil
}

// wait runs cond under sm.mu on every change until it holds.
func (sm *SocketMode) wait(timeout time.Duration, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		sm.mu.Lock()
		ok, changed := cond(), sm.changed
		sm.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return ErrTimeout
		}
	}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
