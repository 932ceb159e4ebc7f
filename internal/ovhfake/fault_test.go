package ovhfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestFaultStatusForNextCalls(t *testing.T) {
	s, _, base := sample(t)
	s.Inject("GET /services/*", Fault{Status: 503, Times: 2})
	for range 2 {
		wantError(t, call(t, base, "GET", "/services/10001", nil), 503, "Server::ServiceUnavailable", "Internal server error")
	}
	if r := call(t, base, "GET", "/services/10001", nil); r.status != 200 {
		t.Fatalf("third call = %d: the fault should be spent", r.status)
	}
	// Other routes are untouched.
	s.Inject("POST /me/order/*/pay", Fault{Status: 500, Class: "Server::InternalServerError", Message: "boom"})
	if r := call(t, base, "GET", "/services", nil); r.status != 200 {
		t.Fatalf("GET /services = %d", r.status)
	}
	for range 3 {
		wantError(t, call(t, base, "POST", "/me/order/1/pay", map[string]any{}), 500, "Server::InternalServerError", "boom")
	}
	s.ClearFaults()
	wantError(t, call(t, base, "POST", "/me/order/1/pay", map[string]any{"paymentMethod": map[string]any{"id": 42}}), 404, "Client::NotFound", "orderId = 1")
	if got := len(s.CallsTo("POST", "/me/order/*/pay")); got != 4 {
		t.Fatalf("recorded %d pay calls, want 4 (faulted calls are recorded too)", got)
	}
}

func TestFaultRetryAfter(t *testing.T) {
	s, _, base := sample(t)
	s.Inject("GET /services", Fault{Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 1})
	r := call(t, base, "GET", "/services", nil)
	wantError(t, r, 429, "Client::TooManyRequests", "Too Many Requests")
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2 (rounded up)", got)
	}
}

func TestFaultHangUntilClientGivesUp(t *testing.T) {
	s, _, base := sample(t)
	s.Inject("POST /service/*/renew", Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/service/10001/renew", nil)
	req.Header.Set("Authorization", "Bearer x")
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("answered after %v", d)
	}
	if len(s.Orders()) != 0 {
		t.Fatal("a hung call created an order")
	}
}

func TestFaultReset(t *testing.T) {
	s, _, base := sample(t)
	s.Inject("GET /services/10001", Fault{Reset: true, Times: 1})
	req, _ := http.NewRequest("GET", base+"/services/10001", nil)
	req.Header.Set("Authorization", "Bearer x")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("status %d, want a cut connection", resp.StatusCode)
	}
	if c := s.CallsTo("GET", "/services/*"); len(c) != 1 || c[0].Status != 0 {
		t.Fatalf("calls = %+v", c)
	}
}

func TestFaultMalformed(t *testing.T) {
	s, _, base := sample(t)
	s.Inject("GET /services/*", Fault{Malformed: true, Times: 1})
	r := call(t, base, "GET", "/services/10001", nil)
	var v any
	if r.status != 200 || json.Unmarshal(r.body, &v) == nil {
		t.Fatalf("malformed answer %d %q parsed", r.status, r.body)
	}
}

func TestFaultDelayAndLatency(t *testing.T) {
	s, _, base := sample(t)
	s.Inject("GET /services/*", Fault{Delay: 80 * time.Millisecond, Jitter: 20 * time.Millisecond, Times: 1})
	start := time.Now()
	if r := call(t, base, "GET", "/services/10001", nil); r.status != 200 {
		t.Fatalf("slow call = %d: a delay alone must still answer", r.status)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("slow call took %v", d)
	}
	s.SetLatency(60 * time.Millisecond)
	start = time.Now()
	callWith(t, base, "GET", "/auth/time", nil, nil)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
}

func TestCloseReleasesHungCalls(t *testing.T) {
	s := New()
	base := s.Start()
	s.Inject("GET /auth/time", Fault{Hang: true})
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/auth/time")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for len(s.Calls()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close blocked on a hung call")
	}
	<-errc
}

func TestConcurrentUse(t *testing.T) {
	s, clk, base := sample(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			id := newOrder(t, base)
			call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{"paymentMethod": map[string]any{"id": 42}})
			status(t, base, id)
			s.Calls()
			s.Orders()
			if i%4 == 0 {
				clk.Advance(time.Second)
				s.Inject("GET /nowhere", Fault{Status: 500, Times: 1})
			}
		})
	}
	wg.Wait()
	orders := s.Orders()
	if len(orders) != 16 {
		t.Fatalf("%d orders", len(orders))
	}
	for i, o := range orders {
		if o.ID != FirstOrderID+int64(i) || !o.Paid() {
			t.Fatalf("order %d = %+v", i, o)
		}
	}
}
