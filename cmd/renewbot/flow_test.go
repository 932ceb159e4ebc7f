package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/slackfake"
)

func body(c ovhfake.Call) string { return string(c.Body) }

// The whole flow: /renew, choose, approve by a teammate, paid; with the
// exact bodies OVHcloud received.
func TestRenewalHappyPath(t *testing.T) {
	h := newHarness(t, nil)

	if ack := h.command(alice, "web-front"); !strings.Contains(ack, "Looking up") {
		t.Fatalf("ack = %q, want a 'Looking up' answer", ack)
	}
	m := h.message(1, "vps-1.example.net", "web-front", "in 24 days", "manual", "1 month", "3 months", "6 months", "1 year")
	choose := h.find(m, "choose", "1 year")

	h.click(alice, m.TS, "choose", choose.Value)
	m = h.message(1, "Approve and pay", "123456789")
	h.eventually("the renew order", func() bool { return len(h.ovh.CallsTo("POST", "/service/*/renew")) == 1 })
	renewCall := h.ovh.CallsTo("POST", "/service/*/renew")[0]
	if renewCall.Path != "/service/10001/renew" || body(renewCall) != `{"dryRun":false,"duration":"P1Y","services":[10001]}` {
		t.Fatalf("renew call = %s %s, want /service/10001/renew {\"dryRun\":false,\"duration\":\"P1Y\",\"services\":[10001]}", renewCall.Path, body(renewCall))
	}
	approve := h.find(m, "approve", "")
	for _, want := range []string{"95.04"} {
		if !strings.Contains(approve.Confirm, want) {
			t.Errorf("confirm dialog %q does not name the amount with tax %s", approve.Confirm, want)
		}
	}
	text := blockText(m.Raw)
	for _, want := range []string{"79.20", "15.84", "95.04", alice} {
		if !strings.Contains(text, want) {
			t.Errorf("order message lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{"orderPassword", "password", "displayOrder.cgi"} {
		if strings.Contains(m.Raw, secret) || strings.Contains(h.logs.String(), secret) {
			t.Errorf("the order's %s leaked into the channel or the logs", secret)
		}
	}

	h.click(bob, m.TS, "approve", approve.Value)
	m = h.message(1, "Paid", bob)
	pay := h.ovh.CallsTo("POST", "/me/order/*/pay")
	if len(pay) != 1 || pay[0].Path != "/me/order/123456789/pay" || body(pay[0]) != `{"paymentMethod":{"id":42}}` {
		t.Fatalf("pay calls = %+v, want one POST /me/order/123456789/pay {\"paymentMethod\":{\"id\":42}}", pay)
	}
	if n := len(h.ovh.CallsTo("GET", "/me/order/*/status")); n < 1 {
		t.Error("the order status was not checked before paying")
	}
	if def := h.ovh.CallsTo("GET", "/me/payment/method"); len(def) != 1 || def[0].Query.Get("default") != "true" {
		t.Errorf("default payment method lookups = %+v", def)
	}
	if hasAction(m, "approve") || hasAction(m, "cancel") {
		t.Error("a paid request still has buttons")
	}
}

func TestTwoServiceStrategy(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "example.com 1y")
	m := h.message(1, "example.com", "Hosting Perso 2014")
	choose := h.find(m, "choose", "Hosting Perso 2014")
	h.click(alice, m.TS, "choose", choose.Value)
	h.message(1, "Approve and pay")
	calls := h.ovh.CallsTo("POST", "/service/*/renew")
	if len(calls) != 1 || body(calls[0]) != `{"dryRun":false,"duration":"P1Y","services":[67890,12345]}` {
		t.Fatalf("renew calls = %+v", calls)
	}
}

func TestPayWithRegisteredPaymentMean(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_PAYMENT": "ovhAccount"})
	h.command(alice, "web-front 1m")
	m := h.message(1, "1 month")
	h.click(alice, m.TS, "choose", h.find(m, "choose", "1 month").Value)
	m = h.message(1, "Approve and pay")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	calls := h.ovh.CallsTo("POST", "/me/order/*/payWithRegisteredPaymentMean")
	if len(calls) != 1 || body(calls[0]) != `{"paymentMean":"ovhAccount"}` {
		t.Fatalf("payWithRegisteredPaymentMean calls = %+v", calls)
	}
	if n := len(h.ovh.CallsTo("POST", "/me/order/*/pay")); n != 0 {
		t.Fatalf("%d calls to /pay, want none", n)
	}
}

// orderFor runs /renew and Choose as requester and returns the order message.
func (h *harness) orderFor(requester, query, period string) slackfake.Message {
	h.t.Helper()
	n := len(h.slack.Messages(channel)) + 1
	h.command(requester, query)
	m := h.message(n, "Choose")
	h.click(requester, m.TS, "choose", h.find(m, "choose", period).Value)
	return h.message(n, "Approve and pay")
}

func TestSelfApprovalRefused(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(alice, m.TS, "approve", h.find(m, "approve", "").Value)
	h.ephemeral(alice, "teammate has to approve")
	time.Sleep(100 * time.Millisecond)
	if n := len(h.ovh.CallsTo("POST", "/me/order/*/pay")); n != 0 {
		t.Fatalf("%d pay calls after a self-approval, want 0", n)
	}
	if m := h.message(1, "Approve and pay"); !hasAction(m, "approve") {
		t.Fatal("the approve button disappeared after a refused click")
	}
}

func TestSelfApprovalAllowedWhenSwitchedOn(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_SELF_APPROVAL": "true"})
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(alice, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
}

func TestApproverOutsideTheListRefused(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVERS": bob})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.click(eve, m.TS, "approve", approve.Value)
	h.ephemeral(eve, "not one of the approvers")
	time.Sleep(100 * time.Millisecond)
	if n := len(h.ovh.CallsTo("POST", "/me/order/*/pay")); n != 0 {
		t.Fatalf("%d pay calls after an outsider's click, want 0", n)
	}
	h.click(bob, m.TS, "approve", approve.Value)
	h.message(1, "Paid", bob)
}

func TestForgedAndStaleRequestsAreRefused(t *testing.T) {
	h := newHarness(t, nil)
	form := h.slack.Command(channel, alice, "web-front")
	encoded := form.Encode()
	send := func(sign func(http.Header)) int {
		req, _ := http.NewRequest(http.MethodPost, h.base+"/slack/commands", strings.NewReader(encoded))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sign(req.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := map[string]func(http.Header){
		"wrong secret": func(hd http.Header) { slackfake.Sign(hd, "not-the-secret", time.Now(), encoded) },
		"stale":        func(hd http.Header) { slackfake.Sign(hd, secret, time.Now().Add(-6*time.Minute), encoded) },
		"unsigned":     func(http.Header) {},
		"body changed": func(hd http.Header) { slackfake.Sign(hd, secret, time.Now(), encoded+"x") },
	}
	for name, sign := range cases {
		if got := send(sign); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	// A forged click too.
	click := h.slack.Click(channel, "1.0", bob, "approve", "abc")
	req := slackfake.SignedRequest(h.base+"/slack/interactions", "forged", click)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged click: status %d, want 401", resp.StatusCode)
	}
	time.Sleep(100 * time.Millisecond)
	if calls := h.ovh.Calls(); len(calls) != 0 {
		t.Fatalf("OVHcloud got %d calls from refused requests", len(calls))
	}
	if n := len(h.workCalls()); n != 0 {
		t.Fatalf("Slack got %d calls from refused requests", n)
	}
}

func TestOversizedBodyRefused(t *testing.T) {
	h := newHarness(t, nil)
	form := url.Values{"text": {strings.Repeat("a", 2<<20)}}
	status, _ := h.post("/slack/commands", form)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", status)
	}
}

func TestUnknownServiceAndBadInput(t *testing.T) {
	h := newHarness(t, nil)
	// Not found reads the same however the service was named: a name, or
	// an id OVHcloud answers 404 for.
	h.command(alice, "no-such-thing")
	h.ephemeral(alice, "I can't find `no-such-thing` on this OVHcloud account.")
	h.command(alice, "1")
	h.ephemeral(alice, "I can't find `1` on this OVHcloud account.")
	h.command(alice, "web-front 1x")
	h.ephemeral(alice, "I can't find `web-front 1x` on this OVHcloud account. If `1x` is a period, write it like `1y`")
	for _, r := range h.slack.Responses(alice) {
		if strings.Contains(r.Text, "OVHcloud refused") || strings.Contains(r.Text, "query id") {
			t.Errorf("an unknown service was answered with OVHcloud's own words: %q", r.Text)
		}
	}

	// A command that cannot be read: one line and a hint, not the help.
	if ack := h.command(alice, "list soon"); ack != "`soon` is not a number of days from 0 to 3660.\nUsage: `/renew list [DAYS]`, like `/renew list 7`." {
		t.Errorf("malformed command answered %q", ack)
	}
	for _, text := range []string{"", "help"} {
		if ack := h.command(alice, text); !strings.Contains(ack, "/renew SERVICE") {
			t.Errorf("/renew %q answered %q, want the usage", text, ack)
		}
	}
	h.command(alice, "web-front 2y")
	h.ephemeral(alice, "no 2-year renewal")
	time.Sleep(100 * time.Millisecond)
	if n := len(h.slack.Messages(channel)); n != 0 {
		t.Fatalf("%d channel messages after bad commands, want 0", n)
	}
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 0 {
		t.Fatalf("%d orders after bad commands", n)
	}
}

func TestSeveralMatchesAreListed(t *testing.T) {
	h := newHarness(t, nil)
	h.ovh.AddService(ovhfake.Service{ID: 10009, Name: "vps-9.example.net", DisplayName: "web-front", Product: "vps-value-1-2-40",
		ProductText: "VPS Value 1-2-40", RoutePath: "/vps/{serviceName}", Expiration: time.Now().AddDate(0, 1, 0), RenewMode: "manual", RenewPeriod: "P1M"})
	h.command(alice, "web-front")
	r := h.ephemeral(alice, "matches 2 services")
	for _, want := range []string{"vps-1.example.net", "vps-9.example.net", "10001", "10009"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("ambiguity answer lacks %q: %s", want, r.Text)
		}
	}
}

func TestByNumericID(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "10001 P3M")
	m := h.message(1, "vps-1.example.net", "3 months")
	if strings.Contains(blockText(m.Raw), "1 year") {
		t.Error("the period filter did not filter")
	}
}

// OVHcloud refuses a pay call: the approver reads why, with the query id.
// The refusal may mean the order was paid another way meanwhile, so the
// request can be approved again only once its order status may be
// trusted (not paid); then an approval pays, once.
func TestPayRefusedByOVHcloud(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_STUCK_AFTER": settleAfter.String()})
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 403, Class: "Client::Forbidden", Message: "This order can't be paid with paypal", Times: 1})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.click(bob, m.TS, "approve", approve.Value)
	r := h.ephemeral(bob, "This order can't be paid with paypal")
	if !strings.Contains(r.Text, "query id") || !strings.Contains(r.Text, "Nothing was paid now") {
		t.Errorf("refusal lacks the query id or what was paid: %s", r.Text)
	}
	m = h.message(1, "Payment outcome unknown")
	if hasAction(m, "approve") {
		t.Fatal("a refused payment can be approved again before its order status may be trusted")
	}
	if strings.Contains(blockText(m.Raw), "Paid by") {
		t.Fatal("the message claims it was paid")
	}
	m = h.settleRefusal(1, m.TS, approve.Value, carol)
	// Approving again, from the updated message, pays.
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	if n := len(h.ovh.CallsTo("POST", "/me/order/*/pay")); n != 2 {
		t.Fatalf("%d pay calls, want 2 (one refused, one paid)", n)
	}
}

