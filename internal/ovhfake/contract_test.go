package ovhfake

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The structs below mirror ovh-api.md field by field. Responses are decoded
// with DisallowUnknownFields, so a field the fake adds or misspells fails.

type wirePrice struct {
	Value        json.Number `json:"value"`
	Text         string      `json:"text"`
	CurrencyCode string      `json:"currencyCode"`
}

// wireOrderPrice is an order's price (me.order.Price): it may also carry
// priceInUcents, a number or null.
type wireOrderPrice struct {
	Value         json.Number     `json:"value"`
	Text          string          `json:"text"`
	CurrencyCode  string          `json:"currencyCode"`
	PriceInUcents json.RawMessage `json:"priceInUcents"` // nil when absent, "null" when null
}

type wireService struct {
	ServiceID       int64  `json:"serviceId"`
	ParentServiceID *int64 `json:"parentServiceId"`
	Resource        struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		State       string `json:"state"`
		Product     struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"product"`
	} `json:"resource"`
	Route   wireRoute `json:"route"`
	Billing struct {
		ExpirationDate  string `json:"expirationDate"`
		NextBillingDate string `json:"nextBillingDate"`
		Renew           struct {
			Current struct {
				Mode     string `json:"mode"`
				NextDate string `json:"nextDate"`
				Period   string `json:"period"`
			} `json:"current"`
			Capacities struct {
				Mode []string `json:"mode"`
			} `json:"capacities"`
		} `json:"renew"`
		Lifecycle struct {
			Current struct {
				State          string   `json:"state"`
				PendingActions []string `json:"pendingActions"`
			} `json:"current"`
			Capacities struct {
				Actions []string `json:"actions"`
			} `json:"capacities"`
		} `json:"lifecycle"`
	} `json:"billing"`
	Tags []string `json:"tags"`
}

type wireRoute struct {
	Path string `json:"path"`
	URL  string `json:"url"`
	Vars []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"vars"`
}

type wireOldService struct {
	Resource struct {
		DisplayName string `json:"displayName"`
		Name        string `json:"name"`
		State       string `json:"state"`
	} `json:"resource"`
	Route          wireRoute `json:"route"`
	ExpirationDate string    `json:"expirationDate"`
	Renew          struct {
		Mode              string   `json:"mode"`
		Interval          string   `json:"interval"`
		PossibleIntervals []string `json:"possibleIntervals"`
		PossibleModes     []string `json:"possibleModes"`
	} `json:"renew"`
	State string `json:"state"`
}

type wireRenewDescription struct {
	RenewPeriod string `json:"renewPeriod"`
	Strategies  []struct {
		Services        []int64   `json:"services"`
		Price           wirePrice `json:"price"`
		PriceInUcents   int64     `json:"priceInUcents"`
		ServicesDetails []struct {
			ServiceID   int64  `json:"serviceId"`
			ServiceName string `json:"serviceName"`
			ServiceType string `json:"serviceType"`
		} `json:"servicesDetails"`
	} `json:"strategies"`
}

type wireOrder struct {
	OrderID         int64          `json:"orderId"`
	Date            string         `json:"date"`
	ExpirationDate  string         `json:"expirationDate"`
	PriceWithoutTax wireOrderPrice `json:"priceWithoutTax"`
	Tax             wireOrderPrice `json:"tax"`
	PriceWithTax    wireOrderPrice `json:"priceWithTax"`
	URL             string         `json:"url"`
	PDFURL          string         `json:"pdfUrl"`
	Password        string         `json:"password"`
	RetractionDate  *string        `json:"retractionDate"`
}

// wirePaymentMethod is me.payment.PaymentMethod, every property of the
// schema (me.json).
type wirePaymentMethod struct {
	BillingContactID *int64  `json:"billingContactId"`
	CreationDate     string  `json:"creationDate"`
	Default          bool    `json:"default"`
	Description      *string `json:"description"`
	ExpirationDate   *string `json:"expirationDate"`
	Icon             struct {
		Data *string `json:"data"`
		Name string  `json:"name"`
		URL  *string `json:"url"`
	} `json:"icon"`
	Label           *string `json:"label"`
	LastUpdate      string  `json:"lastUpdate"`
	PaymentMeanID   *int64  `json:"paymentMeanId"`
	PaymentMethodID int64   `json:"paymentMethodId"`
	PaymentSubType  *string `json:"paymentSubType"`
	PaymentType     string  `json:"paymentType"`
	Status          string  `json:"status"`
}

type wireCredential struct {
	CredentialID  int64  `json:"credentialId"`
	ApplicationID int64  `json:"applicationId"`
	Status        string `json:"status"`
	Rules         []struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	} `json:"rules"`
	Creation   string   `json:"creation"`
	Expiration *string  `json:"expiration"`
	LastUse    string   `json:"lastUse"`
	AllowedIPs []string `json:"allowedIPs"`
}

type wireError struct {
	Class   string            `json:"class"`
	Message string            `json:"message"`
	Details map[string]string `json:"details"`
}

// t0 is the tests' "now": the web-front VPS expires 24 days later, on
// 2026-12-20T00:00:00+01:00, as in ovh-api.md.
var t0 = time.Date(2026, 11, 26, 14, 49, 6, 0, time.UTC)

