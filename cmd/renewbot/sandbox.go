package main

import (
	"net/http"
	"sync/atomic"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

// sandboxForgetEvery is how many calls the sandbox account remembers at
// most. The fake records every call for the tests that read them; the
// sandbox reads none, and a bot running for weeks (or flooded) must not
// keep them all.
const sandboxForgetEvery = 256

// forgetful serves the OVHcloud client with the sandbox account in the
// process, and makes it forget the calls it recorded every
// sandboxForgetEvery calls.
func forgetful(fake *ovhfake.Server) http.RoundTripper {
	return &forgetfulTransport{fake: fake, next: fake.Transport()}
}

type forgetfulTransport struct {
	fake  *ovhfake.Server
	next  http.RoundTripper
	calls atomic.Int64
}

func (t *forgetfulTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.calls.Add(1)%sandboxForgetEvery == 0 {
		t.fake.ResetCalls()
	}
	return t.next.RoundTrip(r)
}
