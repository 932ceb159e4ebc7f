package slackfake

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// matches reports whether a call is one the fault is limited to: its raw
// body or one of its form values contains Match.
func (f *Fault) matches(form url.Values, body string) bool {
	if f.Match == "" || strings.Contains(body, f.Match) {
		return true
	}
	for _, vs := range form {
		for _, v := range vs {
			if strings.Contains(v, f.Match) {
				return true
			}
		}
	}
	return false
}

// slow plays a fault's Delay and Hang. It reports whether the call should
// still be answered: false when the client left, the server closed, or the
// fault hangs.
func (s *Server) slow(r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		}
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return false
	}
	return true
}

// Slow makes method answer late (after d) but normally, for times calls
// (0: all).
func (s *Server) Slow(method string, d time.Duration, times int) {
	s.Fail(method, Fault{Delay: d, Times: times})
}

// Hang makes method hold its calls whose body contains match ("" for
// every call) until the client gives up or Close.
func (s *Server) Hang(method, match string) {
	s.Fail(method, Fault{Hang: true, Match: match})
}