func sample(t testing.TB) (*Server, *Clock, string) {
	t.Helper()
	clk := NewClock(t0)
	s := SampleAccount(t0)
	s.Now = clk.Now
	s.ExactPrices = true // TestPricesAreSometimesDoubles covers the other writings
	base := s.Start()
	t.Cleanup(s.Close)
	return s, clk, base
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a signed-looking call (the zero Auth accepts any values).
func call(t testing.TB, base, method, path string, body any) response {
	t.Helper()
	return callWith(t, base, method, path, body, func(r *http.Request) {
		r.Header.Set("X-Ovh-Application", "ak")
		r.Header.Set("X-Ovh-Consumer", "ck")
		r.Header.Set("X-Ovh-Timestamp", "1764168000")
		r.Header.Set("X-Ovh-Signature", "$1$0000")
	})
}

func callWith(t testing.TB, base, method, path string, body any, auth func(*http.Request)) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, raw}
}

// strict decodes a 200 answer with DisallowUnknownFields.
func strict(t testing.TB, r response, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	decodeStrict(t, r.body, v)
}

func decodeStrict(t testing.TB, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, raw)
	}
	if dec.More() {
		t.Fatalf("trailing data after %T: %s", v, raw)
	}
}

// keys checks an object has exactly the documented keys, so a missing one
// (which strict decoding cannot see) fails too.
func keys(t testing.TB, raw []byte, want ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %v: %s", err, raw)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
}

// wantError checks an OVH error answer: status, class, message and query id.
func wantError(t testing.TB, r response, status int, class, msgPart string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var e wireError
	decodeStrict(t, r.body, &e)
	keys(t, r.body, "class", "message", "details")
	if e.Class != class || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("error = %+v, want class %q and a message with %q", e, class, msgPart)
	}
	if r.header.Get("X-Ovh-QueryID") == "" {
		t.Fatal("no X-Ovh-QueryID on an error")
	}
}

func TestAuthTimeIsBareTimestamp(t *testing.T) {
	_, clk, base := sample(t)
	r := callWith(t, base, "GET", "/auth/time", nil, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != strconv.FormatInt(t0.Unix(), 10) {
		t.Fatalf("GET /auth/time = %d %q", r.status, r.body)
	}
	clk.Advance(time.Minute)
	r = callWith(t, base, "GET", "/auth/time", nil, nil)
	if strings.TrimSpace(string(r.body)) != strconv.FormatInt(t0.Unix()+60, 10) {
		t.Fatalf("clock not followed: %q", r.body)
	}
}

func TestServicesList(t *testing.T) {
	_, _, base := sample(t)
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"?resourceName=vps-1.example.net", []int64{WebFrontID}},
		{"?resourceName=example.com", []int64{DomainID}},
		{"?resourceName=" + "%3C%21channel%3E", nil},
		{"?resourceName=nope.example.net", nil},
		{"?routes=/domain,/hosting/web", []int64{DomainID, HostingID}},
		{"?routes=/dedicated/server&orderBy=serviceId&sort=desc", []int64{ManyID, DedicatedID}},
		{"?routes=/vps&orderBy=expirationDate", []int64{SuspendedID, ExpiredID, AutoRenewID, WebFrontID, APIBackID}},
		{"", []int64{WebFrontID, APIBackID, AutoRenewID, DomainID, DedicatedID, ExpiredID, SuspendedID, ManyID, LicenceID, HostingID}},
	} {
		var ids []int64
		strict(t, call(t, base, "GET", "/services"+tc.query, nil), &ids)
		want := tc.want
		if tc.query == "" {
			want = slices.Clone(want)
			slices.Sort(want)
		}
		if !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) {
			t.Errorf("GET /services%s = %v, want %v", tc.query, ids, want)
		}
	}
	wantError(t, call(t, base, "GET", "/services?orderBy=price", nil), 400, "Client::BadRequest", "orderBy")
}

func TestServiceShape(t *testing.T) {
	s, _, base := sample(t)
	AddEscapeService(s, t0.AddDate(0, 0, 30))
	r := call(t, base, "GET", "/services/10001", nil)
	var svc wireService
	strict(t, r, &svc)
	keys(t, r.body, "serviceId", "parentServiceId", "resource", "route", "billing", "tags")
	if svc.ServiceID != WebFrontID || svc.ParentServiceID != nil ||
		svc.Resource.Name != "vps-1.example.net" || svc.Resource.DisplayName != "web-front" ||
		svc.Resource.State != "active" || svc.Resource.Product.Name != "vps-value-1-2-40" ||
		svc.Route.Path != "/vps/{serviceName}" || svc.Route.URL != "/vps/vps-1.example.net" ||
		len(svc.Route.Vars) != 1 || svc.Route.Vars[0].Key != "serviceName" || svc.Route.Vars[0].Value != "vps-1.example.net" ||
		svc.Billing.ExpirationDate != "2026-12-20T00:00:00+01:00" ||
		svc.Billing.Renew.Current.Mode != "manual" || svc.Billing.Renew.Current.Period != "P1M" ||
		svc.Billing.Lifecycle.Current.State != "active" || svc.Tags == nil {
		t.Fatalf("service = %+v", svc)
	}
	exp, err := time.Parse(time.RFC3339, svc.Billing.ExpirationDate)
	if err != nil || exp.Sub(t0) < 23*24*time.Hour || exp.Sub(t0) > 24*24*time.Hour {
		t.Fatalf("expiration %v (%v) is not 24 days after %v", exp, err, t0)
	}

	var lic wireService
	strict(t, call(t, base, "GET", "/services/50002", nil), &lic)
	if lic.ParentServiceID == nil || *lic.ParentServiceID != ManyID {
		t.Fatalf("parentServiceId = %v", lic.ParentServiceID)
	}
	var esc wireService
	r = call(t, base, "GET", "/services/40001", nil)
	strict(t, r, &esc)
	if esc.Resource.DisplayName != "<!channel> & <b>" || !bytes.Contains(r.body, []byte(`"<!channel> & <b>"`)) {
		t.Fatalf("display name %q, raw %s", esc.Resource.DisplayName, r.body)
	}
	var auto, susp wireService
	strict(t, call(t, base, "GET", "/services/10003", nil), &auto)
	strict(t, call(t, base, "GET", "/services/30002", nil), &susp)
	if auto.Billing.Renew.Current.Mode != "automatic" || susp.Resource.State != "suspended" {
		t.Fatalf("automatic %q, suspended %q", auto.Billing.Renew.Current.Mode, susp.Resource.State)
	}
	wantError(t, call(t, base, "GET", "/services/999", nil), 404, "Client::NotFound", "This service does not exist")
	wantError(t, call(t, base, "GET", "/services/abc", nil), 400, "Client::BadRequest", "abc")
}

