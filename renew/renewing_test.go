package renew_test

import (
	"context"
	"testing"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// A listed service is being renewed while a request holds it, and once
// paid until OVHcloud moves its expiry; then it may be renewed again.
func TestRenewingFollowsTheRequestsAndTheExpiry(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	fake.StatusStep = time.Hour
	svc := func() renew.Service {
		t.Helper()
		s, err := rn.OVH.Service(ctx, 10001)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	of := func() *renew.Request {
		t.Helper()
		w, err := rn.Renewing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return w.Of(svc())
	}
	if r := of(); r != nil {
		t.Fatalf("before any request: renewed by %s", r.ID)
	}
	open := chooseYear(t, rn, "U0ALICE")
	if r := of(); r == nil || r.ID != open.ID {
		t.Fatalf("while awaiting approval: %v, want %s", r, open.ID)
	}
	if _, err := rn.Cancel(ctx, renew.Action{RequestID: open.ID, User: "U0ALICE", Channel: "C1"}); err != nil {
		t.Fatal(err)
	}
	if r := of(); r != nil {
		t.Fatalf("once cancelled: renewed by %s", r.ID)
	}
	paid := paidUnconfirmed(t, rn)
	if r := of(); r == nil || r.ID != paid.ID {
		t.Fatalf("paid, not delivered: %v, want %s", r, paid.ID)
	}
	e.clk.Advance(2 * time.Hour) // delivered: the expiry moves
	if s := svc(); s.Expiration.Equal(paid.Service.Expiration) {
		t.Fatalf("the expiry did not move: %s", s.Expiration)
	}
	if r := of(); r != nil {
		t.Fatalf("delivered: still renewed by %s", r.ID)
	}
}
