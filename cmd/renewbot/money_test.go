package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/internal/pgtest"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// Money safety: each test is a way the same renewal could be paid twice,
// or paid by someone who should not, and shows it cannot.

// Two people type /renew for one service and both choose: one order. The
// second is told who asked, where, and in what state, with a link; a
// third, asking once the order exists, is told at once.
func TestOneRequestPerServiceAcrossPeople(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "web-front 1y")
	first := h.message(1, "Choose")
	h.command(bob, "web-front 1y")
	second := h.message(2, "Choose")
	h.click(alice, first.TS, "choose", h.find(first, "choose", "1 year").Value)
	h.message(1, "Approve and pay")
	h.click(bob, second.TS, "choose", h.find(second, "choose", "1 year").Value)
	busy := h.ephemeral(bob, "already open")
	for _, want := range []string{"<@" + alice + ">", "waiting for approval", "https://example.slack.com/archives/" + channel} {
		if !strings.Contains(busy.Text, want) {
			t.Errorf("bob's answer %q lacks %q", busy.Text, want)
		}
	}
	// The numeric id, another name for the same service, is refused at
	// once, before any strategy is read.
	h.command(carol, "10001")
	h.ephemeral(carol, "already open")
	settle()
	if n := len(h.slack.Messages(channel)); n != 2 {
		t.Fatalf("%d request messages, want 2 (carol's refused)", n)
	}
	if txt := blockText(h.slack.Messages(channel)[1].Raw); !strings.Contains(txt, "Choose") {
		t.Fatalf("bob's request changed:\n%s", txt)
	}
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("%d renew orders, want 1", n)
	}
}

// Two Renew… clicks on the same line of /renew list (the reminder digest
// has the same button) by two people: one order.
func TestOneRequestPerServiceFromRenewButtons(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "list")
	list := h.ephemeral(alice, "web-front")
	var renewValue string
	for _, e := range elements(list.Raw) {
		if e.ActionID == "renew_service" && e.Value == "10001" { // web-front's service id
			renewValue = e.Value
		}
	}
	if renewValue == "" {
		t.Fatalf("no Renew… button for web-front in:\n%s", blockText(list.Raw))
	}
	h.click(alice, "1764147000.000100", "renew_service", renewValue)
	h.click(bob, "1764147000.000100", "renew_service", renewValue)
	h.message(2, "Choose")
	for i, who := range []string{alice, bob} {
		m := h.slack.Messages(channel)[i]
		h.click(who, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	}
	h.eventually("one order and one refusal", func() bool {
		approve, refused := 0, 0
		for _, m := range h.slack.Messages(channel) {
			if hasAction(m, "approve") {
				approve++
			}
		}
		for _, who := range []string{alice, bob} {
			for _, r := range h.slack.Responses(who) {
				if strings.Contains(r.Text, "already open") {
					refused++
				}
			}
		}
		return approve == 1 && refused == 1
	})
	settle()
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("%d renew orders from two clicks, want 1", n)
	}
}

// Renewed in the Control Panel (or automatically) between the order and
// the approval: the stale order is not paid, the approver is told, and
// the request ends.
func TestRenewedElsewhereIsNotPaid(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	before, _ := h.ovh.Service(ovhfake.WebFrontID)
	h.ovh.RenewElsewhere(ovhfake.WebFrontID, "P1Y")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	told := h.ephemeral(bob, "renewed elsewhere meanwhile")
	now := before.Expiration.AddDate(1, 0, 0).Format(time.DateOnly)
	if !strings.Contains(told.Text, now) || !strings.Contains(told.Text, "/renew") {
		t.Errorf("bob is not told the new expiry %s and how to renew further: %q", now, told.Text)
	}
	m = h.message(1, "The renewal failed", "renewed elsewhere")
	if hasAction(m, "approve") {
		t.Error("the request still has its Approve button")
	}
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls for a service renewed elsewhere", n)
	}
	// Reading the service went alongside the order status: still two
	// round trips before a payment.
	if n := len(h.ovh.CallsTo("GET", "/services/*")); n < 1 {
		t.Fatal("the service was not read again before paying")
	}
}

// A domain renewed with its hosting: the hosting alone is renewed in the
// Control Panel after the order was made. Paying would renew it twice:
// nothing is paid.
func TestRenewedElsewhereChecksEveryService(t *testing.T) {
	h := newHarness(t, nil)
	h.command(alice, "example.com 1y")
	m := h.message(1, "example.com", "Hosting Perso 2014")
	h.click(alice, m.TS, "choose", h.find(m, "choose", "Hosting Perso 2014").Value)
	m = h.message(1, "Approve and pay")
	h.ovh.RenewElsewhere(ovhfake.HostingID, "P1Y")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.ephemeral(bob, "renewed elsewhere meanwhile")
	h.message(1, "The renewal failed", "renewed elsewhere")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls after the hosting was renewed elsewhere", n)
	}
}