func TestConcurrentApprovalsPayOnce(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := []string{bob, carol, eve}[i%3]
			h.post("/slack/interactions", h.slack.Click(channel, m.TS, user, "approve", approve.Value))
		}()
	}
	wg.Wait()
	h.message(1, "Paid")
	time.Sleep(300 * time.Millisecond)
	if n := len(h.ovh.CallsTo("POST", "/me/order/*/pay")); n != 1 {
		t.Fatalf("%d pay calls from 20 concurrent clicks, want exactly 1", n)
	}
	if o, _ := h.ovh.Order(ovhfake.FirstOrderID); o.PayAttempts != 1 {
		t.Fatalf("the fake saw %d pay attempts", o.PayAttempts)
	}
}

func TestRestartBetweenOrderAndApproval(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.restart()
	h.click(bob, m.TS, "approve", approve.Value)
	h.message(1, "Paid", bob)
}

func TestRestartBetweenProposalAndChoice(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "web-front")
	m := h.message(1, "Choose")
	h.restart()
	h.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	h.message(1, "Approve and pay")
}

// Slack gives up on an ack after 3 s: the ack never waits for OVHcloud.
// OVHcloud holds every call until the ack has come back.
func TestAckDoesNotWaitForOVHcloud(t *testing.T) {
	h := newHarness(t, nil)
	release := h.ovh.Hold()
	defer release()
	if a := h.command(alice, "10001"); !strings.Contains(a, "Looking up") {
		t.Fatalf("ack = %q", a)
	}
	if n := len(h.slack.Messages(channel)); n != 0 {
		t.Fatalf("%d messages before OVHcloud answered", n)
	}
	release()
	h.message(1, "vps-1.example.net")
}

