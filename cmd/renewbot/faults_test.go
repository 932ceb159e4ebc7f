package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// Faults: OVHcloud and Slack misbehaving route by route, and what the
// people in the channel see. Every test runs the whole program in the
// process (the harness) with OVH_TIMEOUT at its minimum, 1s, so a hung
// call costs one second.

// fastTimeout is the environment of the fault tests: calls time out after
// 1 s, and the background reconciler stays out of the way unless a test
// asks for it.
func fastTimeout(extra map[string]string) map[string]string {
	env := map[string]string{"OVH_TIMEOUT": "1s", "RENEWBOT_SWEEP_EVERY": "1h"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// ovhFault is one misbehaviour, named for the test output.
type ovhFault struct {
	name  string
	fault ovhfake.Fault
}

// transient are faults that pass after a try or two: a GET retried with
// backoff gets through.
var transient = []ovhFault{
	{"500 twice", ovhfake.Fault{Status: 500, Times: 2}},
	{"503 once", ovhfake.Fault{Status: 503, Class: "Server::ServiceUnavailable", Times: 1}},
	{"429 Retry-After 1s", ovhfake.Fault{Status: 429, RetryAfter: time.Second, Times: 1}},
	{"slow 400ms", ovhfake.Fault{Delay: 400 * time.Millisecond}},
	{"hang past the timeout", ovhfake.Fault{Hang: true, Times: 1}},
	{"connection reset", ovhfake.Fault{Reset: true, Times: 1}},
}

// tries is how many calls a GET with fault f should take: the failing
// ones, then the one that passes.
func (f ovhFault) tries() int {
	if f.fault.Times == 0 {
		return 1 // slow, not failing
	}
	return f.fault.Times + 1
}

// newMessage runs /renew query and returns the new message with its
// Choose buttons.
func (h *harness) newMessage(query string) (int, string) {
	h.t.Helper()
	n := len(h.slack.Messages(channel)) + 1
	h.command(alice, query)
	return n, h.message(n, "Choose").TS
}

// lastOrder is the id of the newest order on the fake.
// deliverPaid has OVHcloud deliver every paid order, moving its
// services' expiry: until then, a further renewal of them is refused as
// already paid for.
func (h *harness) deliverPaid() {
	for _, o := range h.ovh.Orders() {
		if o.Paid() {
			h.ovh.SetOrderStatus(o.ID, "delivered")
		}
	}
}

func (h *harness) lastOrder() int64 {
	h.t.Helper()
	orders := h.ovh.Orders()
	if len(orders) == 0 {
		h.t.Fatal("no order on OVHcloud")
	}
	return orders[len(orders)-1].ID
}

// GETs on the way to the proposal are retried: the message is posted as
// if nothing happened, after exactly the calls the fault needed.
func TestProposalGETFaultsAreRetried(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	for _, route := range []string{"GET /services", "GET /services/*", "GET /service/*/renew"} {
		for _, f := range transient {
			t.Run(route+" "+f.name, func(t *testing.T) {
				h.t = t
				h.ovh.ClearFaults()
				h.ovh.ResetCalls()
				h.ovh.Inject(route, f.fault)
				n, _ := h.newMessage("vps-1.example.net")
				h.message(n, "vps-1.example.net", "1 year", "Choose")
				method, pattern, _ := strings.Cut(route, " ")
				if got := len(h.ovh.CallsTo(method, pattern)); got != f.tries() {
					t.Errorf("%s: %d calls, want %d", route, got, f.tries())
				}
			})
		}
	}
	h.t = t
}

// GETs on the way to the payment (the order status, the default payment
// method) are retried, and the order is paid once.
func TestPaymentGETFaultsAreRetried(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	for _, route := range []string{"GET /me/order/*/status", "GET /me/payment/method"} {
		for _, f := range transient {
			t.Run(route+" "+f.name, func(t *testing.T) {
				h.t = t
				h.ovh.ClearFaults()
				h.deliverPaid()
				m := h.orderFor(alice, "vps-1.example.net", "1 year")
				n := len(h.slack.Messages(channel))
				h.ovh.ResetCalls()
				// Only the next call: following the paid order reads the
				// status again.
				h.ovh.Inject(route, f.fault)
				h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
				h.message(n, "Paid", bob)
				if got := h.payCalls(); got != 1 {
					t.Fatalf("%d pay calls, want 1", got)
				}
				method, pattern, _ := strings.Cut(route, " ")
				if got := len(h.ovh.CallsTo(method, pattern)); got < f.tries() {
					t.Errorf("%s: %d calls, want at least %d", route, got, f.tries())
				}
			})
		}
	}
	h.t = t
}

// A malformed answer to a GET (a proxy's error page, a cut body) is
// retried like any failed GET: the flow goes on, and a payment is made once.
func TestMalformedGETAnswers(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	malformed := ovhfake.Fault{Malformed: true, Times: 1}
	for _, route := range []string{"GET /services", "GET /services/*", "GET /service/*/renew"} {
		t.Run(route, func(t *testing.T) {
			h.t = t
			h.ovh.ResetCalls()
			h.ovh.Inject(route, malformed)
			msgs := len(h.slack.Messages(channel))
			h.command(alice, "vps-1.example.net")
			h.message(msgs+1, "Choose")
			method, pattern, _ := strings.Cut(route, " ")
			if n := len(h.ovh.CallsTo(method, pattern)); n != 2 {
				t.Errorf("%d calls, want 2 (one unreadable, one retried)", n)
			}
		})
	}
	for _, route := range []string{"GET /me/order/*/status", "GET /me/payment/method"} {
		t.Run(route, func(t *testing.T) {
			h.t = t
			h.deliverPaid()
			m := h.orderFor(alice, "vps-1.example.net", "1 year")
			n := len(h.slack.Messages(channel))
			h.ovh.ResetCalls()
			h.ovh.Inject(route, malformed)
			h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
			h.message(n, "Paid")
			if got := h.payCalls(); got != 1 {
				t.Fatalf("%d pay calls, want 1", got)
			}
		})
	}
	h.t = t
}

// A GET that keeps failing is given up within bounds, and the person who
// typed the command is told in plain words; nothing is posted.
func TestPersistentGETFailuresAreTold(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	for _, c := range []struct {
		name  string
		fault ovhfake.Fault
		says  string
	}{
		{"500", ovhfake.Fault{Status: 500}, "Internal server error (query id"},
		{"hang", ovhfake.Fault{Hang: true}, "did not answer in time"},
		{"reset", ovhfake.Fault{Reset: true}, "did not answer in time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			h.ovh.ClearFaults()
			h.ovh.ResetCalls()
			h.ovh.Inject("GET /service/*/renew", c.fault)
			before := len(h.slack.Responses(alice))
			start := time.Now()
			h.command(alice, "vps-1.example.net")
			h.eventually("an answer", func() bool { return len(h.slack.Responses(alice)) > before })
			r := h.slack.Responses(alice)[before]
			if !strings.Contains(r.Text, c.says) {
				t.Errorf("told %q, want it to say %q", r.Text, c.says)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("gave up after %v", d)
			}
			// 4 attempts; Go's transport may resend a GET once on its own
			// when a reused connection is cut.
			if n := len(h.ovh.CallsTo("GET", "/service/*/renew")); n < 2 || n > 8 {
				t.Errorf("%d tries, want 2 to 8", n)
			}
		})
	}
	h.t = t
	if n := len(h.slack.Messages(channel)); n != 0 {
		t.Fatalf("%d channel messages although OVHcloud never answered", n)
	}
}

// POST /service/{id}/renew creates an order: it is sent exactly once
// whatever happens, and the person is told whether an order may exist.
func TestRenewOrderPOSTIsNeverRetried(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	for _, c := range []struct {
		name  string
		fault ovhfake.Fault
		says  string // in the ephemeral answer
		shown string // on the message
	}{
		{"500", ovhfake.Fault{Status: 500, Times: 1}, "one may exist, unpaid", "The renewal failed"},
		{"502 from a proxy", ovhfake.Fault{Status: 502, Message: "<html>Bad Gateway</html>", Times: 1}, "one may exist, unpaid", "The renewal failed"},
		{"429 Retry-After 1s", ovhfake.Fault{Status: 429, RetryAfter: time.Second, Times: 1}, "OVHcloud refused", "The renewal failed"},
		{"hang past the timeout", ovhfake.Fault{Hang: true, Times: 1}, "one may exist, unpaid", "The renewal failed"},
		{"connection reset", ovhfake.Fault{Reset: true, Times: 1}, "one may exist, unpaid", "The renewal failed"},
		{"malformed JSON", ovhfake.Fault{Malformed: true, Times: 1}, "one may exist, unpaid", "The renewal failed"},
		{"slow 400ms", ovhfake.Fault{Delay: 400 * time.Millisecond, Times: 1}, "", "Approve and pay"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			h.ovh.ClearFaults()
			h.ovh.ResetCalls()
			n, ts := h.newMessage("vps-1.example.net")
			m := h.message(n)
			h.ovh.Inject("POST /service/*/renew", c.fault)
			before := len(h.slack.Responses(alice))
			h.click(alice, ts, "choose", h.find(m, "choose", "1 year").Value)
			m = h.message(n, c.shown)
			if c.says != "" {
				h.eventually("the answer", func() bool { return len(h.slack.Responses(alice)) > before })
				if r := h.slack.Responses(alice)[before]; !strings.Contains(r.Text, c.says) {
					t.Errorf("told %q, want %q", r.Text, c.says)
				}
				if hasAction(m, "approve") || hasAction(m, "choose") {
					t.Error("a failed order still has buttons")
				}
			}
			settle()
			if got := len(h.ovh.CallsTo("POST", "/service/*/renew")); got != 1 {
				t.Fatalf("%d renew calls, want exactly 1", got)
			}
		})
	}
	h.t = t
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls", n)
	}
}