func TestOldServiceShape(t *testing.T) {
	_, _, base := sample(t)
	var old wireOldService
	r := call(t, base, "GET", "/service/10001", nil)
	strict(t, r, &old)
	keys(t, r.body, "resource", "route", "expirationDate", "renew", "state")
	if old.Resource.DisplayName != "web-front" || old.ExpirationDate != "2026-12-20" || old.State != "ok" ||
		!slices.Equal(old.Renew.PossibleIntervals, []string{"P1M", "P3M", "P6M", "P1Y"}) {
		t.Fatalf("old service = %+v", old)
	}
	strict(t, call(t, base, "GET", "/service/30001", nil), &old)
	if old.State != "expired" {
		t.Fatalf("expired service state = %q", old.State)
	}
}

func TestStrategiesShape(t *testing.T) {
	_, _, base := sample(t)
	var descs []wireRenewDescription
	strict(t, call(t, base, "GET", "/service/12345/renew?includeOptions=false", nil), &descs)
	if len(descs) != 2 || descs[0].RenewPeriod != "P1Y" || descs[1].RenewPeriod != "P2Y" || len(descs[0].Strategies) != 2 {
		t.Fatalf("descriptions = %+v", descs)
	}
	two := descs[0].Strategies[1]
	if !slices.Equal(two.Services, []int64{67890, 12345}) || two.PriceInUcents != 4787000000 ||
		two.Price.Value != "47.87" || two.Price.Text != "47.87 €" || two.Price.CurrencyCode != "EUR" ||
		len(two.ServicesDetails) != 2 || two.ServicesDetails[0].ServiceType != "Hosting Perso 2014" ||
		two.ServicesDetails[1].ServiceName != "example.com" {
		t.Fatalf("two-service strategy = %+v", two)
	}

	// Every price's value matches priceInUcents exactly.
	for _, id := range []int64{WebFrontID, DomainID, DedicatedID, ManyID} {
		var ds []wireRenewDescription
		strict(t, call(t, base, "GET", fmt.Sprintf("/service/%d/renew?includeOptions=false", id), nil), &ds)
		n := 0
		for _, d := range ds {
			for _, st := range d.Strategies {
				n++
				if want := decimal(st.PriceInUcents); string(st.Price.Value) != want {
					t.Errorf("service %d %s: value %s, priceInUcents %d", id, d.RenewPeriod, st.Price.Value, st.PriceInUcents)
				}
			}
		}
		if id == ManyID && n != 30 {
			t.Errorf("service %d has %d strategies, want 30", id, n)
		}
	}
	wantError(t, call(t, base, "GET", "/service/1/renew", nil), 404, "Client::NotFound", "does not exist")
}

