package renew_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// chooseYear proposes web-front (10001) for user and chooses its one-year
// strategy.
func chooseYear(t *testing.T, rn *renew.Renewer, user string) *renew.Request {
	t.Helper()
	ctx := context.Background()
	r, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: user, Query: "10001"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(r.Options, func(s renew.Strategy) bool { return s.Period.Months == 12 })
	if r, err = rn.Choose(ctx, renew.Action{RequestID: r.ID, User: user, Channel: "C1", Choice: i}); err != nil {
		t.Fatal(err)
	}
	return r
}

// paidUnconfirmed has web-front's one-year strategy chosen by U0ALICE,
// approved by U0BOB, paid, and followed to the end of its window without
// OVHcloud delivering it (fake.StatusStep must be long).
func paidUnconfirmed(t *testing.T, rn *renew.Renewer) *renew.Request {
	t.Helper()
	ctx := context.Background()
	r := chooseYear(t, rn, "U0ALICE")
	if res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"}); err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("first approval: %v, %v", res.Request.State, err)
	}
	r, err := rn.Follow(ctx, r.ID, nil)
	if err != nil || r.State != renew.StatePaidUnconfirmed {
		t.Fatalf("first request after its follow window: %v, %v; want paid_unconfirmed", r, err)
	}
	return r
}

func paidOrdersOf(fake *ovhfake.Server, service int64) int {
	n := 0
	for _, o := range fake.Orders() {
		if o.Paid() && slices.Contains(o.Services, service) {
			n++
		}
	}
	return n
}

// A payment OVHcloud has not delivered yet has not moved the service's
// expiry: a second request, proposed before or after it, must not pay
// for the same renewal again, whether the first is still followed or
// its delivery went unconfirmed. Once delivered, the new expiry shows and
// a further period may be asked.
func TestASecondRequestPaysNothingWhileTheFirstIsDelivered(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	fake.StatusStep = time.Hour // OVHcloud checks the payment for an hour
	p2, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0CAROL", Query: "10001"})
	if err != nil {
		t.Fatal(err)
	}
	r1 := paidUnconfirmed(t, rn)
	e.clk.Advance(10 * time.Minute)

	// The proposal shown before the payment: choosing it orders nothing.
	var already *renew.AlreadyRenewedError
	i := slices.IndexFunc(p2.Options, func(s renew.Strategy) bool { return s.Period.Months == 12 })
	if _, err := rn.Choose(ctx, renew.Action{RequestID: p2.ID, User: "U0CAROL", Channel: "C1", Choice: i}); !errors.As(err, &already) || already.By == nil || already.By.ID != r1.ID {
		t.Fatalf("choosing the older proposal: %v, want AlreadyRenewedError by %s", err, r1.ID)
	}
	// A new /renew is told at once.
	if _, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0CAROL", Query: "10001"}); !errors.As(err, &already) {
		t.Fatalf("a new /renew: %v, want AlreadyRenewedError", err)
	}
	if n := paidOrdersOf(fake, 10001); n != 1 {
		t.Fatalf("web-front paid %d times, want 1", n)
	}
	if n := len(fake.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Errorf("%d renew orders created, want 1 (the refused ones create none)", n)
	}

	// Delivered: the expiry moved, and a further year may be asked.
	e.clk.Advance(2 * time.Hour)
	r3 := chooseYear(t, rn, "U0CAROL")
	if res, err := rn.Approve(ctx, renew.Action{RequestID: r3.ID, User: "U0BOB", Channel: "C1"}); err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("a further year once delivered: %v, %v", res.Request.State, err)
	}
}

// stalledPay is OVHcloud as seen by a replica that, once its pay call
// has its answer, stalls (a GC pause, a stopped VM) before writing it.
type stalledPay struct {
	renew.OVHcloud
	answered chan error    // the pay call's answer, once it came
	resume   chan struct{} // closed to let the replica go on
}

func (s *stalledPay) PayOrder(ctx context.Context, orderID, methodID int64) error {
	err := s.OVHcloud.PayOrder(ctx, orderID, methodID)
	s.answered <- err
	<-s.resume
	return err
}