// payFaults are the pay call's failures that leave its outcome unknown.
var payFaults = []ovhFault{
	{"500", ovhfake.Fault{Status: 500, Times: 1}},
	{"hang past the timeout", ovhfake.Fault{Hang: true, Times: 1}},
	{"connection reset", ovhfake.Fault{Reset: true, Times: 1}},
}

// payUnknown orders and approves with the pay call failing as f says, and
// waits until the message says the outcome is unknown.
func (h *harness) payUnknown(f ovhfake.Fault) (int, string, string) {
	h.t.Helper()
	m := h.orderFor(alice, "vps-1.example.net", "1 year")
	n := len(h.slack.Messages(channel))
	approve := h.find(m, "approve", "").Value
	h.ovh.ResetCalls()
	h.ovh.Inject("POST /me/order/*/pay", f)
	h.click(bob, m.TS, "approve", approve)
	m = h.message(n, "Payment outcome unknown", "Nothing will be paid again")
	if hasAction(m, "approve") {
		h.t.Error("a payment of unknown outcome can be approved again before it is checked")
	}
	h.ephemeral(bob, "can't tell yet whether OVHcloud took the payment")
	return n, m.TS, approve
}

// settleAfter is RENEWBOT_STUCK_AFTER in the tests of unknown payments;
// settleWait is how long the bot waits before it trusts the order status
// after a pay call that got no answer: that delay after the call's
// deadline, ¾ of it after the claim.
const (
	settleAfter = 2 * time.Second
	settleWait  = settleAfter*3/4 + settleAfter
)

