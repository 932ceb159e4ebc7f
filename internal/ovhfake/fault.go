package ovhfake

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Fault is a misbehaviour injected on a route. Delay and Jitter apply
// first; then at most one of Hang, Reset, Malformed or Status decides the
// answer. A fault with only a delay lets the call be answered normally,
// just late.
type Fault struct {
	Delay  time.Duration // wait before answering
	Jitter time.Duration // plus a random wait in [0, Jitter)

	// Hang holds the call until the client gives up (or Close).
	Hang bool
	// Reset hijacks the connection and closes it without an answer.
	Reset bool
	// Malformed answers 200 with a body that is not JSON.
	Malformed bool
	// Status answers this HTTP status with OVHcloud's error JSON.
	Status  int
	Class   string // default from Status, e.g. Server::InternalServerError
	Message string // default from Status
	// RetryAfter sets the Retry-After header (whole seconds), e.g. with
	// Status 429.
	RetryAfter time.Duration

	// Processed carries the call out (a payment is taken, an order
	// created) before the fault answers in place of the real answer: the
	// client cannot tell it happened.
	Processed bool

	// Times is how many matching calls the fault hits before it is
	// spent; 0 means every call, until ClearFaults.
	Times int
}

type fault struct {
	method, pattern string
	Fault
	left int // remaining hits when Times > 0
}

// Inject adds a fault on route, written "METHOD /path/with/*/segments"
// (a bare path matches any method), e.g.
//
//	fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 500, Times: 1})
//	fake.Inject("GET /services/*", ovhfake.Fault{Status: 429, RetryAfter: time.Second, Times: 2})
//	fake.Inject("POST /service/*/renew", ovhfake.Fault{Hang: true})
//
// Faults are tried in the order they were injected; the first matching
// one that is not spent applies.
func (s *Server) Inject(route string, f Fault) {
	m, p := splitRoute(route)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: m, pattern: p, Fault: f, left: f.Times})
}

// ClearFaults removes every injected fault (not the global latency).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetLatency makes every call, /auth/time included, take at least d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// takeFault finds the fault for a call and spends one of its hits.
// s.mu must be held.
func (s *Server) takeFault(method, path string) *fault {
	for i, f := range s.faults {
		if !routeMatch(f.method, f.pattern, method, path) {
			continue
		}
		if f.Times > 0 {
			f.left--
			if f.left <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		c := *f
		return &c
	}
	return nil
}

// apply plays the fault; it reports whether it answered the call.
func (f *fault) apply(s *Server, w http.ResponseWriter, r *http.Request) bool {
	d := f.Delay
	if f.Jitter > 0 {
		d += rand.N(f.Jitter)
	}
	if !s.wait(r, d) {
		return true
	}
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return true
	case f.Reset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			// HTTP/2 cannot hijack: abort the stream instead.
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close()
		return true
	case f.Malformed:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"serviceId": 12345, "resource": {"name": "trunc`))
		return true
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
			if f.Status >= 500 {
				msg = "Internal server error"
			}
		}
		writeError(w, f.Status, f.Class, msg)
		return true
	}
	return false
}
