package renew_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// sweep runs the reconciler, as the replica holding the background lease
// does, and returns request id as it stands then.
func (e *ovhEnv) sweep(t *testing.T, id string) *renew.Request {
	t.Helper()
	ctx := context.Background()
	if _, err := e.rn.ReconcileAll(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := e.rn.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// spentIs checks that the month's payments add up to want.
func (e *ovhEnv) spentIs(t *testing.T, want int64) {
	t.Helper()
	if sp, _ := e.rn.Spending(context.Background(), e.rn.ThisMonth()); sp.Total != want {
		t.Errorf("spent this month %d, want %d", sp.Total, want)
	}
}

// latePay is OVHcloud reached late: the pay call leaves only after the
// clock moved on (a clock sync, a login, a slow network inside the call),
// goes through, and its answer is lost.
type latePay struct {
	renew.OVHcloud
	clk  *fakeclock.Clock
	late time.Duration
}

func (l *latePay) PayOrder(ctx context.Context, orderID, methodID int64) error {
	l.clk.Advance(l.late)
	if err := l.OVHcloud.PayOrder(ctx, orderID, methodID); err != nil {
		return err
	}
	return errors.New("read tcp: connection reset by peer")
}

// slowMethod is a default payment method read that takes its time.
type slowMethod struct {
	renew.OVHcloud
	clk  *fakeclock.Clock
	slow time.Duration
}

func (s *slowMethod) DefaultPaymentMethod(ctx context.Context) (int64, error) {
	s.clk.Advance(s.slow)
	return s.OVHcloud.DefaultPaymentMethod(ctx)
}

// A pay call that leaves 40 s after the time recorded for it, and that
// OVHcloud shows only 30 s after it went through, is not settled from the
// recorded time: a sweep and a fresh approval a minute after the record
// pay nothing more, and the payment is found once OVHcloud shows it.
func TestAPayCallThatLeftLateIsNotSettledEarly(t *testing.T) {
	e := newOVHEnv(t) // RENEWBOT_STUCK_AFTER: 1 minute
	ctx, fake, rn := context.Background(), e.fake, e.rn
	fake.PaymentVisibleAfter = 30 * time.Second
	rn.OVH = &latePay{OVHcloud: rn.OVH, clk: e.clk, late: 40 * time.Second}
	r := chooseYear(t, rn, "U0ALICE")
	if _, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"}); !errors.Is(err, renew.ErrPaymentUnknown) {
		t.Fatalf("approve: %v, want the payment unknown", err)
	}
	r, _ = rn.Get(ctx, r.ID)
	e.clk.Set(r.PaySentAt.Add(time.Minute)) // 20 s after the call left
	if r = e.sweep(t, r.ID); r.State != renew.StateUnknown {
		t.Fatalf("a minute after the recorded time: %s, want still unknown", r.State)
	}
	if _, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1", Attempt: r.Attempt}); err == nil {
		t.Fatal("a fresh approval of an unknown payment was accepted")
	}
	e.clk.Set(r.ClaimedAt.Add(45*time.Second + time.Minute)) // the call's deadline, then the whole delay
	if r = e.sweep(t, r.ID); !r.State.Counts() || r.State == renew.StateUnknown {
		t.Fatalf("once OVHcloud shows it: %s, want paid", r.State)
	}
	if n := len(fake.CallsTo("POST", "/me/order/*/pay")); n != 1 {
		t.Errorf("%d pay calls, want 1", n)
	}
}

// The default payment method is read before the pay call's time is
// recorded, alongside the order status: only the pay call itself follows
// the record, and a slow read of the method never eats into OVHcloud's
// delay.
func TestThePaymentMethodIsReadBeforeThePayCallIsRecorded(t *testing.T) {
	e := newOVHEnv(t)
	ctx, rn := context.Background(), e.rn
	rn.OVH = &slowMethod{OVHcloud: rn.OVH, clk: e.clk, slow: 20 * time.Second}
	r := chooseYear(t, rn, "U0ALICE")
	claimed := e.clk.Now()
	res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"})
	if err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("approve: %v, %v", res.Request.State, err)
	}
	if sent := res.Request.PaySentAt; sent.Before(claimed.Add(20 * time.Second)) {
		t.Errorf("pay call recorded at %s, before the payment method was read (%s)", sent.Format(time.TimeOnly), claimed.Add(20*time.Second).Format(time.TimeOnly))
	}
}

