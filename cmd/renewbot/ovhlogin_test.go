package main

import (
	"context"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

// A pay call the credential's access rules do not grant: OVHcloud's login
// layer refuses it (NOT_GRANTED_CALL), nothing is paid, and the approver
// learns which rule an admin must add.
func TestPayNotGrantedNamesTheRule(t *testing.T) {
	h := newHarness(t, nil)
	var rules []ovhfake.Rule
	for _, r := range ovhfake.NeededRules() {
		if r.Path != "/me/order/*/pay" {
			rules = append(rules, r)
		}
	}
	m := h.orderFor(alice, "web-front", "1 year")
	h.ovh.SetCredential(ovhfake.Credential{ID: 1, ApplicationID: 2, Status: "validated", Rules: rules})
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	r := h.ephemeral(bob, "An admin must grant `POST /me/order/*/pay`")
	for _, want := range []string{"not allowed", "Nothing was ordered or paid", "NOT_GRANTED_CALL", "query id"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("refusal lacks %q: %s", want, r.Text)
		}
	}
	if o := h.ovh.Orders(); len(o) != 1 || o[0].Paid() {
		t.Fatalf("orders = %+v, want one, unpaid", o)
	}
	if !hasAction(h.message(1, "Approve"), "approve") {
		t.Fatal("after a refused payment the request can no longer be approved")
	}
}

// Credentials OVHcloud no longer accepts: whoever types /renew is told
// they must be renewed, and so does `renewbot check`.
func TestExpiredCredentialIsTold(t *testing.T) {
	h := newHarness(t, nil)
	h.ovh.SetCredential(ovhfake.Credential{ID: 1, ApplicationID: 2, Status: "expired", Rules: ovhfake.NeededRules()})
	h.command(alice, "web-front")
	r := h.ephemeral(alice, "OVHcloud refused the bot's credentials")
	if !strings.Contains(r.Text, "invalid, expired or revoked") || !strings.Contains(r.Text, "create new ones") {
		t.Errorf("refusal = %s", r.Text)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed with expired credentials:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[FAIL] OVHcloud credential: OVHcloud refused the bot's credentials: they are invalid, expired or revoked") {
		t.Errorf("check does not say the credentials must be renewed:\n%s", out.String())
	}
}

// serviceAccount points the harness's bot at the fake as an OAuth2
// service account (client credentials) instead of an application key.
func serviceAccount(h *harness) {
	h.ovh.Auth = ovhfake.Auth{ClientID: "sa-renewbot", ClientSecret: "sa-secret"}
	for k, v := range map[string]string{
		"OVH_APPLICATION_KEY": "", "OVH_APPLICATION_SECRET": "", "OVH_CONSUMER_KEY": "",
		"OVH_CLIENT_ID": "sa-renewbot", "OVH_CLIENT_SECRET": "sa-secret",
		"OVH_OAUTH2_TOKEN_URL": strings.TrimSuffix(h.env["OVH_ENDPOINT"], ovhfake.BasePath) + ovhfake.TokenPath,
	} {
		h.env[k] = v
	}
}

// The bot runs on an OAuth2 service account: it exchanges its client id
// and secret for a token and the whole renewal, payment included, goes
// through with bearer tokens, no signature.
func TestServiceAccountEndToEnd(t *testing.T) {
	h := newFakes(t)
	serviceAccount(h)
	h.start()
	t.Cleanup(h.stop)

	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	if o := h.ovh.Orders(); len(o) != 1 || !o[0].Paid() || o[0].PaidWith != "method:42" {
		t.Fatalf("orders = %+v, want one paid with the default method", o)
	}
	if h.ovh.TokensIssued() == 0 {
		t.Fatal("no OAuth2 token was issued")
	}
	for _, c := range h.ovh.Calls() {
		if c.Path == ovhfake.TokenPath {
			continue
		}
		if !strings.HasPrefix(c.Header.Get("Authorization"), "Bearer fake-oauth2-") || c.Header.Get("X-Ovh-Application") != "" {
			t.Fatalf("%s %s was not made with the service account's token: %v", c.Method, c.Path, c.Header)
		}
	}
}

