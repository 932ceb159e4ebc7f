package ovhcloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovh/go-ovh/ovh"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

var t0 = time.Date(2026, 11, 26, 14, 49, 6, 0, time.UTC)

type observed struct {
	method, route string
	status        int
}

type env struct {
	fake *ovhfake.Server
	clk  *ovhfake.Clock
	c    *Client
	mu   sync.Mutex
	seen []observed
}

func (e *env) observed() []observed {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]observed(nil), e.seen...)
}

// setup starts the sample account with signature checking on and returns
// a client signed with the matching keys, fast backoff, and a recorder.
func setup(t *testing.T, change ...func(*Config)) *env {
	t.Helper()
	e := &env{clk: ovhfake.NewClock(t0), fake: ovhfake.SampleAccount(t0)}
	e.fake.Now = e.clk.Now
	e.fake.Auth = ovhfake.Auth{ApplicationKey: "ak", ApplicationSecret: "as", ConsumerKey: "ck", AccessToken: "tok"}
	base := e.fake.Start()
	t.Cleanup(e.fake.Close)
	cfg := Config{
		Endpoint: base, ApplicationKey: "ak", ApplicationSecret: "as", ConsumerKey: "ck",
		Timeout: 2 * time.Second, Backoff: time.Millisecond, MaxWait: 20 * time.Millisecond,
		Observe: func(method, route string, status int, _ time.Duration) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.seen = append(e.seen, observed{method, route, status})
		},
	}
	for _, f := range change {
		f(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

func (e *env) count(method, pattern string) int { return len(e.fake.CallsTo(method, pattern)) }

func wantAPIError(t *testing.T, err error, status int, msgPart string) *renew.APIError {
	t.Helper()
	var api *renew.APIError
	if !errors.As(err, &api) {
		t.Fatalf("err = %v (%T), want *renew.APIError", err, err)
	}
	if api.Status != status || !strings.Contains(api.Message, msgPart) || api.QueryID == "" || api.Class == "" {
		t.Fatalf("APIError = %+v, want %d with %q, a class and a query id", api, status, msgPart)
	}
	return api
}

func TestServiceIDs(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ids, err := e.c.ServiceIDs(ctx, "vps-1.example.net")
	if err != nil || len(ids) != 1 || ids[0] != ovhfake.WebFrontID {
		t.Fatalf("ServiceIDs = %v, %v", ids, err)
	}
	all, err := e.c.ServiceIDs(ctx, "")
	if err != nil || len(all) != 10 {
		t.Fatalf("all ServiceIDs = %v, %v", all, err)
	}
	if ids, err := e.c.ServiceIDs(ctx, "<!channel> & <b>"); err != nil || len(ids) != 0 {
		t.Fatalf("ServiceIDs(odd name) = %v, %v", ids, err)
	}
	calls := e.fake.CallsTo("GET", "/services")
	if len(calls) != 3 || calls[0].Query.Get("resourceName") != "vps-1.example.net" ||
		calls[1].Query.Has("resourceName") || calls[2].Query.Get("resourceName") != "<!channel> & <b>" {
		t.Fatalf("queries = %v / %v / %v", calls[0].Query, calls[1].Query, calls[2].Query)
	}
	// Exactly one /auth/time, before the first signed call.
	if got := e.fake.Calls()[0].Path; got != "/auth/time" || e.count("GET", "/auth/time") != 1 {
		t.Fatalf("first call %s, %d time calls", got, e.count("GET", "/auth/time"))
	}
}

func TestService(t *testing.T) {
	e := setup(t)
	svc, err := e.c.Service(context.Background(), ovhfake.WebFrontID)
	if err != nil {
		t.Fatal(err)
	}
	want := renew.Service{
		ID: 10001, Name: "vps-1.example.net", DisplayName: "web-front", Product: "VPS Value 1-2-40",
		State: "active", Route: "/vps/{serviceName}", RenewMode: "manual", RenewPeriod: "P1M", Billing: "active",
	}
	exp := svc.Expiration
	svc.Expiration = time.Time{}
	if svc != want {
		t.Fatalf("Service = %+v\nwant %+v", svc, want)
	}
	if exp.Format(time.RFC3339) != "2026-12-20T00:00:00+01:00" || renew.DaysBetween(t0, exp) != 24 {
		t.Fatalf("expiration %v, %d days", exp, renew.DaysBetween(t0, exp))
	}
	ovhfake.AddEscapeService(e.fake, t0.AddDate(0, 0, 30))
	esc, err := e.c.Service(context.Background(), ovhfake.EscapeID)
	if err != nil || esc.DisplayName != "<!channel> & <b>" {
		t.Fatalf("escape service %q, %v", esc.DisplayName, err)
	}
}

func TestNotFoundCarriesQueryID(t *testing.T) {
	e := setup(t)
	_, err := e.c.Service(context.Background(), 999)
	if !errors.Is(err, renew.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	api := wantAPIError(t, err, 404, "This service does not exist")
	calls := e.fake.CallsTo("GET", "/services/999")
	if len(calls) != 1 || api.QueryID != calls[0].QueryID || api.Class != "Client::NotFound" {
		t.Fatalf("APIError %+v, calls %+v: a 404 must not be retried and must carry the call's query id", api, calls)
	}
}

func TestStrategies(t *testing.T) {
	e := setup(t)
	ss, err := e.c.Strategies(context.Background(), ovhfake.DomainID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("%d strategies: %+v", len(ss), ss)
	}
	two := ss[1]
	if two.Period != (renew.Period{Months: 12}) || fmt.Sprint(two.Services) != "[67890 12345]" ||
		two.Price != (renew.Money{Ucents: 4787000000, Currency: "EUR", Text: "47.87 €"}) ||
		len(two.Details) != 2 || two.Details[0] != (renew.ServiceDetail{ID: 67890, Name: "www.example.com", Type: "Hosting Perso 2014"}) {
		t.Fatalf("two-service strategy = %+v", two)
	}
	if ss[2].Period != (renew.Period{Months: 24}) || ss[2].Price.Ucents != 2398000000 {
		t.Fatalf("P2Y strategy = %+v", ss[2])
	}
	many, err := e.c.Strategies(context.Background(), ovhfake.ManyID)
	if err != nil || len(many) != 30 {
		t.Fatalf("%d strategies, %v", len(many), err)
	}
	if c := e.fake.CallsTo("GET", "/service/*/renew"); c[0].Query.Get("includeOptions") != "false" {
		t.Fatalf("query = %v", c[0].Query)
	}
}

func TestCreateOrder(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	in := renew.OrderInput{Period: renew.Period{Months: 12}, Services: []int64{67890, 12345}}
	o, err := e.c.CreateOrder(ctx, ovhfake.DomainID, in)
	if err != nil {
		t.Fatal(err)
	}
	calls := e.fake.CallsTo("POST", "/service/12345/renew")
	if len(calls) != 1 || string(calls[0].Body) != `{"dryRun":false,"duration":"P1Y","services":[67890,12345]}` {
		t.Fatalf("renew calls = %+v", calls)
	}
	if o.ID != ovhfake.FirstOrderID || !o.Date.Equal(t0) || !o.Expiration.Equal(t0.Add(24*time.Hour)) ||
		o.PriceWithoutTax != (renew.Money{Ucents: 4787000000, Currency: "EUR", Text: "47.87 €"}) ||
		o.Tax.Ucents != 957000000 || o.PriceWithTax.Ucents != 5744000000 {
		t.Fatalf("order = %+v", o)
	}
	stored, _ := e.fake.Order(o.ID)
	if s := fmt.Sprintf("%+v %#v", o, o); strings.Contains(s, stored.Password) || strings.Contains(s, "displayOrder") {
		t.Fatalf("the order keeps its password or url: %s", s)
	}

	in.DryRun = true
	dry, err := e.c.CreateOrder(ctx, ovhfake.DomainID, in)
	if err != nil || dry.ID != 0 || dry.PriceWithTax.Ucents != 5744000000 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if c := e.fake.CallsTo("POST", "/service/*/renew"); string(c[1].Body) != `{"dryRun":true,"duration":"P1Y","services":[67890,12345]}` {
		t.Fatalf("dry run body %s", c[1].Body)
	}
	if len(e.fake.Orders()) != 1 {
		t.Fatal("the dry run created an order")
	}

	_, err = e.c.CreateOrder(ctx, ovhfake.DomainID, renew.OrderInput{Period: renew.Period{Months: 36}, Services: []int64{12345}})
	wantAPIError(t, err, 400, "P3Y")
	if _, err := e.c.CreateOrder(ctx, ovhfake.DomainID, renew.OrderInput{Services: []int64{12345}}); err == nil {
		t.Fatal("an order without a period was sent")
	}
}

func TestPayments(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	id, err := e.c.DefaultPaymentMethod(ctx)
	if err != nil || id != ovhfake.CardID {
		t.Fatalf("DefaultPaymentMethod = %d, %v", id, err)
	}
	if c := e.fake.CallsTo("GET", "/me/payment/method"); c[0].Query.Get("default") != "true" {
		t.Fatalf("query = %v", c[0].Query)
	}
	o, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := e.c.OrderStatus(ctx, o.ID); err != nil || st != renew.OrderNotPaid {
		t.Fatalf("status = %q, %v", st, err)
	}
	wantAPIError(t, e.c.PayOrder(ctx, o.ID, ovhfake.BankID), 403, "This order can't be paid with 'bankAccount'")
	if err := e.c.PayOrder(ctx, o.ID, id); err != nil {
		t.Fatal(err)
	}
	pays := e.fake.CallsTo("POST", "/me/order/*/pay")
	if len(pays) != 2 || string(pays[1].Body) != `{"paymentMethod":{"id":42}}` {
		t.Fatalf("pay calls = %+v", pays)
	}
	err = e.c.PayOrder(ctx, o.ID, id)
	if wantAPIError(t, err, 403, "already paid"); errors.Is(err, renew.ErrNotFound) {
		t.Fatal("a 403 is not a not-found")
	}
	var got []renew.OrderStatus
	for range 3 {
		st, err := e.c.OrderStatus(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st)
	}
	if fmt.Sprint(got) != "[checking delivering delivered]" {
		t.Fatalf("statuses = %v", got)
	}

	// payWithRegisteredPaymentMean: bodies and OVHcloud's refusals.
	o2, _ := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	wantAPIError(t, e.c.PayWithMean(ctx, o2.ID, "paypal", 42), 403, "This order can't be paid with paypal")
	wantAPIError(t, e.c.PayWithMean(ctx, o2.ID, "SEPA_DIRECT_DEBIT", 0), 404, "paymentMean not found")
	if err := e.c.PayWithMean(ctx, o2.ID, "creditCard", ovhfake.CardMeanID); err != nil {
		t.Fatal(err)
	}
	o3, _ := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err := e.c.PayWithMean(ctx, o3.ID, "ovhAccount", 0); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, c := range e.fake.CallsTo("POST", "/me/order/*/payWithRegisteredPaymentMean") {
		bodies = append(bodies, string(c.Body))
	}
	want := `{"paymentMean":"paypal","paymentMeanId":42}|{"paymentMean":"SEPA_DIRECT_DEBIT"}|{"paymentMean":"creditCard","paymentMeanId":5551042}|{"paymentMean":"ovhAccount"}`
	if strings.Join(bodies, "|") != want {
		t.Fatalf("bodies:\n%s\nwant:\n%s", strings.Join(bodies, "|"), want)
	}

	e.fake.RemovePaymentMethod(ovhfake.CardID)
	if _, err := e.c.DefaultPaymentMethod(ctx); !errors.Is(err, renew.ErrNotFound) {
		t.Fatalf("no default method: err = %v", err)
	}
}

func TestCredentialAndPaymentMethod(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	cr, err := e.c.CurrentCredential(ctx)
	if err != nil || cr.ID != "987654" || cr.ApplicationID != "123456" || cr.Status != "validated" ||
		len(cr.Rules) != 9 || cr.Rules[3] != (Rule{"POST", "/service/*/renew"}) || !cr.Expiration.IsZero() {
		t.Fatalf("credential = %+v, %v", cr, err)
	}
	pm, err := e.c.PaymentMethod(ctx, ovhfake.CardID)
	if err != nil || pm.ID != 42 || pm.MeanID != ovhfake.CardMeanID || pm.Type != "CREDIT_CARD" || !pm.Default || pm.Status != "VALID" || pm.Expiration.Year() != 2028 {
		t.Fatalf("payment method = %+v, %v", pm, err)
	}
	// A credential without the rule gets OVHcloud's refusal.
	e.fake.SetCredential(ovhfake.Credential{ID: 1, Status: "validated", Rules: []ovhfake.Rule{{Method: "GET", Path: "/services*"}}})
	wantLoginError(t, e.c.PayOrder(ctx, 1, 42), 403, "NOT_GRANTED_CALL", renew.ErrNotGranted)
}

func TestGetRetried(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.fake.Inject("GET /services/*", ovhfake.Fault{Status: 500, Times: 2})
	if _, err := e.c.Service(ctx, ovhfake.WebFrontID); err != nil {
		t.Fatalf("after two 500s: %v", err)
	}
	if n := e.count("GET", "/services/*"); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}

	// 429 with Retry-After: honoured but capped by MaxWait (20ms here).
	e.fake.ResetCalls()
	e.fake.Inject("GET /service/*/renew", ovhfake.Fault{Status: 429, RetryAfter: time.Hour, Times: 1})
	start := time.Now()
	if _, err := e.c.Strategies(ctx, ovhfake.WebFrontID); err != nil {
		t.Fatal(err)
	}
	// It waited (at least MaxWait), and not the hour asked for: that would
	// outlast the test.
	if n, d := e.count("GET", "/service/*/renew"), time.Since(start); n != 2 || d < 20*time.Millisecond || d > time.Minute {
		t.Fatalf("%d calls in %v", n, d)
	}

	// Attempts are bounded: 4, then OVHcloud's error.
	e.fake.ResetCalls()
	e.fake.Inject("GET /me/order/*/status", ovhfake.Fault{Status: 503, Message: "maintenance"})
	_, err := e.c.OrderStatus(ctx, 1)
	wantAPIError(t, err, 503, "maintenance")
	if n := e.count("GET", "/me/order/*/status"); n != 4 {
		t.Fatalf("%d calls, want 4", n)
	}

	// A cut connection is retried too (by net/http's transport or here).
	e.fake.ResetCalls()
	e.fake.Inject("GET /services", ovhfake.Fault{Reset: true, Times: 1})
	if _, err := e.c.ServiceIDs(ctx, ""); err != nil || e.count("GET", "/services") != 2 {
		t.Fatalf("after a reset: %v, %d calls", err, e.count("GET", "/services"))
	}

	// A 4xx is not.
	e.fake.ResetCalls()
	e.fake.Inject("GET /me/payment/method", ovhfake.Fault{Status: 403, Message: "nope"})
	if _, err := e.c.DefaultPaymentMethod(ctx); e.count("GET", "/me/payment/method") != 1 {
		t.Fatalf("403 retried: %v", err)
	}

	// Each attempt is observed, with the route as a pattern.
	var routes []string
	for _, o := range e.observed() {
		routes = append(routes, fmt.Sprintf("%s %s %d", o.method, o.route, o.status))
	}
	got := strings.Join(routes, "\n")
	for _, want := range []string{"GET /auth/time 200", "GET /services/{id} 500", "GET /services/{id} 200", "GET /service/{id}/renew 429", "GET /me/order/{id}/status 503", "GET /me/payment/method 403"} {
		if !strings.Contains(got, want) {
			t.Errorf("observed:\n%s\nlacks %q", got, want)
		}
	}
	if strings.Contains(got, "10001") {
		t.Errorf("observed a raw path:\n%s", got)
	}
}

func TestRetryBudgetAndCancel(t *testing.T) {
	e := setup(t, func(c *Config) {
		c.Backoff, c.MaxWait, c.RetryBudget = 50*time.Millisecond, 50*time.Millisecond, 60*time.Millisecond
	})
	ctx := context.Background()
	if _, err := e.c.ServiceIDs(ctx, ""); err != nil { // sync the time first
		t.Fatal(err)
	}
	e.fake.Inject("GET /services/*", ovhfake.Fault{Status: 500})
	_, err := e.c.Service(ctx, 1)
	wantAPIError(t, err, 500, "")
	if n := e.count("GET", "/services/*"); n < 1 || n > 3 {
		t.Fatalf("%d attempts within a 60ms budget of 25-50ms waits", n)
	}

	e.fake.ResetCalls()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.c.Service(cctx, 1); !errors.Is(err, context.Canceled) || e.count("GET", "/services/*") != 0 {
		t.Fatalf("cancelled: %v, %d calls", err, e.count("GET", "/services/*"))
	}
}

func TestPostNeverRetried(t *testing.T) {
	e := setup(t, func(c *Config) { c.Timeout = 150 * time.Millisecond })
	ctx := context.Background()
	in := renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}}

	e.fake.Inject("POST /service/*/renew", ovhfake.Fault{Status: 500, Times: 1})
	_, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, in)
	wantAPIError(t, err, 500, "")
	if n := e.count("POST", "/service/*/renew"); n != 1 {
		t.Fatalf("renew sent %d times", n)
	}

	o, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, in)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Hang: true, Times: 1})
	start := time.Now()
	err = e.c.PayOrder(ctx, o.ID, 42)
	var api *renew.APIError
	if err == nil || errors.As(err, &api) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, renew.ErrUnavailable) {
		t.Fatalf("hung pay: err = %v; want a timeout that is not an APIError nor ErrUnavailable", err)
	}
	// The per-call timeout ended it (context.DeadlineExceeded above), not
	// an early error.
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("timed out after %v, want the per-call timeout", d)
	}
	if n := e.count("POST", "/me/order/*/pay"); n != 1 {
		t.Fatalf("pay sent %d times", n)
	}

	e.fake.Inject("POST /me/order/*/payWithRegisteredPaymentMean", ovhfake.Fault{Reset: true, Times: 1})
	if err := e.c.PayWithMean(ctx, o.ID, "ovhAccount", 0); err == nil || errors.As(err, &api) {
		t.Fatalf("cut pay: err = %v", err)
	}
	if n := e.count("POST", "/me/order/*/payWithRegisteredPaymentMean"); n != 1 {
		t.Fatalf("payWithRegisteredPaymentMean sent %d times", n)
	}
	if got, _ := e.fake.Order(o.ID); got.Paid() {
		t.Fatal("faulted calls paid the order")
	}
}