// A pay call refused because the order is paid already (an earlier call
// OVHcloud showed late) is no failure: the request stays unknown until
// OVHcloud shows the payment, then ends paid, counted in the budget all
// along, and the renewal cannot be paid again by cancelling it and asking
// anew.
func TestARefusalOfAnOrderPaidAlreadyIsAPayment(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	rn.Budget = renew.Budget{Limit: 1000 * renew.UcentsPerUnit}
	fake.PaymentVisibleAfter = 5 * time.Minute // longer than the sweep waits
	fake.StatusStep = time.Hour
	r := chooseYear(t, rn, "U0ALICE")
	fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 500, Processed: true, Times: 1})
	if _, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"}); !errors.Is(err, renew.ErrPaymentUnknown) {
		t.Fatalf("approve: %v, want the payment unknown", err)
	}
	e.clk.Advance(2 * time.Minute)
	if r = e.sweep(t, r.ID); r.State != renew.StatePaymentFailed {
		t.Fatalf("after the sweep: %s, want payment_failed (OVHcloud does not show the payment yet)", r.State)
	}
	// Approved again while OVHcloud still does not show the payment: its
	// pay route refuses (already paid), and the request goes back to
	// unknown, held and counted, not to a failure anyone could cancel.
	res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1", Attempt: r.Attempt})
	if !errors.Is(err, renew.ErrPaymentUnknown) || res.Request.State != renew.StateUnknown {
		t.Fatalf("approving again: %s, %v; want unknown", res.Request.State, err)
	}
	if _, err := rn.Cancel(ctx, renew.Action{RequestID: r.ID, User: "U0ALICE", Channel: "C1"}); err == nil {
		t.Error("a request whose order OVHcloud says is paid was cancelled")
	}
	e.spentIs(t, r.Amount().Ucents)
	e.clk.Advance(5 * time.Minute) // OVHcloud shows it now
	if r = e.sweep(t, r.ID); !r.State.Counts() || r.State == renew.StateUnknown {
		t.Fatalf("once OVHcloud shows the payment: %s, want paid", r.State)
	}
	e.spentIs(t, r.Amount().Ucents)
	if _, err := rn.Cancel(ctx, renew.Action{RequestID: r.ID, User: "U0ALICE", Channel: "C1"}); err == nil {
		t.Error("a paid request was cancelled")
	}
	if n := paidOrdersOf(fake, 10001); n != 1 {
		t.Errorf("web-front paid %d times, want 1", n)
	}
}

// panelPays is a teammate paying the order in the Control Panel right
// after the bot read its status.
type panelPays struct {
	renew.OVHcloud
	once sync.Once
}

func (p *panelPays) OrderStatus(ctx context.Context, id int64) (renew.OrderStatus, error) {
	st, err := p.OVHcloud.OrderStatus(ctx, id)
	p.once.Do(func() {
		method, _ := p.OVHcloud.DefaultPaymentMethod(ctx)
		_ = p.OVHcloud.PayOrder(ctx, id, method)
	})
	return st, err
}