// foreign rewrites a signed form's payload or fields as if it came from
// another team, another app, or a user of another team.
func foreign(form url.Values, change func(p map[string]any)) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	if raw := out.Get("payload"); raw != "" {
		var p map[string]any
		_ = json.Unmarshal([]byte(raw), &p)
		change(p)
		b, _ := json.Marshal(p)
		out.Set("payload", string(b))
	}
	return out
}

// Only this workspace acts: a click from another workspace where the app
// is installed, a Slack Connect partner, another app: nothing is paid; a
// command from another workspace calls no OVHcloud route.
func TestOnlyThisWorkspaceActs(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_SELF_APPROVAL": "false"})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "").Value
	calls := len(h.ovh.Calls())

	for name, change := range map[string]func(p map[string]any){
		"another workspace": func(p map[string]any) {
			p["team"] = map[string]any{"id": "T0OTHER01"}
			p["user"].(map[string]any)["team_id"] = "T0OTHER01"
		},
		"a Slack Connect partner": func(p map[string]any) { p["user"].(map[string]any)["team_id"] = "T0PARTNER" },
		"another app":             func(p map[string]any) { p["api_app_id"] = "A0OTHER01" },
	} {
		status, _ := h.post("/slack/interactions", foreign(h.slack.Click(channel, m.TS, eve, "approve", approve), change))
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", name, status)
		}
	}
	h.ephemeral(eve, "only acts for members of the workspace")

	cmd := h.slack.Command(channel, eve, "web-front")
	cmd.Set("team_id", "T0OTHER01")
	status, body := h.post("/slack/commands", cmd)
	if status != http.StatusOK || !strings.Contains(body, "only acts for members of the workspace") {
		t.Fatalf("command from another workspace: %d %s", status, body)
	}
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls from outside the workspace", n)
	}
	if n := len(h.ovh.Calls()); n != calls {
		t.Fatalf("%d OVHcloud calls from outside the workspace", n-calls)
	}
	if txt := blockText(h.slack.Messages(channel)[0].Raw); !strings.Contains(txt, "0 of 1 approval") {
		t.Fatalf("the message changed:\n%s", txt)
	}
	// A Slack Connect partner's Choose does not make them "the requester".
	h.command(alice, "api-back")
	m2 := h.message(2, "Choose")
	partner := foreign(h.slack.Click(channel, m2.TS, eve, "choose", h.find(m2, "choose", "1 month").Value),
		func(p map[string]any) { p["user"].(map[string]any)["team_id"] = "T0PARTNER" })
	h.post("/slack/interactions", partner)
	settle()
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Fatalf("a partner's Choose created an order (%d renew calls)", n)
	}
	// A member of the workspace still pays.
	h.click(bob, m.TS, "approve", approve)
	h.message(1, "Paid", bob)
}

// signedOnce signs form once and returns a function that sends exactly
// that request, bytes and headers, again: what a replay does within
// Slack's five minutes.
func signedOnce(t *testing.T, target string, form url.Values) func() int {
	body := form.Encode()
	hdr := http.Header{}
	slackfake.Sign(hdr, secret, time.Now(), body)
	hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	return func() int {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header = hdr.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
}

// OVHcloud refuses a payment; the same signed approval is sent again,
// before and after the refusal is settled (not paid): nothing is paid. A
// fresh click on the updated message pays, once.
func TestReplayedApprovalAfterARefusalPaysNothing(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_STUCK_AFTER": settleAfter.String()})
	m := h.orderFor(alice, "web-front", "1 year")
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Status: 403, Message: "The bank refused the payment", Times: 1})
	approve := h.find(m, "approve", "").Value
	click := signedOnce(t, h.base+"/slack/interactions", h.slack.Click(channel, m.TS, bob, "approve", approve))
	if st := click(); st != http.StatusOK {
		t.Fatalf("approval: %d", st)
	}
	m = h.message(1, "Payment outcome unknown")
	if st := click(); st != http.StatusOK {
		t.Fatalf("replay: %d", st)
	}
	h.ephemeral(bob, "still being checked")
	m = h.settleRefusal(1, m.TS, approve, carol)
	if st := click(); st != http.StatusOK {
		t.Fatalf("replay: %d", st)
	}
	h.ephemeral(bob, "earlier attempt")
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls after a replayed approval, want only the refused one", n)
	}
	// The updated message's button is for the new attempt.
	m = h.message(1, "The payment failed", "Approve and pay")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid", bob)
	settle()
	if n := h.payCalls(); n != 2 {
		t.Fatalf("%d pay calls, want the refused one and one that paid", n)
	}
	if o, _ := h.ovh.Order(ovhfake.FirstOrderID); !o.Paid() {
		t.Fatal("the order is not paid")
	}
}