func TestTimeoutAndMalformedGet(t *testing.T) {
	e := setup(t, func(c *Config) { c.Timeout = 100 * time.Millisecond })
	ctx := context.Background()
	e.fake.Inject("GET /services/*", ovhfake.Fault{Hang: true, Times: 1})
	if _, err := e.c.Service(ctx, ovhfake.WebFrontID); err != nil || e.count("GET", "/services/*") != 2 {
		t.Fatalf("after a timeout: %v, %d calls", err, e.count("GET", "/services/*"))
	}
	e.fake.Inject("GET /services/*", ovhfake.Fault{Hang: true})
	_, err := e.c.Service(ctx, ovhfake.WebFrontID)
	if !errors.Is(err, renew.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("always hanging: err = %v, want ErrUnavailable and a deadline", err)
	}
	e.fake.ClearFaults()
	e.fake.ResetCalls()
	e.fake.Inject("GET /services/*", ovhfake.Fault{Malformed: true, Times: 1})
	if _, err := e.c.Service(ctx, ovhfake.WebFrontID); err != nil || e.count("GET", "/services/*") != 2 {
		t.Fatalf("malformed once: err = %v after %d calls, want a retried success", err, e.count("GET", "/services/*"))
	}
	e.fake.Inject("GET /services/*", ovhfake.Fault{Malformed: true})
	if _, err := e.c.Service(ctx, ovhfake.WebFrontID); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("always malformed: err = %v", err)
	}
}

