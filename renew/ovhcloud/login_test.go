package ovhcloud

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// serviceAccount sets up an OAuth2 client (client credentials) against the
// fake, whose token endpoint the client is pointed at.
func serviceAccount(id, secret string) func(*Config) {
	return func(c *Config) {
		c.ApplicationKey, c.ApplicationSecret, c.ConsumerKey = "", "", ""
		c.ClientID, c.ClientSecret = id, secret
		c.TokenURL = strings.TrimSuffix(c.Endpoint, ovhfake.BasePath) + ovhfake.TokenPath
	}
}

// A service account logs in with the token exchange, its bearer token
// signs every call, and one token serves many calls until it expires.
func TestServiceAccount(t *testing.T) {
	e := setup(t, serviceAccount("sa-1", "sa-secret"))
	e.fake.Auth.ClientID, e.fake.Auth.ClientSecret = "sa-1", "sa-secret"
	ctx := context.Background()
	for range 3 {
		if _, err := e.c.Service(ctx, ovhfake.WebFrontID); err != nil {
			t.Fatal(err)
		}
	}
	calls := e.fake.CallsTo("GET", "/services/*")
	if len(calls) != 3 || e.fake.TokensIssued() != 1 || len(e.fake.CallsTo("POST", ovhfake.TokenPath)) != 1 || e.count("GET", "/auth/time") != 0 {
		t.Fatalf("%d calls, %d tokens; want 3 calls with one token", len(calls), e.fake.TokensIssued())
	}
	for _, c := range calls {
		if !strings.HasPrefix(c.Header.Get("Authorization"), "Bearer fake-oauth2-") || c.Header.Get("X-Ovh-Signature") != "" || c.Path == "/auth/time" {
			t.Fatalf("call %s %s: Authorization %q, signature %q", c.Method, c.Path, c.Header.Get("Authorization"), c.Header.Get("X-Ovh-Signature"))
		}
	}
	d, err := e.c.Details(ctx)
	if err != nil || d.Method != "oauth2_client_credentials" || d.User != "sa-1" || d.AllowedRoutes != nil {
		t.Fatalf("Details = %+v, %v", d, err)
	}
	if e.c.Login() != "OAuth2 client" || e.c.SignedWithApplicationKey() {
		t.Fatalf("Login = %q", e.c.Login())
	}

	// A token past its life is refused by OVHcloud: the client gets a new
	// one and the call goes through, a POST included (the login layer
	// refused the first try, so it did nothing).
	e.clk.Advance(ovhfake.TokenTTL + time.Minute)
	o, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err != nil {
		t.Fatalf("order after the token expired: %v", err)
	}
	if e.fake.TokensIssued() != 2 || len(e.fake.Orders()) != 1 || e.fake.Orders()[0].ID != o.ID {
		t.Fatalf("%d tokens, orders %+v; want a second token and one order", e.fake.TokensIssued(), e.fake.Orders())
	}
}

func TestServiceAccountRefused(t *testing.T) {
	e := setup(t, serviceAccount("sa-1", "wrong"))
	e.fake.Auth.ClientID, e.fake.Auth.ClientSecret = "sa-1", "sa-secret"
	_, err := e.c.ServiceIDs(context.Background(), "")
	var api *renew.APIError
	if !errors.As(err, &api) || api.Status != 401 || api.Code != "invalid_client" || !errors.Is(err, renew.ErrCredential) {
		t.Fatalf("err = %v (%+v), want a credential refusal", err, api)
	}
	for _, c := range e.fake.Calls() {
		if c.Path != ovhfake.TokenPath {
			t.Fatalf("%s %s called with refused credentials", c.Method, c.Path)
		}
	}
}

func TestOAuth2Endpoints(t *testing.T) {
	c, err := New(Config{Endpoint: "ovh-ca", ClientID: "a", ClientSecret: "b"})
	if err != nil || c.cfg.TokenURL != "https://ca.ovh.com/auth/oauth2/token" {
		t.Fatalf("ovh-ca: %v, token URL %q", err, c.cfg.TokenURL)
	}
	if _, err := New(Config{Endpoint: "http://127.0.0.1:1/1.0", ClientID: "a", ClientSecret: "b", TokenURL: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "OVH_OAUTH2_TOKEN_URL") {
		t.Fatalf("bad token URL: %v", err)
	}
}

// IAM refuses an OAuth2 login a call its policy lacks: the refusal names
// the IAM action, and nothing is paid.
func TestIAMRefusal(t *testing.T) {
	e := setup(t, serviceAccount("sa-1", "s"))
	ctx := context.Background()
	var allow []string
	for r, actions := range IAMActions {
		if r.Path != "/me/order/*/pay" {
			allow = append(allow, actions...)
		}
	}
	e.fake.SetIAM(allow...)
	o, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err != nil {
		t.Fatal(err)
	}
	err = e.c.PayOrder(ctx, o.ID, ovhfake.CardID)
	var api *renew.APIError
	if !errors.As(err, &api) || api.Status != 403 || api.Grant != "account:apiovh:me/order/pay" || !errors.Is(err, renew.ErrNotGranted) || errors.Is(err, renew.ErrCredential) {
		t.Fatalf("err = %v (%+v), want an IAM refusal naming account:apiovh:me/order/pay", err, api)
	}
	if got, _ := e.fake.Order(o.ID); got.Paid() {
		t.Fatal("paid")
	}
}

// Probes find which calls a login may make, for each kind of login,
// without effect: no order, no payment.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, e *env, missing Rule) {
		t.Helper()
		for _, r := range NeededRules {
			ok, err := e.c.Probe(ctx, r)
			if err != nil || ok != (r != missing) {
				t.Errorf("Probe(%v) = %v, %v; want %v", r, ok, err, r != missing)
			}
		}
		if len(e.fake.Orders()) != 0 {
			t.Fatalf("probes created orders: %+v", e.fake.Orders())
		}
	}
	t.Run("service account and IAM", func(t *testing.T) {
		e := setup(t, serviceAccount("sa-1", "s"))
		var allow []string
		for r, actions := range IAMActions {
			if r.Path != "/me/order/*/payWithRegisteredPaymentMean" {
				allow = append(allow, actions...)
			}
		}
		e.fake.SetIAM(allow...)
		check(t, e, Rule{"POST", "/me/order/*/payWithRegisteredPaymentMean"})
	})
	t.Run("access token and IAM", func(t *testing.T) {
		e := setup(t, func(c *Config) {
			c.ApplicationKey, c.ApplicationSecret, c.ConsumerKey, c.AccessToken = "", "", "", "tok"
		})
		var allow []string
		for r, actions := range IAMActions {
			if r.Path != "/service/*/renew" {
				allow = append(allow, actions...)
			}
		}
		e.fake.SetIAM(allow...)
		check(t, e, Rule{"POST", "/service/*/renew"})
		if d, err := e.c.Details(ctx); err != nil || d.Method != "account" {
			t.Fatalf("Details = %+v, %v", d, err)
		}
	})
	t.Run("application key and rules", func(t *testing.T) {
		e := setup(t)
		var rules []ovhfake.Rule
		for _, r := range ovhfake.NeededRules() {
			if r.Path != "/me/order/*/pay" {
				rules = append(rules, r)
			}
		}
		e.fake.SetCredential(ovhfake.Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: rules})
		check(t, e, Rule{"POST", "/me/order/*/pay"})
		d, err := e.c.Details(ctx)
		if err != nil || d.Method != "account" || len(d.AllowedRoutes) != len(rules) {
			t.Fatalf("Details = %+v, %v", d, err)
		}
	})
}
