package renew_test

// Reconciling an unknown payment whose order OVHcloud forgot, through the
// real adapter and store, against the fake OVHcloud: one clock for all.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// unknownPayment orders web-front for a year and approves it with the pay
// call answered 500: OVHcloud may have taken the money, the request is
// unknown. It returns the request id and the order id.
func unknownPayment(t *testing.T, rn *renew.Renewer, fake *ovhfake.Server) (string, int64) {
	t.Helper()
	ctx := context.Background()
	r, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0ALICE", Query: "10001"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(r.Options, func(s renew.Strategy) bool { return s.Period.Months == 12 })
	if r, err = rn.Choose(ctx, renew.Action{RequestID: r.ID, User: "U0ALICE", Channel: "C1", Choice: i}); err != nil {
		t.Fatal(err)
	}
	fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 500, Times: 1})
	res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"})
	if !errors.Is(err, renew.ErrPaymentUnknown) || res.Request.State != renew.StateUnknown {
		t.Fatalf("approve = %s, %v; want unknown", res.Request.State, err)
	}
	return r.ID, r.Order.ID
}

func TestUnknownPaymentOfAForgottenOrderEndsExpired(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, clk, rn := context.Background(), e.fake, e.clk, e.rn
	rn.Policy.TTL = 48 * time.Hour

	// Right after the pay call, OVHcloud answers 404 for the order (a
	// glitch, or not visible yet): that proves nothing.
	id, order := unknownPayment(t, rn, fake)
	clk.Advance(2 * time.Minute)
	fake.Inject("GET /me/order/*/status", ovhfake.Fault{Status: 404, Class: "Client::NotFound", Message: "The requested object does not exist", Times: 1})
	if _, err := rn.ReconcileAll(ctx); !errors.Is(err, renew.ErrPaymentUnknown) {
		t.Fatalf("reconcile after a 404 before the order's expiry: %v, want the outcome still unknown", err)
	}
	if r, _ := rn.Get(ctx, id); r.State != renew.StateUnknown {
		t.Fatalf("state %s after a 404 before the order's expiry, want unknown", r.State)
	}

	// Past the order's expiry, OVHcloud forgot it, unpaid: the request
	// ends expired instead of staying unknown forever.
	clk.Advance(24 * time.Hour)
	if _, err := rn.ReconcileAll(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ := rn.Get(ctx, id)
	if r.State != renew.StateExpired || r.Error == "" {
		t.Fatalf("request = %s (%q), want expired with the reason", r.State, r.Error)
	}
	if o, _ := fake.Order(order); o.Paid() || len(fake.CallsTo("POST", "/me/order/*/pay")) != 1 {
		t.Fatalf("order = %+v, want unpaid after the one lost pay call and no other", o)
	}
}