// settleRefusal waits until the order status of a payment OVHcloud refused
// may be trusted, then has user click the message's old approval button:
// that click settles it, not paid, and pays nothing; the message offers
// Approve and pay again, which it returns.
func (h *harness) settleRefusal(n int, ts, approve, user string) slackfake.Message {
	h.t.Helper()
	time.Sleep(settleWait)
	h.click(user, ts, "approve", approve)
	h.ephemeral(user, "waits for approval again")
	return h.message(n, "did not go through", "Approve and pay")
}

// The pay call fails without an answer: the request is unknown. A click
// right away is told to wait (OVHcloud may still be processing the
// payment); one after the settling delay reads the status, notPaid, and
// makes the request approvable again; only the next click pays, once.
func TestPayUnknownThenNotPaid(t *testing.T) {
	h := newHarness(t, fastTimeout(map[string]string{"RENEWBOT_STUCK_AFTER": settleAfter.String()}))
	for _, f := range payFaults {
		t.Run(f.name, func(t *testing.T) {
			h.t = t
			h.ovh.ClearFaults()
			h.deliverPaid()
			n, ts, approve := h.payUnknown(f.fault)
			status := len(h.ovh.CallsTo("GET", "/me/order/*/status"))
			h.click(carol, ts, "approve", approve)
			h.ephemeral(carol, "still being checked")
			if got := len(h.ovh.CallsTo("GET", "/me/order/*/status")); got != status {
				t.Fatal("the order status was trusted right after a pay call with no answer")
			}
			time.Sleep(settleWait)
			h.click(carol, ts, "approve", approve)
			h.ephemeral(carol, "waits for approval again")
			m := h.message(n, "did not go through", "Approve and pay")
			if got := h.payCalls(); got != 1 {
				t.Fatalf("%d pay calls after settling, want 1 (the lost one): settling never pays", got)
			}
			// A new round of approval: the updated message's button.
			h.click(carol, m.TS, "approve", h.find(m, "approve", "").Value)
			h.message(n, "Paid", carol)
			settle()
			if got := h.payCalls(); got != 2 {
				t.Fatalf("%d pay calls, want 2 (the lost one, then one that paid)", got)
			}
			if o, _ := h.ovh.Order(h.lastOrder()); !o.Paid() {
				t.Fatal("the fake's order is not paid")
			}
		})
	}
	h.t = t
}