func TestRenewOrder(t *testing.T) {
	s, _, base := sample(t)
	body := map[string]any{"dryRun": true, "duration": "P1Y", "services": []int64{67890, 12345}}
	var dry wireOrder
	strict(t, call(t, base, "POST", "/service/12345/renew", body), &dry)
	if dry.OrderID != 0 || dry.PriceWithoutTax.Value != "47.87" || dry.Tax.Value != "9.57" || dry.PriceWithTax.Value != "57.44" {
		t.Fatalf("dry run = %+v", dry)
	}
	if len(s.Orders()) != 0 {
		t.Fatal("a dry run stored an order")
	}

	body["dryRun"] = false
	r := call(t, base, "POST", "/service/12345/renew", body)
	var o wireOrder
	strict(t, r, &o)
	keys(t, r.body, "orderId", "date", "expirationDate", "priceWithoutTax", "tax", "priceWithTax", "url", "pdfUrl", "password", "retractionDate")
	if o.OrderID != FirstOrderID || o.Date != "2026-11-26T14:49:06+00:00" || o.ExpirationDate != "2026-11-27T14:49:06+00:00" ||
		o.Password == "" || !strings.Contains(o.URL, "orderPassword="+o.Password) || o.RetractionDate != nil ||
		o.PriceWithTax.Text != "57.44 €" {
		t.Fatalf("order = %+v", o)
	}
	var again wireOrder
	strict(t, call(t, base, "GET", fmt.Sprintf("/me/order/%d", o.OrderID), nil), &again)
	if !reflect.DeepEqual(again, o) {
		t.Fatalf("GET order = %+v, want %+v", again, o)
	}
	var second wireOrder
	strict(t, call(t, base, "POST", "/service/10001/renew", map[string]any{"duration": "P1M", "services": []int64{10001}}), &second)
	if second.OrderID != FirstOrderID+1 || second.PriceWithoutTax.Value != "7" || second.Tax.Value != "1.4" {
		t.Fatalf("second order = %+v", second)
	}

	for _, tc := range []struct {
		path   string
		body   any
		status int
		msg    string
	}{
		{"/service/12345/renew", map[string]any{"services": []int64{12345}}, 400, "duration"},
		{"/service/12345/renew", map[string]any{"duration": "P1Y"}, 400, "services"},
		{"/service/12345/renew", map[string]any{"duration": "P3Y", "services": []int64{12345}}, 400, "P3Y"},
		{"/service/12345/renew", map[string]any{"duration": "P2Y", "services": []int64{67890, 12345}}, 400, "these services"},
		{"/service/12345/renew", map[string]any{"duration": "P1Y", "services": []int64{67890}}, 400, "not part"},
		{"/service/12345/renew", map[string]any{"duration": "P1Y", "service": []int64{12345}}, 400, "unknown field"},
		{"/service/4242/renew", map[string]any{"duration": "P1Y", "services": []int64{4242}}, 404, "does not exist"},
	} {
		wantError(t, call(t, base, "POST", tc.path, tc.body), tc.status, classFor(tc.status), tc.msg)
	}
	if n := len(s.Orders()); n != 2 {
		t.Fatalf("%d orders stored, want 2", n)
	}
}

func TestPaymentMethods(t *testing.T) {
	_, _, base := sample(t)
	var ids []int64
	strict(t, call(t, base, "GET", "/me/payment/method?default=true", nil), &ids)
	if !slices.Equal(ids, []int64{CardID}) {
		t.Fatalf("default methods = %v", ids)
	}
	strict(t, call(t, base, "GET", "/me/payment/method?paymentType=BANK_ACCOUNT", nil), &ids)
	if !slices.Equal(ids, []int64{BankID}) {
		t.Fatalf("bank methods = %v", ids)
	}
	var m wirePaymentMethod
	r := call(t, base, "GET", "/me/payment/method/42", nil)
	strict(t, r, &m)
	keys(t, r.body, "billingContactId", "creationDate", "default", "description", "expirationDate", "icon", "label",
		"lastUpdate", "paymentMeanId", "paymentMethodId", "paymentSubType", "paymentType", "status")
	if m.PaymentMethodID != 42 || m.PaymentMeanID == nil || *m.PaymentMeanID != CardMeanID || m.PaymentType != "CREDIT_CARD" || !m.Default || m.Status != "VALID" {
		t.Fatalf("method = %+v", m)
	}
	wantError(t, call(t, base, "GET", "/me/payment/method/7", nil), 404, "Client::NotFound", "paymentMethodId = 7")
}

// newOrder creates a real order for the web-front VPS and returns its id.
func newOrder(t testing.TB, base string) int64 {
	t.Helper()
	var o wireOrder
	strict(t, call(t, base, "POST", "/service/10001/renew", map[string]any{"dryRun": false, "duration": "P1M", "services": []int64{10001}}), &o)
	return o.OrderID
}

func status(t testing.TB, base string, id int64) string {
	t.Helper()
	var s string
	strict(t, call(t, base, "GET", fmt.Sprintf("/me/order/%d/status", id), nil), &s)
	return s
}

// TestFullRenewal follows the bot's calls from /renew to delivered and
// checks the fake saw exactly that sequence.
func TestFullRenewal(t *testing.T) {
	s, _, base := sample(t)
	var ids []int64
	strict(t, call(t, base, "GET", "/services?resourceName=vps-1.example.net", nil), &ids)
	var svc wireService
	strict(t, call(t, base, "GET", fmt.Sprintf("/services/%d", ids[0]), nil), &svc)
	var descs []wireRenewDescription
	strict(t, call(t, base, "GET", "/service/10001/renew?includeOptions=false", nil), &descs)
	id := newOrder(t, base)
	if st := status(t, base, id); st != "notPaid" {
		t.Fatalf("status before paying = %q", st)
	}
	strict(t, call(t, base, "GET", "/me/payment/method?default=true", nil), &ids)
	r := call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{"paymentMethod": map[string]any{"id": ids[0]}})
	if r.status != 200 || len(r.body) != 0 {
		t.Fatalf("pay = %d %q", r.status, r.body)
	}
	var got []string
	for range 4 {
		got = append(got, status(t, base, id))
	}
	if !slices.Equal(got, []string{"checking", "delivering", "delivered", "delivered"}) {
		t.Fatalf("statuses after paying = %v", got)
	}
	o, _ := s.Order(id)
	if !o.Paid() || o.PaidWith != "method:42" || o.PayAttempts != 1 {
		t.Fatalf("order = %+v", o)
	}

	var seq []string
	for _, c := range s.Calls() {
		seq = append(seq, c.Method+" "+c.Path)
	}
	want := []string{
		"GET /services", "GET /services/10001", "GET /service/10001/renew", "POST /service/10001/renew",
		"GET /me/order/123456789/status", "GET /me/payment/method", "POST /me/order/123456789/pay",
		"GET /me/order/123456789/status", "GET /me/order/123456789/status", "GET /me/order/123456789/status", "GET /me/order/123456789/status",
	}
	if !slices.Equal(seq, want) {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	pays := s.CallsTo("POST", "/me/order/*/pay")
	if len(pays) != 1 || string(pays[0].Body) != `{"paymentMethod":{"id":42}}` || pays[0].Status != 200 {
		t.Fatalf("pay calls = %+v", pays)
	}
	if c := s.CallsTo("GET", "/services")[0]; c.Query.Get("resourceName") != "vps-1.example.net" || !c.Time.Equal(t0) {
		t.Fatalf("recorded query %v at %v", c.Query, c.Time)
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Fatal("ResetCalls kept calls")
	}
}

