package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/slackfake"
)

const dave = "U0DAVE001"

func (h *harness) payCalls() int { return len(h.ovh.CallsTo("POST", "/me/order/*/pay")) }

// settle gives the bot a moment to do what it should not do.
func settle() { time.Sleep(200 * time.Millisecond) }

func TestApproverGroup(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVERS": "S0OPS0001"})
	h.slack.SetGroup("S0OPS0001", bob, dave)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.click(carol, m.TS, "approve", approve.Value)
	h.ephemeral(carol, "not one of the approvers")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls after an outsider's approval", n)
	}
	h.click(dave, m.TS, "approve", approve.Value)
	h.message(1, "Paid", dave)
	if n := len(h.slack.Calls("usergroups.users.list")); n != 1 {
		t.Errorf("usergroups.users.list called %d times, want 1 (cached)", n)
	}
}

func TestApproverGroupFailsClosed(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVERS": "S0OPS0001"})
	h.slack.SetGroup("S0OPS0001", bob)
	h.slack.Fail("usergroups.users.list", slackfake.Fault{Error: "internal_error"})
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.ephemeral(bob, "refuse rather than guess")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls while group members could not be read", n)
	}
	if !hasAction(h.message(1), "approve") {
		t.Fatal("the request can no longer be approved")
	}
}

func TestTwoApprovals(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVALS": "2", "RENEWBOT_APPROVERS": strings.Join([]string{alice, bob, carol}, ",")})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")

	h.click(alice, m.TS, "approve", approve.Value) // the requester never counts
	h.ephemeral(alice, "teammate has to approve")

	h.click(bob, m.TS, "approve", approve.Value)
	h.ephemeral(bob, "1 more needed")
	m = h.message(1, "1 of 2 approvals", bob)
	h.click(bob, m.TS, "approve", approve.Value) // twice counts once
	h.eventually("bob's second answer", func() bool { return len(h.slack.Responses(bob)) == 2 })
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("paid after one approver clicked twice (%d calls)", n)
	}
	h.message(1, "1 of 2 approvals")

	h.click(carol, m.TS, "approve", approve.Value)
	h.message(1, "Paid")
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls, want 1", n)
	}
}

func TestFiftyClicksFiveApproversTwoNeeded(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVALS": "2"})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	approvers := []string{bob, carol, dave, eve, "U0FRANK01"}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.post("/slack/interactions", h.slack.Click(channel, m.TS, approvers[i%5], "approve", approve.Value))
		}()
	}
	wg.Wait()
	m = h.message(1, "Paid")
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls, want exactly 1", n)
	}
	// Each approval is told in the thread once, whichever goroutine tells
	// it first: the first approver's may come after the payment's.
	approvedReplies := func() int {
		n := 0
		for _, r := range h.slack.Replies(channel, m.TS) {
			if strings.Contains(r.Text, " approved (") {
				n++
			}
		}
		return n
	}
	h.eventually("the payment's and both approvals' thread replies", func() bool {
		paid := false
		for _, r := range h.slack.Replies(channel, m.TS) {
			paid = paid || strings.Contains(r.Text, "Paid")
		}
		return paid && approvedReplies() >= 2
	})
	settle()
	if n := approvedReplies(); n != 2 {
		t.Fatalf("%d approvals recorded in the thread, want exactly 2", n)
	}
	h.command(alice, "history")
	hist := h.ephemeral(alice, "Last renewal events")
	if n := strings.Count(blockText(hist.Raw), " approved by "); n != 2 {
		t.Fatalf("history shows %d approvals, want 2:\n%s", n, blockText(hist.Raw))
	}
}

func TestChannelsOutsideTheListAreRefused(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_CHANNELS": "C0OTHER01"})
	if ack := h.command(alice, "web-front"); !strings.Contains(ack, "only in <#C0OTHER01>") {
		t.Fatalf("ack = %q, want a refusal naming the allowed channel", ack)
	}
	// A direct message follows the same rule.
	status, body := h.post("/slack/commands", h.slack.Command("D0DIRECT1", alice, "web-front"))
	if status != http.StatusOK || !strings.Contains(body, "only in") {
		t.Fatalf("direct message: %d %s", status, body)
	}
	settle()
	if n := len(h.ovh.Calls()); n != 0 {
		t.Fatalf("%d OVHcloud calls from refused channels", n)
	}
}

