package renew_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// paid stores a request paid now for a real order of the fake.
func (e *ovhEnv) paid(t *testing.T) *renew.Request {
	t.Helper()
	o, err := e.rn.OVH.CreateOrder(context.Background(), ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rn.OVH.PayOrder(context.Background(), o.ID, 42); err != nil {
		t.Fatal(err)
	}
	now := e.clk.Now()
	r := &renew.Request{ID: renew.NewID(), State: renew.StatePaid, Channel: "C1", Service: renew.Service{ID: ovhfake.WebFrontID, Name: "vps-1.example.net"},
		Order: &o, PaidAt: now, PaidBy: "U2", CreatedAt: now, UpdatedAt: now}
	if err := e.st.Create(context.Background(), r, renew.Event{Action: "paid"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// A paid order OVHcloud does not deliver within the follow window: the
// request ends, paid, delivery unconfirmed, with the last status.
func TestFollowEndsUnconfirmed(t *testing.T) {
	e := newOVHEnv(t)
	r := e.paid(t)
	e.fake.SetOrderStatus(r.Order.ID, "checking")
	got, err := e.rn.Follow(context.Background(), r.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != renew.StatePaidUnconfirmed || !got.State.Final() || got.OrderStatus != renew.OrderChecking {
		t.Fatalf("after the follow window: %s, status %s", got.State, got.OrderStatus)
	}
	evs, _ := e.st.Events(context.Background(), renew.EventFilter{RequestID: r.ID, Limit: 1})
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "last status checking") {
		t.Fatalf("last event: %+v", evs)
	}
}

// A paid request nobody followed (a restart) is ended by the sweep once
// its window is over, not before: delivered when OVHcloud says so, else
// unconfirmed, or failed when OVHcloud cancelled the order. Nothing
// unfinished is left to redraw forever.
func TestSweepEndsPaidRequests(t *testing.T) {
	e := newOVHEnv(t)
	delivered, stuck, cancelled := e.paid(t), e.paid(t), e.paid(t)
	e.fake.SetOrderStatus(delivered.Order.ID, "delivered")
	e.fake.SetOrderStatus(stuck.Order.ID, "delivering")
	e.fake.SetOrderStatus(cancelled.Order.ID, "cancelled")
	if _, err := e.rn.ReconcileAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*renew.Request{delivered, stuck, cancelled} {
		if got, _ := e.st.Get(context.Background(), r.ID); got.State != renew.StatePaid {
			t.Fatalf("ended within its follow window: %s", got.State)
		}
	}
	e.clk.Advance(2 * time.Minute)
	if _, err := e.rn.ReconcileAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.Get(context.Background(), delivered.ID); got.State != renew.StateDelivered {
		t.Fatalf("delivered order: %s", got.State)
	}
	if got, _ := e.st.Get(context.Background(), stuck.ID); got.State != renew.StatePaidUnconfirmed || got.OrderStatus != renew.OrderDelivering {
		t.Fatalf("undelivered order: %s, %s", got.State, got.OrderStatus)
	}
	if got, _ := e.st.Get(context.Background(), cancelled.ID); got.State != renew.StateFailed || got.OrderStatus != renew.OrderCancelled {
		t.Fatalf("order cancelled after payment: %s, %s; want failed", got.State, got.OrderStatus)
	}
	left, err := e.rn.Unfinished(context.Background(), 500)
	if err != nil || len(left) != 0 {
		t.Fatalf("unfinished after the sweep: %d, %v", len(left), err)
	}
}

// awaiting stores a request waiting for approval of a real order of the
// fake, for web-front as the sample account shows it.
func (e *ovhEnv) awaiting(t *testing.T) *renew.Request {
	t.Helper()
	ctx := context.Background()
	svc, err := e.rn.OVH.Service(ctx, ovhfake.WebFrontID)
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.rn.OVH.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}})
	if err != nil {
		t.Fatal(err)
	}
	now := e.rn.Now()
	chosen := renew.Strategy{Period: renew.Period{Months: 1}, Services: []int64{ovhfake.WebFrontID}, Price: o.PriceWithoutTax}
	r := &renew.Request{ID: renew.NewID(), State: renew.StateAwaitingApproval, Channel: "C1", Service: svc, RequestedBy: "U1",
		Chosen: &chosen, Order: &o, OrderStatus: renew.OrderNotPaid, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.st.Create(ctx, r, renew.Event{Action: "ordered"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// A sweep that read a payment as stale acts on what the request is now: a
// payment sent since is not settled before its own delay, whatever the
// sweep's list said.
func TestReconcileLeavesAPaymentNotDueAlone(t *testing.T) {
	e := newOVHEnv(t)
	r := e.awaiting(t)
	ctx := context.Background()
	// A payment claimed and sent just now, which OVHcloud shows late.
	_, moved, err := e.st.Approve(ctx, r.ID, []renew.State{renew.StateAwaitingApproval}, renew.Approval{User: "U2", At: e.clk.Now()}, 1, renew.Budget{})
	if err != nil || !moved {
		t.Fatalf("claim: %v, %v", moved, err)
	}
	got, _ := e.st.Get(ctx, r.ID)
	if _, err := e.st.UpdateIfUnchanged(ctx, r.ID, got.Version, renew.Event{}, func(x *renew.Request) { x.PaySentAt = e.clk.Now() }); err != nil {
		t.Fatal(err)
	}
	got, err = e.rn.Reconcile(ctx, r.ID)
	if err != nil || got.State != renew.StatePaying {
		t.Fatalf("Reconcile of a payment sent just now: %s, %v; want it left paying", got.State, err)
	}
	if n := len(e.fake.CallsTo("GET", "/me/order/*/status")); n != 0 {
		t.Fatalf("%d status reads: a payment not due was read", n)
	}
	// RENEWBOT_STUCK_AFTER (1 minute) after the recorded time is not
	// enough: the call may have left as late as the claim's deadline, ¾ of
	// the delay after the claim, and OVHcloud gets the whole delay after
	// that.
	e.clk.Advance(time.Minute)
	if got, err = e.rn.Reconcile(ctx, r.ID); err != nil || got.State != renew.StatePaying {
		t.Fatalf("a minute after the pay call's record: %s, %v; want it left paying until a minute after the call's deadline", got.State, err)
	}
	e.clk.Advance(45 * time.Second)
	if got, err = e.rn.Reconcile(ctx, r.ID); err != nil || got.State != renew.StatePaymentFailed {
		t.Fatalf("after the delay: %s, %v; want the notPaid status to decide", got.State, err)
	}
}

// The deadline of a payment is counted on the renewer's clock: a process
// whose own clock is an hour behind the database's still pays in time.
func TestPayDeadlineIgnoresTheLocalClock(t *testing.T) {
	e := newOVHEnv(t)
	behind := func() time.Time { return time.Now().Add(-time.Hour).Round(0) } // no monotonic reading
	e.rn.Now = behind
	e.clk.Set(behind()) // OVHcloud agrees with the database
	e.rn.StuckAfter = 2 * time.Second
	r := e.awaiting(t)
	res, err := e.rn.Approve(context.Background(), renew.Action{RequestID: r.ID, User: "U2", Channel: "C1"})
	if err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("Approve with a clock an hour behind: %+v, %v", res.Request, err)
	}
}