func TestAccessToken(t *testing.T) {
	e := setup(t, func(c *Config) {
		c.ApplicationKey, c.ApplicationSecret, c.ConsumerKey, c.AccessToken = "", "", "", "tok"
	})
	if _, err := e.c.Service(context.Background(), ovhfake.WebFrontID); err != nil {
		t.Fatal(err)
	}
	calls := e.fake.Calls()
	if len(calls) != 1 || calls[0].Header.Get("Authorization") != "Bearer tok" || calls[0].Header.Get("X-Ovh-Signature") != "" {
		t.Fatalf("calls = %+v", calls)
	}
	bad := setup(t, func(c *Config) {
		c.ApplicationKey, c.ApplicationSecret, c.ConsumerKey, c.AccessToken = "", "", "", "wrong"
	})
	_, err := bad.c.Service(context.Background(), ovhfake.WebFrontID)
	wantLoginError(t, err, 401, "INVALID_CREDENTIAL", renew.ErrCredential)
}

// wantLoginError checks a refusal of OVHcloud's login layer reached the
// domain with its errorCode, and is the kind of refusal want says.
func wantLoginError(t *testing.T, err error, status int, code string, want error) *renew.APIError {
	t.Helper()
	var api *renew.APIError
	if !errors.As(err, &api) {
		t.Fatalf("err = %v (%T), want *renew.APIError", err, err)
	}
	if api.Status != status || api.Code != code || api.Class != "" || api.Message == "" || api.QueryID == "" {
		t.Fatalf("APIError = %+v, want %d %s with a message and a query id", api, status, code)
	}
	for _, kind := range []error{renew.ErrCredential, renew.ErrNotGranted, renew.ErrNotFound} {
		if errors.Is(err, kind) != (kind == want) {
			t.Fatalf("errors.Is(%v, %v) = %v", err, kind, !(kind == want))
		}
	}
	return api
}