func TestPaymentRefusals(t *testing.T) {
	s, clk, base := sample(t)
	pay := func(id int64, method int64) response {
		return call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{"paymentMethod": map[string]any{"id": method}})
	}
	id := newOrder(t, base)
	wantError(t, pay(id, BankID), 403, "Client::Forbidden", "This order can't be paid with 'bankAccount'")
	wantError(t, pay(id, 7), 404, "Client::NotFound", "paymentMethodId = 7")
	wantError(t, pay(999, CardID), 404, "Client::NotFound", "orderId = 999")
	wantError(t, call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{}), 400, "Client::BadRequest", "paymentMethod")
	if r := pay(id, CardID); r.status != 200 {
		t.Fatalf("pay = %d %s", r.status, r.body)
	}
	// Paying twice is refused, and counted.
	wantError(t, pay(id, CardID), 403, "Client::Forbidden", "already paid")
	if o, _ := s.Order(id); o.PayAttempts != 4 || o.PaidWith != "method:42" {
		t.Fatalf("order = %+v", o)
	}

	// An order past its expirationDate cannot be paid; once OVHcloud
	// forgets it, every route of it answers 404.
	s.KeepExpiredOrders = time.Hour
	late := newOrder(t, base)
	clk.Advance(24 * time.Hour)
	wantError(t, pay(late, CardID), 403, "Client::Forbidden", "expired")
	if st := status(t, base, late); st != "notPaid" {
		t.Fatalf("expired order status = %q", st)
	}
	clk.Advance(time.Hour)
	for _, r := range []response{
		call(t, base, "GET", fmt.Sprintf("/me/order/%d/status", late), nil),
		call(t, base, "GET", fmt.Sprintf("/me/order/%d", late), nil),
		pay(late, CardID),
	} {
		wantError(t, r, 404, "Client::NotFound", fmt.Sprintf("orderId = %d", late))
	}
	// A paid order is never forgotten.
	if st := status(t, base, id); st == "" {
		t.Fatal("a paid order was forgotten")
	}
	s.KeepExpiredOrders = 0

	// A cancelled order cannot be paid either.
	cancelled := newOrder(t, base)
	s.SetOrderStatus(cancelled, "cancelled")
	wantError(t, pay(cancelled, CardID), 403, "Client::Forbidden", "cancelled")
	if st := status(t, base, cancelled); st != "cancelled" {
		t.Fatalf("status = %q", st)
	}
}

func TestPayWithRegisteredPaymentMean(t *testing.T) {
	s, _, base := sample(t)
	id := newOrder(t, base)
	path := fmt.Sprintf("/me/order/%d/payWithRegisteredPaymentMean", id)
	var means []struct {
		PaymentMean string `json:"paymentMean"`
	}
	strict(t, call(t, base, "GET", fmt.Sprintf("/me/order/%d/availableRegisteredPaymentMean", id), nil), &means)
	if len(means) != 3 || means[0].PaymentMean != "creditCard" {
		t.Fatalf("means = %+v", means)
	}
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"paymentMean": "paypal", "paymentMeanId": 42}, 403, "This order can't be paid with paypal"},
		{map[string]any{"paymentMean": "bankAccount", "paymentMeanId": 43}, 403, "This order can't be paid with 'bankAccount'"},
		{map[string]any{"paymentMean": "SEPA_DIRECT_DEBIT"}, 404, "paymentMean not found"},
		{map[string]any{"paymentMean": "bitcoin"}, 400, "Invalid value"},
		{map[string]any{"paymentMean": "creditCard"}, 400, "paymentMeanId"},
		{map[string]any{"paymentMean": "creditCard", "paymentMeanId": 7}, 404, "paymentMean not found"},
		// The paymentMethodId is not the paymentMeanId.
		{map[string]any{"paymentMean": "creditCard", "paymentMeanId": CardID}, 404, "paymentMean not found"},
		{map[string]any{"paymentMean": "creditCard", "paymentMeanId": BankMeanID}, 404, "paymentMean not found"},
		{map[string]any{"paymentMean": "bankAccount"}, 400, "paymentMeanId"},
		{map[string]any{"paymentMean": "fidelityAccount", "paymentMeanId": 42}, 403, "fidelityAccount"},
	} {
		wantError(t, call(t, base, "POST", path, tc.body), tc.status, classFor(tc.status), tc.msg)
	}
	if st := status(t, base, id); st != "notPaid" {
		t.Fatalf("a refused payment changed the status to %q", st)
	}
	r := call(t, base, "POST", path, map[string]any{"paymentMean": "creditCard", "paymentMeanId": CardMeanID})
	if r.status != 200 {
		t.Fatalf("pay = %d %s", r.status, r.body)
	}
	wantError(t, call(t, base, "POST", path, map[string]any{"paymentMean": "ovhAccount"}), 403, "Client::Forbidden", "already paid")
	if o, _ := s.Order(id); o.PaidWith != "mean:creditCard:5551042" {
		t.Fatalf("paid with %q", o.PaidWith)
	}

	// fidelityAccount pays a zero-amount order.
	s.SetStrategies(WebFrontID, Strategy{Period: "P1M", Services: []int64{WebFrontID}, Price: 0})
	free := newOrder(t, base)
	r = call(t, base, "POST", fmt.Sprintf("/me/order/%d/payWithRegisteredPaymentMean", free), map[string]any{"paymentMean": "fidelityAccount"})
	if r.status != 200 {
		t.Fatalf("fidelityAccount on a free order = %d %s", r.status, r.body)
	}
}