func TestClicksOnFinishedRequests(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.click(bob, m.TS, "approve", approve.Value)
	h.message(1, "Paid")
	h.ovh.ResetCalls()
	h.click(carol, m.TS, "approve", approve.Value)
	h.ephemeral(carol, "already paid")
	h.click(carol, m.TS, "choose", strings.Split(approve.Value, ":")[0]+":0")
	h.eventually("a second 'already paid' answer", func() bool { return len(h.slack.Responses(carol)) == 2 })
	if r := h.slack.Responses(carol)[1]; !strings.Contains(r.Text, "already paid") {
		t.Errorf("a late Choose was answered %q", r.Text)
	}
	h.click(carol, m.TS, "approve", "nosuchrequest0000000")
	h.ephemeral(carol, "can't find")
	h.click(carol, m.TS, "frobnicate", approve.Value)
	h.ephemeral(carol, "don't know that button")
	time.Sleep(100 * time.Millisecond)
	for _, c := range h.ovh.Calls() {
		if c.Method == "POST" {
			t.Fatalf("a click on a finished request called %s %s", c.Method, c.Path)
		}
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVERS": bob})
	m := h.orderFor(alice, "web-front", "1 year")
	cancel := h.find(m, "cancel", "")
	approve := h.find(m, "approve", "")
	h.click(eve, m.TS, "cancel", cancel.Value)
	h.ephemeral(eve, "Only the person who asked")
	h.click(alice, m.TS, "cancel", cancel.Value)
	h.eventually("the cancel dialog", func() bool { return len(h.slack.Views()) == 1 })
	if v := h.slack.Views()[0]; !strings.Contains(v, `"callback_id":"cancel_request"`) || !strings.Contains(v, cancel.Value) {
		t.Fatalf("cancel dialog = %s", v)
	}
	if strings.Contains(blockText(h.message(1).Raw), "Cancelled") {
		t.Fatal("cancelled before the dialog was submitted")
	}
	status, _ := h.post("/slack/interactions", h.slack.ViewSubmission(alice, "cancel_request", cancel.Value,
		map[string]map[string]string{"reason": {"reason_input": "renewed in the control panel"}}))
	if status != http.StatusOK {
		t.Fatalf("dialog submission: status %d", status)
	}
	m = h.message(1, "Cancelled", "renewed in the control panel")
	h.eventually("the thread reply", func() bool {
		for _, r := range h.slack.Replies(channel, m.TS) {
			if strings.Contains(r.Text, "Cancelled by") && strings.Contains(r.Text, "renewed in the control panel") {
				return true
			}
		}
		return false
	})
	if hasAction(m, "approve") {
		t.Fatal("a cancelled request can still be approved")
	}
	h.click(bob, m.TS, "approve", approve.Value)
	h.ephemeral(bob, "cancelled")
	time.Sleep(100 * time.Millisecond)
	if n := len(h.ovh.CallsTo("POST", "/me/order/*/pay")); n != 0 {
		t.Fatalf("%d pay calls on a cancelled request", n)
	}
}

// OVH_ENDPOINT=sandbox: the real adapter against the embedded sample
// account, and every message says so.
func TestSandbox(t *testing.T) {
	h := newHarness(t, map[string]string{"OVH_ENDPOINT": "sandbox", "OVH_APPLICATION_KEY": "", "OVH_APPLICATION_SECRET": "", "OVH_CONSUMER_KEY": ""})
	m := h.orderFor(alice, "web-front", "1 year")
	if !strings.Contains(strings.ToLower(blockText(m.Raw)), "sandbox") {
		t.Fatalf("a sandbox message does not say sandbox:\n%s", blockText(m.Raw))
	}
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	m = h.message(1, "Paid")
	if !strings.Contains(strings.ToLower(blockText(m.Raw)), "sandbox") {
		t.Errorf("paid message does not say sandbox:\n%s", blockText(m.Raw))
	}
	if n := len(h.ovh.Calls()); n != 0 {
		t.Fatalf("the sandbox called the harness's OVHcloud %d times", n)
	}
}

// A service with 30 strategies renders within Slack's limits, as a select
// menu, and an option picked from it orders that strategy.
func TestThirtyStrategies(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "big-storage")
	m := h.message(1, "big-storage")
	var menu element
	options := 0
	for _, e := range elements(m.Raw) {
		if e.ActionID == "choose_select" {
			menu = e
			options += len(e.Options)
		}
	}
	if options != 30 {
		t.Fatalf("%d options in the menus, want all 30", options)
	}
	last := menu.Options[len(menu.Options)-1]
	status, _ := h.post("/slack/interactions", h.slack.Select(channel, m.TS, alice, "choose_select", last))
	if status != http.StatusOK {
		t.Fatalf("select: %d", status)
	}
	h.message(1, "Approve and pay")
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("%d orders, want 1", n)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	h := newHarness(t, nil)
	var out strings.Builder
	if err := run(context.Background(), []string{"healthcheck"}, &out, io.Discard); err != nil || out.String() != "ok\n" {
		t.Fatalf("healthcheck of a running bot: %v %q", err, out.String())
	}
	h.stop()
	// One line that says what was tried, and from where it comes.
	want := "healthcheck: no renewbot answers at " + strings.TrimPrefix(h.admin, "http://") + " (RENEWBOT_ADMIN_ADDR): connection refused"
	if err := run(context.Background(), []string{"healthcheck"}, &out, io.Discard); err == nil || err.Error() != want {
		t.Fatalf("healthcheck of a stopped bot: %v, want %q", err, want)
	}
}