// The pay call fails without an answer but OVHcloud took the money (its
// status is checking): a click after the settling delay finds it paid and
// pays nothing.
func TestPayUnknownThenPaid(t *testing.T) {
	h := newHarness(t, fastTimeout(map[string]string{"RENEWBOT_STUCK_AFTER": settleAfter.String()}))
	for _, f := range payFaults {
		t.Run(f.name, func(t *testing.T) {
			h.t = t
			h.ovh.ClearFaults()
			h.deliverPaid()
			// OVHcloud takes the money; the answer is lost.
			fault := f.fault
			fault.Processed = true
			n, ts, approve := h.payUnknown(fault)
			h.ovh.SetOrderStatus(h.lastOrder(), "checking")
			time.Sleep(settleWait)
			h.click(carol, ts, "approve", approve)
			h.ephemeral(carol, "already paid")
			m := h.message(n, "Paid", "checking")
			if hasAction(m, "approve") {
				t.Error("a paid request can be approved again")
			}
			settle()
			if got := h.payCalls(); got != 1 {
				t.Fatalf("%d pay calls, want exactly 1", got)
			}
		})
	}
	h.t = t
}

// The background reconciler settles an unknown payment without anyone
// clicking: from the order status, to approvable again (notPaid) or paid.
func TestReconcilerSettlesUnknownPayments(t *testing.T) {
	h := newHarness(t, map[string]string{"OVH_TIMEOUT": "1s", "RENEWBOT_SWEEP_EVERY": "300ms", "RENEWBOT_STUCK_AFTER": "1s"})
	// Not paid: approvable again, with the reason.
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 500, Times: 1})
	m := h.orderFor(alice, "vps-1.example.net", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	m = h.message(1, "The payment failed", "did not go through", "Approve and pay")
	if !wasShown(h, m.TS, "Payment outcome unknown") {
		t.Error("the message never said the outcome was unknown")
	}
	// Paid: OVHcloud took the money while the pay call hung until the
	// timeout.
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Hang: true, Times: 1})
	m2 := h.orderFor(alice, "api-back", "1 year")
	h.click(bob, m2.TS, "approve", h.find(m2, "approve", "").Value)
	h.eventually("the second pay call", func() bool { return h.payCalls() == 2 })
	h.ovh.SetOrderStatus(h.lastOrder(), "delivering")
	h.message(2, "Paid", "delivering")
	if !wasShown(h, m2.TS, "Payment outcome unknown") {
		t.Error("the message never said the outcome was unknown")
	}
	settle()
	if n := h.payCalls(); n != 2 {
		t.Fatalf("%d pay calls, want 2 (none by the reconciler)", n)
	}
}

// A pay call answered 200 with a body that is not JSON: OVHcloud's pay
// answer is void and a 200 says it paid, so the request is paid; it is
// not paid again.
func TestPayAnsweredWithAnUnreadableBody(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Malformed: true, Times: 1})
	m := h.orderFor(alice, "vps-1.example.net", "1 year")
	approve := h.find(m, "approve", "").Value
	h.click(bob, m.TS, "approve", approve)
	h.message(1, "Paid", bob)
	h.click(carol, m.TS, "approve", approve)
	h.ephemeral(carol, "already paid")
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls, want 1", n)
	}
}

// wasShown reports whether some chat.update of the message ts said want.
func wasShown(h *harness, ts, want string) bool {
	for _, c := range h.slack.Calls("chat.update") {
		if c.Form.Get("ts") == ts && strings.Contains(c.Form.Get("blocks"), want) {
			return true
		}
	}
	return false
}