// `renewbot check` on a service account: it reads who is logged in
// (/auth/details), not an application key's rules, and finds a call its
// IAM policy does not allow, naming the IAM action.
func TestCheckServiceAccount(t *testing.T) {
	h := newFakes(t)
	serviceAccount(h)
	h.createDatabase()
	for k, v := range h.env {
		t.Setenv(k, v)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err != nil {
		t.Fatalf("check failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"[ok  ] OVHcloud login: OAuth2 client (oauth2_client_credentials sa-renewbot)", "[ok  ] OVHcloud permissions: all 9 calls granted"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	if len(h.ovh.CallsTo("GET", "/auth/currentCredential")) != 0 {
		t.Error("check read /auth/currentCredential, which describes application keys only")
	}
	var allow []string
	for _, r := range ovhfake.Routes() {
		if r.IAM != "" && r.IAM != "account:apiovh:me/order/pay" {
			allow = append(allow, r.IAM)
		}
	}
	h.ovh.SetIAM(allow...)
	out.Reset()
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed without the pay permission:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[FAIL] OVHcloud permission: POST /me/order/*/pay (IAM action account:apiovh:me/order/pay) is not granted") {
		t.Errorf("check does not name the missing IAM action:\n%s", out.String())
	}
	if o := h.ovh.Orders(); len(o) != 0 {
		t.Fatalf("check created orders: %+v", o)
	}
}

// `renewbot check` on an access token names the login /auth/details
// describes and probes the calls, as for a service account.
func TestCheckAccessToken(t *testing.T) {
	h := newFakes(t)
	h.ovh.Auth = ovhfake.Auth{AccessToken: "eyJ-token"}
	for k, v := range map[string]string{"OVH_APPLICATION_KEY": "", "OVH_APPLICATION_SECRET": "", "OVH_CONSUMER_KEY": "", "OVH_ACCESS_TOKEN": "eyJ-token"} {
		h.env[k] = v
	}
	h.createDatabase()
	for k, v := range h.env {
		t.Setenv(k, v)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err != nil {
		t.Fatalf("check failed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "[ok  ] OVHcloud login: access token (account)") || !strings.Contains(out.String(), "[ok  ] OVHcloud permissions: all 9 calls granted") {
		t.Errorf("check output:\n%s", out.String())
	}
	t.Setenv("OVH_ACCESS_TOKEN", "revoked")
	out.Reset()
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil || !strings.Contains(out.String(), "[FAIL] OVHcloud login: OVHcloud refused the bot's credentials") {
		t.Errorf("check with a revoked token: %v\n%s", err, out.String())
	}
}

// A service account whose IAM policy lacks the pay action: OVHcloud
// refuses the pay call, nothing is paid, and the approver learns which IAM
// action an admin must allow.
func TestServiceAccountPayNotAllowedNamesTheIAMAction(t *testing.T) {
	h := newFakes(t)
	serviceAccount(h)
	var allow []string
	for _, r := range ovhfake.Routes() {
		if r.IAM != "account:apiovh:me/order/pay" {
			allow = append(allow, r.IAM)
		}
	}
	h.ovh.SetIAM(allow...)
	h.start()
	t.Cleanup(h.stop)
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.ephemeral(bob, "An admin must grant `account:apiovh:me/order/pay`")
	if o := h.ovh.Orders(); len(o) != 1 || o[0].Paid() {
		t.Fatalf("orders = %+v, want one, unpaid", o)
	}
}

// An application key or a consumer key OVHcloud does not know, whichever
// shape its refusal takes, is told as refused credentials, to the person
// who typed /renew and by check.
func TestUnknownKeysAreRefusedCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		errorCode bool
		env       map[string]string
	}{
		{"application key, answered with a class", false, map[string]string{"OVH_APPLICATION_KEY": "not-this-key"}},
		{"application key, answered INVALID_KEY", true, map[string]string{"OVH_APPLICATION_KEY": "not-this-key"}},
		{"consumer key, answered NOT_CREDENTIAL", false, map[string]string{"OVH_CONSUMER_KEY": "not-this-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakes(t)
			h.ovh.Auth = ovhfake.Auth{ApplicationKey: h.env["OVH_APPLICATION_KEY"], ConsumerKey: h.env["OVH_CONSUMER_KEY"], KeyErrorCode: tc.errorCode}
			maps.Copy(h.env, tc.env)
			h.start()
			h.command(alice, "web-front")
			if r := h.ephemeral(alice, "OVHcloud refused the bot's credentials"); !strings.Contains(r.Text, "invalid, expired or revoked") {
				t.Errorf("refusal = %s", r.Text)
			}
			var out strings.Builder
			if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
				t.Fatalf("check passed with a key OVHcloud does not know:\n%s", out.String())
			}
			if !strings.Contains(out.String(), "[FAIL] OVHcloud credential: OVHcloud refused the bot's credentials: they are invalid, expired or revoked") {
				t.Errorf("check does not say the credentials are refused:\n%s", out.String())
			}
		})
	}
}