func TestStatusFollowsClock(t *testing.T) {
	s, clk, base := sample(t)
	s.StatusStep = time.Minute
	id := newOrder(t, base)
	if r := call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{"paymentMethod": map[string]any{"id": 42}}); r.status != 200 {
		t.Fatal(r.status)
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "checking"}, {0, "checking"}, {time.Minute, "delivering"}, {59 * time.Second, "delivering"}, {time.Second, "delivered"}} {
		clk.Advance(step.advance)
		if got := status(t, base, id); got != step.want {
			t.Fatalf("after %v: status %q, want %q", clk.Now().Sub(t0), got, step.want)
		}
	}
}

func TestAuth(t *testing.T) {
	s, _, base := sample(t)
	wantError(t, callWith(t, base, "GET", "/services", nil, nil), 401, "Client::Unauthorized", "You must login first")

	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if r := callWith(t, base, "GET", "/services", nil, bearer("tok")); r.status != 200 {
		t.Fatalf("bearer = %d", r.status)
	}
	s.Auth = Auth{AccessToken: "good", ApplicationKey: "ak", ApplicationSecret: "secret", ConsumerKey: "ck"}
	wantLoginError(t, callWith(t, base, "GET", "/services", nil, bearer("bad")), 401, "INVALID_CREDENTIAL")
	if r := callWith(t, base, "GET", "/services", nil, bearer("good")); r.status != 200 {
		t.Fatalf("bearer good = %d", r.status)
	}

	sign := func(secret, ak string) func(*http.Request) {
		return func(r *http.Request) {
			var body []byte
			if r.GetBody != nil {
				rc, _ := r.GetBody()
				body, _ = io.ReadAll(rc)
			}
			ts := "1764168000"
			h := sha1.Sum(fmt.Appendf(nil, "%s+%s+%s+%s+%s+%s", secret, "ck", r.Method, r.URL.String(), body, ts))
			r.Header.Set("X-Ovh-Application", ak)
			r.Header.Set("X-Ovh-Consumer", "ck")
			r.Header.Set("X-Ovh-Timestamp", ts)
			r.Header.Set("X-Ovh-Signature", fmt.Sprintf("$1$%x", h))
		}
	}
	if r := callWith(t, base, "GET", "/services?resourceName=vps-1.example.net", nil, sign("secret", "ak")); r.status != 200 {
		t.Fatalf("signed call = %d %s", r.status, r.body)
	}
	body := map[string]any{"dryRun": true, "duration": "P1M", "services": []int64{10001}}
	if r := callWith(t, base, "POST", "/service/10001/renew", body, sign("secret", "ak")); r.status != 200 {
		t.Fatalf("signed POST = %d %s", r.status, r.body)
	}
	wantLoginError(t, callWith(t, base, "GET", "/services", nil, sign("wrong", "ak")), 400, "INVALID_SIGNATURE")
	wantError(t, callWith(t, base, "GET", "/services", nil, sign("secret", "other")), 403, "Client::Forbidden", "This application key is invalid")
	s.Auth.KeyErrorCode = true
	wantLoginError(t, callWith(t, base, "GET", "/services", nil, sign("secret", "other")), 403, "INVALID_KEY")
	s.Auth.ConsumerKey = "another"
	wantLoginError(t, callWith(t, base, "GET", "/services", nil, sign("secret", "ak")), 403, "NOT_CREDENTIAL")

	// The credential's rules are enforced, and described.
	s.Auth = Auth{}
	s.SetCredential(Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: []Rule{{"GET", "/services*"}}})
	wantLoginError(t, call(t, base, "GET", "/me/payment/method", nil), 403, "NOT_GRANTED_CALL")
	if r := call(t, base, "GET", "/services/10001", nil); r.status != 200 {
		t.Fatalf("granted call = %d", r.status)
	}
	var c wireCredential
	r := call(t, base, "GET", "/auth/currentCredential", nil)
	strict(t, r, &c)
	keys(t, r.body, "credentialId", "applicationId", "status", "rules", "creation", "expiration", "lastUse", "allowedIPs")
	if c.CredentialID != 1 || c.Status != "validated" || len(c.Rules) != 1 || c.Rules[0].Path != "/services*" || c.Expiration != nil {
		t.Fatalf("credential = %+v", c)
	}
}