// A refused pay call (429) certainly did not pay: the request may be
// approved again at once, and the next approval pays.
func TestPayRateLimitedIsApprovableAgain(t *testing.T) {
	h := newHarness(t, fastTimeout(nil))
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
	m := h.orderFor(alice, "vps-1.example.net", "1 year")
	approve := h.find(m, "approve", "").Value
	h.click(bob, m.TS, "approve", approve)
	m = h.message(1, "The payment failed", "Approve and pay")
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls after a 429, want 1: a pay call is never retried", n)
	}
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	if n := h.payCalls(); n != 2 {
		t.Fatalf("%d pay calls, want 2", n)
	}
}

// Slack rate-limits or fails chat.postMessage and chat.update a couple of
// times: the bot retries within bounds, the message ends in the right
// state, and the logs carry Slack's error code.
func TestSlackFailuresAreRetried(t *testing.T) {
	for _, c := range []struct {
		method string
		fault  slackfake.Fault
	}{
		{"chat.postMessage", slackfake.Fault{Error: "ratelimited", RetryAfter: time.Second, Times: 2}},
		{"chat.postMessage", slackfake.Fault{Error: "internal_error", Times: 2}},
		{"chat.update", slackfake.Fault{Error: "ratelimited", RetryAfter: time.Second, Times: 2}},
		{"chat.update", slackfake.Fault{Error: "internal_error", Times: 2}},
		{"chat.update", slackfake.Fault{Delay: 2 * time.Second, Times: 1}},
	} {
		name := fmt.Sprintf("%s %s", c.method, c.fault.Error)
		if c.fault.Delay > 0 {
			name = fmt.Sprintf("%s slow %v", c.method, c.fault.Delay)
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			if c.method == "chat.postMessage" {
				h.slack.Fail(c.method, c.fault)
			}
			h.command(alice, "vps-1.example.net")
			m := h.message(1, "Choose")
			if c.method == "chat.update" {
				h.slack.Fail(c.method, c.fault)
			}
			h.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
			m = h.message(1, "Approve and pay")
			h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
			h.message(1, "Paid", bob)
			if n := len(h.slack.Messages(channel)); n != 1 {
				t.Errorf("%d channel messages, want 1: a retried post was posted twice", n)
			}
			if c.fault.Error != "" {
				want := "method=" + c.method + " error=" + c.fault.Error
				if !strings.Contains(h.logs.String(), want) {
					t.Errorf("the logs lack %q", want)
				}
			}
			settle()
			if n := h.payCalls(); n != 1 {
				t.Fatalf("%d pay calls", n)
			}
		})
	}
}

// chat.postMessage keeps failing: the bot gives up after a bounded number
// of tries, tells the person with Slack's error code, and the request is
// abandoned: no order, nothing to approve.
func TestSlackPostKeepsFailing(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.Fail("chat.postMessage", slackfake.Fault{Error: "internal_error"})
	start := time.Now()
	h.command(alice, "vps-1.example.net")
	h.ephemeral(alice, "Slack refused my message (internal_error)")
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if n := len(h.slack.Calls("chat.postMessage")); n < 2 || n > 5 {
		t.Errorf("%d chat.postMessage tries, want a few (bounded)", n)
	}
	if !strings.Contains(h.logs.String(), "error=internal_error") {
		t.Error("the logs lack Slack's error code")
	}
	h.slack.Heal()
	h.command(alice, "status")
	h.ephemeral(alice, "0 open renewal requests")
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 0 {
		t.Fatalf("%d orders", n)
	}
}