// Two replicas whose clocks differ by half of RENEWBOT_STUCK_AFTER. The
// pay call's answer is lost (OVHcloud took the money but shows it only a
// while later). The replica ahead holds the reconciler: on its own clock
// the payment would look stale early, read notPaid, and be approved and
// paid again. On the database's clock it waits the full delay: one
// payment.
func TestReplicasWithSkewedClocksPayOnce(t *testing.T) {
	url := pgtest.URL(t)
	const stuck = 4 * time.Second
	h := newFakes(t)
	h.ovh.PaymentVisibleAfter = 3 * time.Second // before anything runs: no race
	h.env["RENEWBOT_DATABASE_URL"] = url
	h.env["RENEWBOT_STUCK_AFTER"] = stuck.String()
	h.env["RENEWBOT_SWEEP_EVERY"] = "200ms"
	// The replica ahead starts first and holds the background lease.
	ahead := *h
	ahead.env = map[string]string{}
	for k, v := range h.env {
		ahead.env[k] = v
	}
	ahead.clock = func() time.Time { return time.Now().Add(stuck / 2) }
	ahead.logs = &syncBuffer{}
	ahead.start()
	t.Cleanup(ahead.stop)
	h.eventually("the replica ahead to hold the background lease", func() bool {
		return strings.Contains(ahead.logs.String(), "took the lease")
	})
	addr, admin := freeAddr(t), freeAddr(t)
	h.env["RENEWBOT_ADDR"], h.env["RENEWBOT_ADMIN_ADDR"] = addr, admin
	h.base, h.admin = "http://"+addr, "http://"+admin
	h.start()
	t.Cleanup(h.stop)

	m := h.orderFor(alice, "web-front", "1 year")
	h.ovh.Inject("POST /me/order/*/pay", ovhfake.Fault{Processed: true, Status: 502, Times: 1})
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Payment outcome unknown")
	// Approvers keep clicking while it is unknown, on both replicas.
	stop := time.After(stuck + 2*time.Second)
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		case <-time.After(300 * time.Millisecond):
			cur := h.slack.Messages(channel)[0]
			if hasAction(cur, "approve") {
				v := h.find(cur, "approve", "").Value
				h.click(carol, cur.TS, "approve", v)
				ahead.click(dave, cur.TS, "approve", v)
			}
		}
	}
	h.message(1, "Paid")
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls with replicas' clocks %v apart, want exactly 1", n, stuck/2)
	}
}

// A payment OVHcloud has not delivered yet leaves the service's expiry
// where it was: a second request for the same renewal pays nothing,
// whether its proposal was shown before the payment or typed after it,
// and the person is told who paid it.
func TestAPaymentNotDeliveredYetIsNotPaidTwice(t *testing.T) {
	h := newHarness(t, nil)
	h.ovh.StatusStep = time.Hour // OVHcloud checks the payment for an hour; set before anything runs: no race
	h.command(carol, "web-front 1y")
	older := h.message(1, "Choose")
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(2, "Paid", bob)

	// carol's proposal, shown before the payment and chosen after it.
	h.click(carol, older.TS, "choose", h.find(older, "choose", "1 year").Value)
	told := h.ephemeral(carol, "already renewed")
	for _, want := range []string{"vps-1.example.net", "<@" + bob + ">", "<#" + channel + ">", "renew it twice"} {
		if !strings.Contains(told.Text, want) {
			t.Errorf("carol's answer %q lacks %q", told.Text, want)
		}
	}
	// A new /renew is told at once.
	h.command(dave, "web-front")
	h.ephemeral(dave, "already renewed")
	settle()
	if n := len(h.ovh.CallsTo("POST", "/service/*/renew")); n != 1 {
		t.Errorf("%d renew orders, want 1", n)
	}
	if n := h.payCalls(); n != 1 {
		t.Errorf("%d pay calls, want 1", n)
	}
	if n := len(h.slack.Messages(channel)); n != 2 {
		t.Errorf("%d request messages, want 2 (dave's refused)", n)
	}
}