// A replica whose payment was refused, and that stalls before writing
// so, must not overwrite what happened meanwhile: the sweep settled the
// request, a teammate approved again on another replica, and that
// payment is under way when the first replica wakes up. The request ends
// paid, counted in the budget, holding the service: nobody can cancel it
// or pay for it again.
func TestAStalledReplicaNeverOverwritesANewerPayment(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	rn.Budget = renew.Budget{Limit: 1000 * renew.UcentsPerUnit}
	replica := func() (*renew.Renewer, *stalledPay) {
		s := &stalledPay{OVHcloud: rn.OVH, answered: make(chan error, 1), resume: make(chan struct{})}
		x := *rn
		x.OVH = s
		return &x, s
	}
	rnA, stallA := replica()
	rnB, stallB := replica()
	r := chooseYear(t, rn, "U0ALICE")

	fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 403, Message: "Payment method expired", Times: 1})
	aDone := make(chan error, 1)
	go func() {
		_, err := rnA.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"})
		aDone <- err
	}()
	if err := <-stallA.answered; err == nil {
		t.Fatal("A's pay call was not refused")
	}
	e.clk.Advance(2 * time.Minute) // past the pay call + RENEWBOT_STUCK_AFTER
	if _, err := rn.ReconcileAll(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ := rn.Get(ctx, r.ID)
	if cur.State != renew.StatePaymentFailed {
		t.Fatalf("after the sweep: %s, want payment_failed", cur.State)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := rnB.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0CAROL", Channel: "C1", Attempt: cur.Attempt})
		bDone <- err
	}()
	if err := <-stallB.answered; err != nil {
		t.Fatalf("B's pay call: %v", err)
	}
	close(stallA.resume) // A writes its refusal while B's payment is under way
	if err := <-aDone; err == nil {
		t.Error("A reported no failure")
	}
	close(stallB.resume)
	if err := <-bDone; err != nil {
		t.Errorf("B's payment: %v", err)
	}

	final, _ := rn.Get(ctx, r.ID)
	if final.State != renew.StatePaid && final.State != renew.StateDelivered && final.State != renew.StatePaidUnconfirmed {
		t.Fatalf("order paid by B, but the request is %s", final.State)
	}
	sp, err := rn.Spending(ctx, rn.ThisMonth())
	if err != nil || sp.Total != final.Amount().Ucents {
		t.Errorf("spent this month %d, want the order's %d (%v)", sp.Total, final.Amount().Ucents, err)
	}
	if _, err := rn.Cancel(ctx, renew.Action{RequestID: r.ID, User: "U0ALICE", Channel: "C1"}); err == nil {
		t.Error("a paid request was cancelled")
	}
	if n := paidOrdersOf(fake, 10001); n != 1 {
		t.Errorf("web-front paid %d times, want 1", n)
	}
}

// A pay call whose outcome was unknown is settled "not paid" (OVHcloud
// showed it late); the order then shows documentsRequested, which says
// an earlier payment may have gone through. Approving again pays nothing
// and leaves the request unknown, holding the service and counted in the
// budget, as the sweep would.
func TestApprovingAnOrderThatMayBePaidPaysNothing(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	rn.Budget = renew.Budget{Limit: 200 * renew.UcentsPerUnit}
	fake.PaymentVisibleAfter = 5 * time.Minute
	r := chooseYear(t, rn, "U0ALICE")
	fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 500, Processed: true, Times: 1})
	if res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"}); !errors.Is(err, renew.ErrPaymentUnknown) {
		t.Fatalf("approve: %s, %v; want the payment unknown", res.Request.State, err)
	}
	e.clk.Advance(2 * time.Minute)
	if _, err := rn.ReconcileAll(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ = rn.Get(ctx, r.ID)
	if r.State != renew.StatePaymentFailed {
		t.Fatalf("after the sweep: %s, want payment_failed (the payment not visible yet)", r.State)
	}
	fake.SetOrderStatus(r.Order.ID, "documentsRequested")
	pays := len(fake.CallsTo("POST", "/me/order/*/pay"))
	res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1", Attempt: r.Attempt})
	if !errors.Is(err, renew.ErrPaymentPending) || res.Request.State != renew.StateUnknown {
		t.Fatalf("approving again: %s, %v; want unknown, ErrPaymentPending", res.Request.State, err)
	}
	if n := len(fake.CallsTo("POST", "/me/order/*/pay")); n != pays {
		t.Errorf("%d pay calls made, want none", n-pays)
	}
	if h, _ := e.st.Holder(ctx, 10001); h == nil || h.ID != r.ID {
		t.Errorf("web-front held by %v, want the request", h)
	}
	if sp, _ := rn.Spending(ctx, rn.ThisMonth()); sp.Total != r.Amount().Ucents {
		t.Errorf("spent this month %d, want the order's %d", sp.Total, r.Amount().Ucents)
	}
}

// postingOVH is OVHcloud while the bot records the request's message ts
// (a message whose ts was lost is adopted) during the status read before
// the pay call, and again during the pay call.
type postingOVH struct {
	renew.OVHcloud
	post func()
}

func (o *postingOVH) OrderStatus(ctx context.Context, id int64) (renew.OrderStatus, error) {
	o.post()
	return o.OVHcloud.OrderStatus(ctx, id)
}

func (o *postingOVH) PayOrder(ctx context.Context, orderID, methodID int64) error {
	err := o.OVHcloud.PayOrder(ctx, orderID, methodID)
	o.post()
	return err
}