// Clicks that name nothing valid get a clear ephemeral answer and change
// nothing. (Unknown action ids, unknown request ids and approvals from
// another channel are in flow_test.go and approval_test.go.)
func TestBadClicksChangeNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "vps-1.example.net")
	m := h.message(1, "Choose")
	choose := h.find(m, "choose", "1 year").Value
	id, _, _ := strings.Cut(choose, ":")
	updates := m.Updates
	for _, c := range []struct {
		channel, action, value, says string
	}{
		{channel, "choose", "../../etc/passwd", "can't read that button"},
		{channel, "choose", "", "can't read that button"},
		{channel, "choose", id + ":99", "can't find"},
		{channel, "choose", id + ":-1", "can't"},
		{channel, "choose", id + ":1:2", "can't"},
		{channel, "approve", strings.Repeat("9", 1900), "can't read that button"},
		{channel, "cancel", "nosuchrequest0000000", "can't find"},
		{channel, "renew_service", "vps-1; DROP TABLE requests", "can't read that button"},
		{channel, "list_page", "x:y", "can't read that button"},
		{"C0ELSE001", "choose", choose, "another channel"},
		{"C0ELSE001", "cancel", id, "another channel"},
		{channel, "", choose, "don't know that button"},
	} {
		before := len(h.slack.Responses(eve))
		h.post("/slack/interactions", h.slack.Click(c.channel, m.TS, eve, c.action, c.value))
		h.eventually(fmt.Sprintf("an answer to %s %q", c.action, c.value), func() bool { return len(h.slack.Responses(eve)) > before })
		if r := h.slack.Responses(eve)[before]; !strings.Contains(r.Text, c.says) || r.ResponseType != "ephemeral" {
			t.Errorf("%s %q from %s: answered %s %q, want ephemeral %q", c.action, c.value, c.channel, r.ResponseType, r.Text, c.says)
		}
	}
	settle()
	if m := h.message(1, "Choose"); m.Updates != updates {
		t.Errorf("the message was updated %d times by bad clicks", m.Updates-updates)
	}
	for _, c := range h.ovh.Calls() {
		if c.Method == "POST" {
			t.Fatalf("a bad click called %s %s", c.Method, c.Path)
		}
	}
	if n := len(h.slack.Views()); n != 0 {
		t.Fatalf("a bad click opened %d dialogs", n)
	}
}

// Malformed interaction payloads are refused with a 400 and no work.
func TestMalformedInteractionPayloads(t *testing.T) {
	h := newHarness(t, nil)
	for _, payload := range []string{"", "{", "null", `{"type":"block_actions"}`, `{"type":"block_actions","user":{"id":""}}`, `[1,2]`} {
		form := h.slack.Click(channel, "1.0", eve, "approve", "x")
		form.Set("payload", payload)
		if status, _ := h.post("/slack/interactions", form); status != 400 {
			t.Errorf("payload %q: status %d, want 400", payload, status)
		}
	}
	settle()
	if n := len(h.ovh.Calls()); n != 0 {
		t.Fatalf("%d OVHcloud calls from malformed payloads", n)
	}
	if n := len(h.workCalls()); n != 0 {
		t.Fatalf("%d Slack calls from malformed payloads", n)
	}
}

// Backpressure: one worker, a queue of one, and OVHcloud holding every
// call. Commands are acked while OVHcloud has not answered; those that do
// not fit are told "busy, try again in a minute", and every accepted one
// gets its message once OVHcloud answers.
func TestBusyWhenTheQueueIsFull(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_WORKERS": "1", "RENEWBOT_QUEUE": "1"})
	release := h.ovh.Hold()
	defer release()
	calls := func() int { return len(h.ovh.Calls()) }
	if a := h.command(alice, "vps-1.example.net"); !strings.Contains(a, "Looking up") {
		t.Fatalf("first ack = %q", a)
	}
	h.eventually("the worker to wait on OVHcloud", func() bool { return calls() > 0 })
	if a := h.command(alice, "vps-1.example.net"); !strings.Contains(a, "Looking up") {
		t.Fatalf("second ack (queued) = %q", a)
	}
	for i := range 6 {
		if a := h.command(alice, "vps-1.example.net"); !strings.Contains(a, "busy, try again in a minute") {
			t.Fatalf("ack %d with the worker and the queue taken = %q", i+3, a)
		}
	}
	release()
	h.message(2, "Choose")
	settle()
	if n := len(h.slack.Messages(channel)); n != 2 {
		t.Fatalf("%d messages for 2 accepted commands", n)
	}
	// Clicks have their own queue, served first: with the lookups' queue
	// full, a click still gets in; once its queue is full too, the next is
	// answered busy, on the side.
	m := h.message(1)
	release = h.ovh.Hold()
	before := calls()
	h.command(alice, "vps-1.example.net") // the worker
	h.eventually("the worker to wait on OVHcloud", func() bool { return calls() > before })
	h.command(alice, "vps-1.example.net") // the queue
	h.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	h.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	h.ephemeral(alice, "renewbot is busy, try again in a minute. Nothing was changed.")
	release()
	h.message(1, "Approve and pay") // the accepted click
	if !strings.Contains(h.logs.String(), "queue full") {
		t.Error("the logs do not say the queue was full")
	}
}