// A credential that expired, was revoked or never validated is refused by
// the login layer, /auth/currentCredential included; a signed call out of
// the clock's window too.
func TestLoginLayerRefusals(t *testing.T) {
	s, clk, base := sample(t)
	for _, status := range []string{"expired", "refused", "pendingValidation"} {
		s.SetCredential(Credential{ID: 1, ApplicationID: 2, Status: status, Rules: NeededRules()})
		wantLoginError(t, call(t, base, "GET", "/auth/currentCredential", nil), 403, "INVALID_CREDENTIAL")
	}
	s.SetCredential(Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: NeededRules(), Expiration: t0.Add(time.Hour)})
	if r := call(t, base, "GET", "/services", nil); r.status != 200 {
		t.Fatalf("a credential before its expiry = %d %s", r.status, r.body)
	}
	clk.Advance(time.Hour)
	wantLoginError(t, call(t, base, "GET", "/services", nil), 403, "INVALID_CREDENTIAL")

	s.SetCredential(Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: NeededRules()})
	s.Auth = Auth{MaxClockSkew: time.Minute}
	// call signs with the timestamp 1764168000, not the fake's clock.
	wantLoginError(t, call(t, base, "GET", "/services", nil), 400, "QUERY_TIME_OUT")
}

// wantLoginError checks an answer of OVHcloud's login layer: exactly
// errorCode, httpCode and message, no class, and a query id.
func wantLoginError(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var e struct {
		ErrorCode string `json:"errorCode"`
		HTTPCode  string `json:"httpCode"`
		Message   string `json:"message"`
	}
	decodeStrict(t, r.body, &e)
	keys(t, r.body, "errorCode", "httpCode", "message")
	if e.ErrorCode != code || e.HTTPCode != fmt.Sprintf("%d %s", status, http.StatusText(status)) || e.Message == "" {
		t.Fatalf("login error = %+v, want %s with httpCode %d", e, code, status)
	}
	if r.header.Get("X-Ovh-QueryID") == "" {
		t.Fatal("no X-Ovh-QueryID on an error")
	}
}