// An order paid in the Control Panel between the bot's status read and its
// pay call is refused by OVHcloud; the bot reads the status again and
// records the payment, instead of a failure that would free the renewal.
// When OVHcloud shows the payment only later, the request stays unknown,
// held and counted, until it does: nobody can cancel it and renew again.
func TestAnOrderPaidInTheControlPanelMeanwhileIsPaid(t *testing.T) {
	for _, visibleAfter := range []time.Duration{0, 30 * time.Second} {
		t.Run(fmt.Sprintf("shown after %s", visibleAfter), func(t *testing.T) {
			e := newOVHEnv(t)
			ctx, fake, rn := context.Background(), e.fake, e.rn
			rn.Budget = renew.Budget{Limit: 1000 * renew.UcentsPerUnit}
			fake.PaymentVisibleAfter = visibleAfter
			fake.StatusStep = time.Hour
			bot := rn.OVH
			r := chooseYear(t, rn, "U0ALICE")
			rn.OVH = &panelPays{OVHcloud: bot}
			res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"})
			rn.OVH = bot
			if visibleAfter == 0 {
				if err != nil || res.Request.State != renew.StatePaid {
					t.Fatalf("approve: %s, %v; want paid", res.Request.State, err)
				}
			} else {
				var refused *renew.PayRefusedError
				if !errors.As(err, &refused) || res.Request.State != renew.StateUnknown {
					t.Fatalf("approve: %s, %v; want unknown, the pay call refused", res.Request.State, err)
				}
				if _, err := rn.Cancel(ctx, renew.Action{RequestID: r.ID, User: "U0ALICE", Channel: "C1"}); err == nil {
					t.Fatal("a request whose pay call was refused was cancelled before the order status could be trusted")
				}
				if _, err := rn.Propose(ctx, renew.ProposeInput{Channel: "C1", User: "U0ALICE", Query: "10001"}); err == nil {
					t.Fatal("web-front could be renewed again while its payment is unknown")
				}
				e.clk.Advance(2 * time.Minute)
				if r = e.sweep(t, r.ID); !r.State.Counts() || r.State == renew.StateUnknown {
					t.Fatalf("once OVHcloud shows the payment: %s, want paid", r.State)
				}
			}
			e.spentIs(t, r.Amount().Ucents)
			if n := paidOrdersOf(fake, 10001); n != 1 {
				t.Errorf("web-front paid %d times, want 1", n)
			}
		})
	}
}

// A card the bank refuses: nothing was paid, and after the order status
// is trusted (not paid) the request is approvable again; the next
// approval pays once. Until then it is held, as any refusal is.
func TestACardRefusalIsApprovableOnceTheStatusIsTrusted(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	r := chooseYear(t, rn, "U0ALICE")
	fake.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 403, Message: "The bank refused the payment", Times: 1})
	if _, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"}); !errors.Is(err, renew.ErrPaymentUnknown) {
		t.Fatalf("approve: %v, want unknown", err)
	}
	r, _ = rn.Get(ctx, r.ID)
	if _, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1", Attempt: r.Attempt}); err == nil {
		t.Fatal("approved again before the order status could be trusted")
	}
	e.clk.Set(r.ClaimedAt.Add(45*time.Second + time.Minute))
	if r = e.sweep(t, r.ID); r.State != renew.StatePaymentFailed {
		t.Fatalf("once the status may be trusted: %s, want payment_failed", r.State)
	}
	res, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1", Attempt: r.Attempt})
	if err != nil || res.Request.State != renew.StatePaid {
		t.Fatalf("approving again: %s, %v; want paid", res.Request.State, err)
	}
	if n := len(fake.CallsTo("POST", "/me/order/*/pay")); n != 2 {
		t.Errorf("%d pay calls, want the refused one and the one that paid", n)
	}
}

// idless answers a service read without its serviceId, its expiry moved a
// year on (renewed in the Control Panel meanwhile).
type idless struct{ renew.OVHcloud }

func (o idless) Service(ctx context.Context, id int64) (renew.Service, error) {
	svc, err := o.OVHcloud.Service(ctx, id)
	svc.ID = 0
	svc.Expiration = svc.Expiration.AddDate(1, 0, 0)
	return svc, err
}

// The check before paying reads each service by the id it asked for: an
// answer that names no service still shows the expiry moved, and nothing
// is paid.
func TestTheCheckBeforePayingKeysServicesByTheIdAsked(t *testing.T) {
	e := newOVHEnv(t)
	ctx, fake, rn := context.Background(), e.fake, e.rn
	r := chooseYear(t, rn, "U0ALICE")
	rn.OVH = idless{rn.OVH}
	_, err := rn.Approve(ctx, renew.Action{RequestID: r.ID, User: "U0BOB", Channel: "C1"})
	var moved *renew.RenewedElsewhereError
	if !errors.As(err, &moved) {
		t.Fatalf("approve: %v, want renewed elsewhere", err)
	}
	if n := len(fake.CallsTo("POST", "/me/order/*/pay")); n != 0 {
		t.Errorf("%d pay calls, want none", n)
	}
}
