package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// RENEWBOT_PAYMENT=creditCard:ID takes the card's paymentMeanId (GET
// /me/payment/method/{id} → paymentMeanId): the order is paid with it.
func TestPayWithACardMean(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_PAYMENT": "creditCard:5551042"})
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	if o := h.ovh.Orders(); len(o) != 1 || o[0].PaidWith != "mean:creditCard:5551042" {
		t.Fatalf("orders = %+v, want one paid with the card's payment mean", o)
	}
}

// `renewbot check` finds the payment mean id among the account's payment
// methods, and says when the number given is the paymentMethodId instead.
func TestCheckPaymentMeanID(t *testing.T) {
	newHarness(t, nil)
	for _, tc := range []struct {
		payment string
		ok      bool
		want    string
	}{
		{"creditCard:5551042", true, "[ok  ] payment mean creditCard:5551042: payment method 42, CREDIT_CARD ************4242, VALID"},
		{"creditCard:42", false, "[FAIL] payment mean creditCard:42: 42 is a paymentMethodId; payWithRegisteredPaymentMean takes its paymentMeanId: set RENEWBOT_PAYMENT=creditCard:5551042"},
		{"creditCard:5551043", false, "paymentMeanId 5551043 is payment method 43, a BANK_ACCOUNT, not a CREDIT_CARD"},
		{"creditCard:999", false, "no payment method of the account has paymentMeanId 999 (read it with GET /me/payment/method/{id} → paymentMeanId)"},
		{"ovhAccount", true, "[ok  ] payment: registered payment mean ovhAccount"},
	} {
		t.Setenv("RENEWBOT_PAYMENT", tc.payment)
		var out strings.Builder
		err := run(context.Background(), []string{"check"}, &out, io.Discard)
		if (err == nil) != tc.ok || !strings.Contains(out.String(), tc.want) {
			t.Errorf("RENEWBOT_PAYMENT=%s: err %v, output lacks %q:\n%s", tc.payment, err, tc.want, out.String())
		}
	}
}