func TestBadSecretRefused(t *testing.T) {
	e := setup(t, func(c *Config) { c.ApplicationSecret = "wrong" })
	_, err := e.c.Service(context.Background(), ovhfake.WebFrontID)
	wantLoginError(t, err, 400, "INVALID_SIGNATURE", renew.ErrCredential)
}

// The login layer's refusals keep their errorCode, and a call that is not
// granted names the access rule to add.
func TestLoginLayerRefusals(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	e.fake.SetCredential(ovhfake.Credential{ID: 1, ApplicationID: 2, Status: "expired", Rules: ovhfake.NeededRules()})
	_, err := e.c.CurrentCredential(ctx)
	wantLoginError(t, err, 403, "INVALID_CREDENTIAL", renew.ErrCredential)

	e.fake.SetCredential(ovhfake.Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: []ovhfake.Rule{{Method: "GET", Path: "/*"}, {Method: "POST", Path: "/service/*/renew"}}})
	o, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err != nil {
		t.Fatal(err)
	}
	err = e.c.PayOrder(ctx, o.ID, ovhfake.CardID)
	api := wantLoginError(t, err, 403, "NOT_GRANTED_CALL", renew.ErrNotGranted)
	if api.Grant != "POST /me/order/*/pay" {
		t.Fatalf("Grant = %q, want the README's rule POST /me/order/*/pay", api.Grant)
	}
	err = e.c.PayWithMean(ctx, o.ID, "ovhAccount", 0)
	if api := wantLoginError(t, err, 403, "NOT_GRANTED_CALL", renew.ErrNotGranted); api.Grant != "POST /me/order/*/payWithRegisteredPaymentMean" {
		t.Fatalf("Grant = %q", api.Grant)
	}
	if st, _ := e.fake.OrderStatus(o.ID); st != "notPaid" {
		t.Fatalf("a refused pay call changed the order to %q", st)
	}

	bad := setup(t, func(c *Config) { c.ApplicationKey = "unknown" })
	_, err = bad.c.ServiceIDs(ctx, "")
	var ae *renew.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Class != "Client::Forbidden" || !errors.Is(err, renew.ErrCredential) {
		t.Fatalf("unknown application key: %+v (%v), want a credential refusal", ae, err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	e := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := e.c.Service(context.Background(), ovhfake.WebFrontID); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.count("GET", "/auth/time"); n != 1 {
		t.Fatalf("%d /auth/time calls, want 1", n)
	}
}

func TestEndpoints(t *testing.T) {
	creds := Config{ApplicationKey: "a", ApplicationSecret: "b", ConsumerKey: "c"}
	for _, tc := range []struct{ in, want, err string }{
		{"", ovh.OvhEU, ""},
		{"ovh-ca", ovh.OvhCA, ""},
		{"ovh-us", ovh.OvhUS, ""},
		{"kimsufi-eu", ovh.KimsufiEU, ""},
		{"http://127.0.0.1:8081/1.0/", "http://127.0.0.1:8081/1.0", ""},
		{"ovh-mars", "", `unknown region "ovh-mars"`},
		{"ftp://x/1.0", "", "not an http(s) base URL"},
	} {
		cfg := creds
		cfg.Endpoint = tc.in
		c, err := New(cfg)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("New(%q) err = %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("New(%q): %v", tc.in, err)
		case c.api.Endpoint() != tc.want:
			t.Errorf("New(%q) endpoint %q, want %q", tc.in, c.api.Endpoint(), tc.want)
		}
	}
}

func TestCredentials(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"application", Config{ApplicationKey: "a", ApplicationSecret: "b", ConsumerKey: "c"}, ""},
		{"oauth2", Config{ClientID: "a", ClientSecret: "b"}, ""},
		{"oauth2 ca", Config{Endpoint: "ovh-ca", ClientID: "a", ClientSecret: "b"}, ""},
		{"token", Config{AccessToken: "t"}, ""},
		{"none", Config{}, "set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY"},
		{"no secret", Config{ApplicationKey: "a", ConsumerKey: "c"}, "OVH_APPLICATION_SECRET is missing"},
		{"no consumer key", Config{ApplicationKey: "a", ApplicationSecret: "b"}, "OVH_CONSUMER_KEY is missing"},
		{"secret only", Config{ApplicationSecret: "b"}, "OVH_APPLICATION_KEY and OVH_CONSUMER_KEY is missing"},
		{"no client secret", Config{ClientID: "a"}, "OVH_CLIENT_SECRET is missing"},
		{"two kinds", Config{AccessToken: "t", ClientID: "a", ClientSecret: "b"}, "set only one kind"},
		{"oauth2 on kimsufi", Config{Endpoint: "kimsufi-eu", ClientID: "a", ClientSecret: "b"}, "only with OVH_ENDPOINT ovh-eu, ovh-ca or ovh-us"},
		{"oauth2 on a URL", Config{Endpoint: "http://127.0.0.1:1/1.0", ClientID: "a", ClientSecret: "b"}, "only with OVH_ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OVH_ACCESS_TOKEN", "") // go-ovh's environment must not leak in
			_, err := New(tc.cfg)
			if tc.err == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("New err = %v, want %q", err, tc.err)
			}
			if err != nil && tc.cfg.ApplicationSecret != "" && strings.Contains(err.Error(), tc.cfg.ApplicationSecret+"\"") {
				t.Fatalf("error shows a secret: %v", err)
			}
		})
	}
}

// The environment go-ovh reads cannot add credentials behind Config's back.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("OVH_CLIENT_ID", "env-id")
	t.Setenv("OVH_CLIENT_SECRET", "env-secret")
	c, err := New(Config{AccessToken: "tok"})
	if err != nil || c.api.ClientID != "" {
		t.Fatalf("New = %v, client id %q", err, c.api.ClientID)
	}
}
