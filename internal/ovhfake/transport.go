package ovhfake

import (
	"net/http"
	"net/http/httptest"
)

// SandboxURL is the base URL to give the OVHcloud client together with
// Transport: no socket is opened, the calls are served in the process.
const SandboxURL = "http://sandbox.ovh.invalid" + BasePath

// Transport serves the client's requests with the fake itself, in the same
// process, so the real adapter (go-ovh signing, JSON decoding, retries)
// runs unchanged against the sandbox. Faults that cut connections need a
// real server (Start).
func (s *Server) Transport() http.RoundTripper { return transport{s} }

type transport struct{ s *Server }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.s.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