// The OAuth2 token exchange answers RFC 6749's shapes, and the token it
// issues logs in as a service account until it expires.
func TestOAuth2TokenExchange(t *testing.T) {
	s, clk, base := sample(t)
	s.Auth = Auth{ClientID: "sa", ClientSecret: "secret"}
	root := strings.TrimSuffix(base, BasePath)
	exchange := func(form url.Values, basic ...string) response {
		t.Helper()
		req, _ := http.NewRequest("POST", root+TokenPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if len(basic) == 2 {
			req.SetBasicAuth(basic[0], basic[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, b}
	}
	type oauthErr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	for _, tc := range []struct {
		form  url.Values
		basic []string
		code  string
	}{
		{url.Values{"grant_type": {"client_credentials"}}, []string{"sa", "wrong"}, "invalid_client"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"other"}, "client_secret": {"secret"}}, nil, "invalid_client"},
		{url.Values{"grant_type": {"password"}}, []string{"sa", "secret"}, "unsupported_grant_type"},
	} {
		r := exchange(tc.form, tc.basic...)
		var e oauthErr
		decodeStrict(t, r.body, &e)
		if r.status < 400 || e.Error != tc.code || e.Description == "" {
			t.Fatalf("%v: %d %+v, want %s", tc.form, r.status, e, tc.code)
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	strict(t, exchange(url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}}, "sa", "secret"), &tok)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != "all" {
		t.Fatalf("token = %+v", tok)
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.AccessToken) }
	var d struct {
		AllowedRoutes []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"allowedRoutes"`
		Description *string  `json:"description"`
		Method      string   `json:"method"`
		Roles       []string `json:"roles"`
		User        *string  `json:"user"`
	}
	r := callWith(t, base, "GET", "/auth/details", nil, bearer)
	strict(t, r, &d)
	keys(t, r.body, "allowedRoutes", "description", "method", "roles", "user")
	if d.Method != "oauth2_client_credentials" || d.User == nil || *d.User != "sa" || d.AllowedRoutes != nil {
		t.Fatalf("details = %+v", d)
	}
	clk.Advance(TokenTTL)
	wantLoginError(t, callWith(t, base, "GET", "/services", nil, bearer), 401, "INVALID_CREDENTIAL")
}

// IAM refuses an OAuth2 or token login what its policy lacks with the API's
// class shape, its details naming the action (as go-ovh reads them).
func TestIAMRefusalShape(t *testing.T) {
	s, _, base := sample(t)
	s.SetIAM("account:apiovh:services/get")
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }
	if r := callWith(t, base, "GET", "/services/10001", nil, bearer); r.status != 200 {
		t.Fatalf("allowed call = %d %s", r.status, r.body)
	}
	r := callWith(t, base, "POST", "/me/order/1/pay", map[string]any{"paymentMethod": map[string]any{"id": 42}}, bearer)
	wantError(t, r, 403, "Client::Forbidden", "User not granted for this request")
	var e wireError
	decodeStrict(t, r.body, &e)
	if e.Details["unauthorizedActionsByIAM"] != "account:apiovh:me/order/pay" {
		t.Fatalf("details = %v", e.Details)
	}
	// An application key is governed by its access rules, not IAM.
	if r := call(t, base, "GET", "/me/payment/method", nil); r.status != 200 {
		t.Fatalf("application key = %d %s", r.status, r.body)
	}
}

// Prices are doubles: by default the fake sometimes writes a value a few
// ULPs off, and gives an order's price priceInUcents, null or nothing,
// the same way for the same seed. Every writing still means the amount.
func TestPricesAreSometimesDoubles(t *testing.T) {
	run := func(seed uint64) (values []string, ucents map[string]int) {
		s, _, base := sample(t)
		s.ExactPrices = false
		s.SetSeed(seed)
		ucents = map[string]int{}
		for range 30 {
			var o wireOrder
			strict(t, call(t, base, "POST", "/service/10001/renew", map[string]any{"dryRun": true, "duration": "P1Y", "services": []int64{10001}}), &o)
			for _, p := range []wireOrderPrice{o.PriceWithoutTax, o.Tax, o.PriceWithTax} {
				values = append(values, string(p.Value))
				f, err := p.Value.Float64()
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]float64{"79.20 €": 79.2, "15.84 €": 15.84, "95.04 €": 95.04}[p.Text]
				if math.Abs(f-want) > 1e-9 {
					t.Fatalf("value %s for %s", p.Value, p.Text)
				}
				switch {
				case p.PriceInUcents == nil:
					ucents["absent"]++
				case string(p.PriceInUcents) == "null":
					ucents["null"]++
				default:
					ucents["number"]++
					if n, _ := strconv.ParseFloat(string(p.PriceInUcents), 64); n != want*1e8 && math.Abs(n-want*1e8) > 1 {
						t.Fatalf("priceInUcents %s for %s", p.PriceInUcents, p.Text)
					}
				}
			}
		}
		return values, ucents
	}
	a, kinds := run(7)
	b, _ := run(7)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed wrote different prices")
	}
	noisy := 0
	for _, v := range a {
		if len(v) > 6 {
			noisy++
		}
	}
	if noisy == 0 || noisy == len(a) || kinds["absent"] == 0 || kinds["null"] == 0 || kinds["number"] == 0 {
		t.Fatalf("%d of %d values off by a few ULPs, priceInUcents %v: want some of each", noisy, len(a), kinds)
	}
}

func TestQueryIDOnEveryAnswer(t *testing.T) {
	_, _, base := sample(t)
	seen := map[string]bool{}
	for _, r := range []response{
		callWith(t, base, "GET", "/auth/time", nil, nil),
		call(t, base, "GET", "/services/10001", nil),
		call(t, base, "GET", "/services/1", nil),
		call(t, base, "GET", "/nowhere", nil),
		call(t, base, "DELETE", "/services/10001", nil),
	} {
		q := r.header.Get("X-Ovh-QueryID")
		if !strings.HasPrefix(q, "EU.ext-1.") || !strings.HasSuffix(q, ".fake") || seen[q] {
			t.Fatalf("query id %q (seen %v)", q, seen)
		}
		seen[q] = true
	}
}

// A delivered renewal moves the services' expiry by the period, once, as
// OVHcloud does; a renewal made elsewhere moves it too.
func TestDeliveryMovesTheExpiry(t *testing.T) {
	s, clk, base := sample(t)
	s.StatusStep = time.Minute
	before, _ := s.Service(10001)
	id := newOrder(t, base) // P1M
	if r := call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{"paymentMethod": map[string]any{"id": 42}}); r.status != 200 {
		t.Fatal(r.status)
	}
	clk.Advance(time.Minute)
	var svc wireService
	strict(t, call(t, base, "GET", "/services/10001", nil), &svc)
	expiry := func() time.Time {
		t.Helper()
		e, err := time.Parse(time.RFC3339, svc.Billing.ExpirationDate)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if !expiry().Equal(before.Expiration) {
		t.Fatalf("expiry moved before delivery: %v", svc.Billing.ExpirationDate)
	}
	clk.Advance(time.Minute) // delivered
	for range 2 {
		strict(t, call(t, base, "GET", "/services/10001", nil), &svc)
		if want := before.Expiration.AddDate(0, 1, 0); !expiry().Equal(want) {
			t.Fatalf("expiry after delivery %v, want %v (moved once, by one month)", svc.Billing.ExpirationDate, want)
		}
	}
	s.RenewElsewhere(10001, "P1Y")
	if got, _ := s.Service(10001); !got.Expiration.Equal(before.Expiration.AddDate(1, 1, 0)) {
		t.Fatalf("renewed elsewhere: expiry %v", got.Expiration)
	}
}

// A payment OVHcloud took but does not show yet, and one whose answer was
// lost: the client sees notPaid, or an error, yet the order is paid.
func TestPaymentProcessedButNotShown(t *testing.T) {
	s, clk, base := sample(t)
	s.PaymentVisibleAfter = time.Minute
	id := newOrder(t, base)
	s.Inject("POST /me/order/*/pay", Fault{Processed: true, Status: 502, Times: 1})
	r := call(t, base, "POST", fmt.Sprintf("/me/order/%d/pay", id), map[string]any{"paymentMethod": map[string]any{"id": 42}})
	if r.status != 502 {
		t.Fatalf("status %d, want 502", r.status)
	}
	if o, _ := s.Order(id); !o.Paid() || o.PayAttempts != 1 {
		t.Fatalf("order after a processed call answered 502: %+v", o)
	}
	if st := status(t, base, id); st != "notPaid" {
		t.Fatalf("status right after the payment = %q, want notPaid for a minute", st)
	}
	clk.Advance(time.Minute)
	if st := status(t, base, id); st != "checking" {
		t.Fatalf("status a minute later = %q", st)
	}
}
