package main

import (
	"context"
	"io"
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