func TestButtonFromAnotherChannel(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.post("/slack/interactions", h.slack.Click("C0ELSE001", m.TS, bob, "approve", approve.Value))
	h.ephemeral(bob, "another channel")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("a click from another channel paid (%d calls)", n)
	}
}

func TestMaxAmount(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_MAX_AMOUNT": "90"})
	h.command(alice, "api-back")
	m := h.message(1, "api-back", "1 year")
	// 138.00 € without tax is above the limit: no button for it.
	for _, e := range elements(m.Raw) {
		if e.ActionID == "choose" && strings.Contains(e.Context, "1 year") {
			t.Fatalf("a strategy above the limit can be chosen: %+v", e)
		}
	}
	if !strings.Contains(strings.ToLower(blockText(m.Raw)), "above the 90.00") {
		t.Error("the message does not say why a strategy cannot be chosen")
	}

	// web-front for 1 year: 79.20 € without tax, 95.04 € with tax, above 90.
	h.command(alice, "web-front")
	m = h.message(2, "web-front")
	h.click(alice, m.TS, "choose", h.find(m, "choose", "1 year").Value)
	h.ephemeral(alice, "costs 95.04 € with tax, more than this workspace's limit of 90.00 € with tax")
	settle()
	calls := h.ovh.CallsTo("POST", "/service/*/renew")
	if len(calls) != 1 || !strings.Contains(body(calls[0]), `"dryRun":true`) {
		t.Fatalf("renew calls = %v, want only the dry-run price check", calls)
	}
	if n := len(h.ovh.Orders()); n != 0 {
		t.Fatalf("%d orders created above the limit", n)
	}
	if hasAction(h.message(2), "approve") {
		t.Fatal("an order above the limit can be approved")
	}
}

func TestOrderAboveALoweredLimitIsNeverPaid(t *testing.T) {
	h := newHarness(t, nil)
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.env["RENEWBOT_MAX_AMOUNT"] = "50"
	h.restart()
	h.click(bob, m.TS, "approve", approve.Value)
	h.ephemeral(bob, "costs 95.04 € with tax, more than this workspace's limit of 50.00 € with tax")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls for an order above the limit", n)
	}
}

func TestRequestExpires(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_REQUEST_TTL": "1s", "RENEWBOT_SWEEP_EVERY": "100ms", "RENEWBOT_AUDIT_CHANNEL": "C0AUDIT01"})
	h.slack.Join("C0AUDIT01")
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	m = h.message(1, "Expired")
	if hasAction(m, "approve") || hasAction(m, "cancel") {
		t.Fatal("an expired request kept its buttons")
	}
	h.ovh.ResetCalls()
	h.click(bob, m.TS, "approve", approve.Value)
	h.ephemeral(bob, "expired")
	settle()
	if n := len(h.ovh.Calls()); n != 0 {
		t.Fatalf("a click on an expired request made %d OVHcloud calls", n)
	}
	h.eventually("the audit line", func() bool {
		for _, a := range h.slack.Messages("C0AUDIT01") {
			if strings.Contains(a.Text, "Expired") && strings.Contains(a.Text, "https://example.slack.com/archives/") {
				return true
			}
		}
		return false
	})
}

func TestAuditChannelAndStatus(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_AUDIT_CHANNEL": "C0AUDIT01"})
	h.slack.Join("C0AUDIT01")
	m := h.orderFor(alice, "web-front", "1 year")
	h.command(carol, "status")
	st := h.ephemeral(carol, "open in this channel")
	for _, want := range []string{"web-front", "awaiting approval", "95.04", "0 of 1"} {
		if !strings.Contains(blockText(st.Raw), want) {
			t.Errorf("/renew status lacks %q:\n%s", want, blockText(st.Raw))
		}
	}
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	h.eventually("audit lines for the order, the approval and the payment", func() bool {
		var got []string
		for _, a := range h.slack.Messages("C0AUDIT01") {
			got = append(got, a.Text)
		}
		all := strings.Join(got, "\n")
		return len(got) >= 3 && strings.Contains(all, "created order 123456789") && strings.Contains(all, "approved") && strings.Contains(all, "Paid")
	})
	for _, a := range h.slack.Messages("C0AUDIT01") {
		if !strings.Contains(a.Text, "|web-front>") {
			t.Errorf("audit line without a link to the request: %q", a.Text)
		}
	}
	h.command(carol, "status")
	h.ephemeral(carol, "No open renewal requests")
}