// Writes that leave the payment's claim as it was, like recording the
// message ts, do not stop the claimer: the pay call goes out and its
// outcome is written, rather than the request staying paying and the
// approver being told the payment could not be recorded.
func TestAMessageTsRecordedDuringThePaymentIsNoObstacle(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	r := chooseYear(t, rn, "U0ALICE")
	posts := 0
	x := *rn
	x.OVH = &postingOVH{OVHcloud: rn.OVH, post: func() {
		posts++
		if _, err := rn.Posted(ctx, r.ID, fmt.Sprintf("1700000000.00000%d", posts)); err != nil {
			t.Errorf("record the message ts: %v", err)
		}
	}}
	res, err := x.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"})
	if err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("approve: %s, %v; want paid", res.Request.State, err)
	}
	if posts < 2 {
		t.Fatalf("the message ts was recorded %d times, want before and during the pay call", posts)
	}
	got, _ := rn.Get(ctx, r.ID)
	if got.State != renew.StatePaid || got.MessageTS != fmt.Sprintf("1700000000.00000%d", posts) {
		t.Errorf("stored: %s, ts %q; want paid with the last ts", got.State, got.MessageTS)
	}
	if n := paidOrdersOf(fake, 10001); n != 1 {
		t.Errorf("web-front paid %d times, want 1", n)
	}
}

// A payment whose delivery went unconfirmed holds its renewal until
// OVHcloud cancels its order (refusing the payment after all): the order
// renewed nothing, so the request ends failed, stops counting against the
// budget, and the service may be renewed from the same expiry again.
func TestAnOrderCancelledAfterPaymentFreesTheRenewal(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	rn.Budget = renew.Budget{Limit: 1000 * renew.UcentsPerUnit}
	fake.StatusStep = time.Hour
	p2, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0CAROL", Query: "10001"})
	if err != nil {
		t.Fatal(err)
	}
	r1 := paidUnconfirmed(t, rn)
	i := slices.IndexFunc(p2.Options, func(s renew.Strategy) bool { return s.Period.Months == 12 })
	if _, err := rn.Choose(ctx, renew.Action{RequestID: p2.ID, User: "U0CAROL", Channel: "C1", Choice: i}); !errors.Is(err, renew.ErrRenewedElsewhere) {
		t.Fatalf("choosing while the first payment stands: %v, want already renewed", err)
	}

	fake.SetOrderStatus(r1.Order.ID, "cancelled")
	r2 := chooseYear(t, rn, "U0CAROL")
	if got, _ := rn.Get(ctx, r1.ID); got.State != renew.StateFailed || got.Error == "" {
		t.Fatalf("the cancelled order's request: %s %q, want failed with a reason", got.State, got.Error)
	}
	res, err := rn.Approve(ctx, renew.Action{RequestID: r2.ID, User: "U0BOB", Channel: "C1"})
	if err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("renewing again: %s, %v; want paid", res.Request.State, err)
	}
	if sp, _ := rn.Spending(ctx, rn.ThisMonth()); sp.Total != res.Request.Amount().Ucents {
		t.Errorf("spent this month %d, want only the second order's %d", sp.Total, res.Request.Amount().Ucents)
	}
}

// interleave is OVHcloud as seen by one replica while another acts at the
// same moment: other runs during the first status read of order id.
type interleave struct {
	renew.OVHcloud
	id    int64
	other func()
}

func (o *interleave) OrderStatus(ctx context.Context, id int64) (renew.OrderStatus, error) {
	if id == o.id && o.other != nil {
		f := o.other
		o.other = nil
		f()
	}
	return o.OVHcloud.OrderStatus(ctx, id)
}

// Two /renew on two replicas find the renewal held by a payment whose
// order OVHcloud cancelled since: one ends that request, and the other,
// whose own write of it loses, is not refused for a renewal now free.
func TestTwoReplicasFindTheCancelledPaymentTogether(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	fake.StatusStep = time.Hour
	r1 := paidUnconfirmed(t, rn)
	fake.SetOrderStatus(r1.Order.ID, "cancelled")
	replica := *rn
	replica.OVH = &interleave{OVHcloud: rn.OVH, id: r1.Order.ID, other: func() {
		if _, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0DAVE", Query: "10001"}); err != nil {
			t.Errorf("the other replica's /renew: %v", err)
		}
	}}
	if _, err := replica.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0CAROL", Query: "10001"}); err != nil {
		t.Fatalf("this replica's /renew: %v, want the strategies", err)
	}
	if got, _ := rn.Get(ctx, r1.ID); got.State != renew.StateFailed {
		t.Fatalf("the cancelled payment's request is %s, want failed", got.State)
	}
}
