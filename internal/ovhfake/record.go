package ovhfake

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Call is one request the fake received.
type Call struct {
	Method  string
	Path    string // without BasePath, e.g. /me/order/123456789/pay
	Query   url.Values
	Body    []byte
	Header  http.Header
	Time    time.Time // on the fake's clock
	QueryID string    // the X-Ovh-QueryID it answered with
	// Status is the HTTP status answered; 0 while the call is in
	// progress or when the fault cut the connection.
	Status int
}

// Calls returns every call received since the last ResetCalls, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = copyCall(c)
	}
	return out
}

// CallsTo returns the calls matching a method ("*" for any) and a path
// pattern whose "*" segments match one segment each, e.g.
// CallsTo("POST", "/me/order/*/pay").
func (s *Server) CallsTo(method, pattern string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if routeMatch(method, pattern, c.Method, c.Path) {
			out = append(out, copyCall(c))
		}
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func copyCall(c Call) Call {
	c.Body = slices.Clone(c.Body)
	c.Query = url.Values(cloneValues(c.Query))
	c.Header = c.Header.Clone()
	return c
}

func cloneValues(v url.Values) map[string][]string {
	if v == nil {
		return nil
	}
	out := make(map[string][]string, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// routeMatch matches a method and path against a pattern: "*" as method
// matches any; in the path, "*" matches exactly one segment. The pattern
// may carry BasePath or not.
func routeMatch(pmethod, pattern, method, path string) bool {
	if pmethod != "*" && !strings.EqualFold(pmethod, method) {
		return false
	}
	pattern = strings.TrimPrefix(pattern, BasePath)
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// splitRoute reads "POST /me/order/*/pay" into method and pattern; a bare
// path means any method.
func splitRoute(route string) (method, pattern string) {
	route = strings.TrimSpace(route)
	if m, p, ok := strings.Cut(route, " "); ok {
		return strings.ToUpper(m), strings.TrimSpace(p)
	}
	return "*", route
}
