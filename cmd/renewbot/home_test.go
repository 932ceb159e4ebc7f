package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/slackfake"
)

// The Events API and the Home tab, end to end through signed HTTP.

// event posts an Events API body, signed, with Slack's retry headers when
// retry > 0, and returns the status and body of the answer.
func (h *harness) event(body string, retry int) (int, string) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(slackfake.SignedJSON(h.base+"/slack/events", secret, body, retry))
	if err != nil {
		h.t.Fatalf("POST /slack/events: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// openHome opens user's Home tab, as Slack does when they click the app,
// and waits for the n-th Home view published for them (1-based).
func (h *harness) openHome(user string, n int) string {
	h.t.Helper()
	if status, body := h.event(h.slack.HomeOpened(user, ""), 0); status != http.StatusOK {
		h.t.Fatalf("app_home_opened: %d %s", status, body)
	}
	return h.home(user, n)
}

// home waits for the n-th Home view published for user that contains
// every one of want, and returns its text and elements as JSON.
func (h *harness) home(user string, n int, want ...string) string {
	h.t.Helper()
	var view string
	h.eventually(fmt.Sprintf("home view %d of %s with %q", n, user, want), func() bool {
		homes := h.slack.Homes(user)
		if len(homes) < n {
			return false
		}
		view = homes[n-1]
		txt := blockText(view)
		for _, w := range want {
			if !strings.Contains(txt, w) {
				return false
			}
		}
		return true
	})
	return view
}

// warm has the bot read the account, so that the Home views that follow
// are published once each (a Home tab published while the account is
// read is published again once it is), and returns.
func (h *harness) warm() {
	h.t.Helper()
	const user = "U0WARM001"
	h.event(h.slack.HomeOpened(user, ""), 0)
	h.eventually("the account read for the Home tab", func() bool {
		return strings.Contains(blockText(h.slack.Home(user)), "to renew)")
	})
}

// homeElements lists the interactive elements of a Home view.
func homeElements(view string) []element {
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	_ = json.Unmarshal([]byte(view), &v)
	return elements(string(v.Blocks))
}

func homeAction(view, actionID string) (element, bool) {
	for _, e := range homeElements(view) {
		if e.ActionID == actionID {
			return e, true
		}
	}
	return element{}, false
}

// homeClick presses a button of user's Home tab.
func (h *harness) homeClick(user, actionID, value string) {
	h.t.Helper()
	status, body := h.post("/slack/interactions", h.slack.HomeClick(user, actionID, value))
	if status != http.StatusOK {
		h.t.Fatalf("home click %s: status %d: %s", actionID, status, body)
	}
}

// The Events API route is signed like the others and answers Slack's
// challenge; a forged or stale event is refused and publishes nothing.
func TestEventsAPISignatureAndChallenge(t *testing.T) {
	h := newHarness(t, nil)
	status, body := h.event(slackfake.URLVerification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"), 0)
	var reply struct{ Challenge string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &reply) != nil || reply.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification: %d %q", status, body)
	}

	forged := slackfake.SignedJSON(h.base+"/slack/events", "not-the-secret", h.slack.HomeOpened(bob, ""), 0)
	stale := slackfake.SignedJSON(h.base+"/slack/events", secret, h.slack.HomeOpened(bob, ""), 0)
	slackfake.Sign(stale.Header, secret, time.Now().Add(-6*time.Minute), h.slack.HomeOpened(bob, "EvStale"))
	unsigned := slackfake.SignedJSON(h.base+"/slack/events", secret, h.slack.HomeOpened(bob, ""), 0)
	unsigned.Header.Del("X-Slack-Signature")
	challenge := slackfake.SignedJSON(h.base+"/slack/events", "not-the-secret", slackfake.URLVerification("x"), 0)
	for name, req := range map[string]*http.Request{"forged": forged, "stale": stale, "unsigned": unsigned, "forged challenge": challenge} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "challenge") {
			t.Errorf("%s event: %d %q, want 401", name, resp.StatusCode, b)
		}
	}
	// Not JSON, but signed: refused, one line.
	if status, _ := h.event("team_id=T0001", 0); status != http.StatusBadRequest {
		t.Errorf("a signed form body on the events route: %d, want 400", status)
	}
	settle()
	if n := len(h.slack.Homes(bob)); n != 0 {
		t.Fatalf("%d Home views published for refused events", n)
	}
	// An event from another workspace is acked (a retry would be refused
	// too) and does nothing.
	other := strings.Replace(h.slack.HomeOpened(bob, ""), `"team_id":"T0001"`, `"team_id":"T0OTHER1"`, 2)
	if status, _ := h.event(other, 0); status != http.StatusOK {
		t.Fatalf("another workspace's event: %d, want 200", status)
	}
	settle()
	if n := len(h.slack.Homes(bob)); n != 0 || !strings.Contains(h.logs.String(), "request from outside the workspace refused") {
		t.Fatalf("another workspace's event published %d Home views", n)
	}
}

// Slack retries an event it thinks was lost (X-Slack-Retry-Num): it runs
// once, even after a restart.
func TestRetriedEventRunsOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.warm()
	opened := h.slack.HomeOpened(bob, "EvRETRY0001")
	if status, _ := h.event(opened, 0); status != http.StatusOK {
		t.Fatal(status)
	}
	h.home(bob, 1, "Waiting for your approval")
	for retry := 1; retry <= 2; retry++ {
		if status, _ := h.event(opened, retry); status != http.StatusOK {
			t.Fatalf("retry %d: %d", retry, status)
		}
	}
	h.restart()
	if status, _ := h.event(opened, 3); status != http.StatusOK {
		t.Fatal(status)
	}
	// A new event, after the retries: once it is published, the retries
	// had their chance to publish too.
	h.openHome(bob, 2)
	settle()
	if n := len(h.slack.Homes(bob)); n != 2 {
		t.Fatalf("%d Home views for one event delivered four times and one other, want 2\n%s", n, h.logs)
	}
	if !strings.Contains(h.logs.String(), "event delivered again, not run again") {
		t.Fatal("the logs do not say the retries were not run")
	}
}

// Two replicas on one PostgreSQL get the same event, and its retries, at
// the same moment: it runs once.
func TestRetriedEventTwoReplicas(t *testing.T) {
	url := postgresURL(t)
	h := newHarness(t, map[string]string{"RENEWBOT_DATABASE_URL": url})
	second := h.replica(t)
	h.warm()
	second.warm()
	opened := h.slack.HomeOpened(carol, "EvTWOREPLICAS")
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			target := h
			if i%2 == 1 {
				target = second
			}
			if status, _ := target.event(opened, i); status != http.StatusOK {
				t.Errorf("delivery %d: %d", i, status)
			}
		})
	}
	wg.Wait()
	h.home(carol, 1)
	second.openHome(carol, 2)
	settle()
	if n := len(h.slack.Homes(carol)); n != 2 {
		t.Fatalf("%d Home views for one event delivered 6 times to two replicas and one other, want 2", n)
	}
}

// replica starts a second bot on h's database, on its own ports.
func (h *harness) replica(t *testing.T) *harness {
	t.Helper()
	second := *h
	second.env = map[string]string{}
	for k, v := range h.env {
		second.env[k] = v
	}
	addr, admin := freeAddr(t), freeAddr(t)
	second.env["RENEWBOT_ADDR"], second.env["RENEWBOT_ADMIN_ADDR"] = addr, admin
	second.base, second.admin = "http://"+addr, "http://"+admin
	second.logs = &syncBuffer{}
	second.start()
	t.Cleanup(second.stop)
	return &second
}

// The Home tab of an approver, of the requester and of someone who may
// not approve: what waits, with the approve button only where a click
// would be allowed, in the same form as on the request's message.
func TestHomeTabs(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_APPROVERS": bob + "," + dave, "RENEWBOT_HOME_CHANNEL": channel})
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")

	bobs := h.openHome(bob, 1)
	h.home(bob, 1, "Waiting for your approval* (1)", "web-front", "95.04 €", "Requested by <@"+alice+">", "Expiring in the next 30 days")
	e, ok := homeAction(bobs, "home_approve")
	if !ok || e.Value != approve.Value || e.Confirm != approve.Confirm {
		t.Fatalf("bob's Home approve button %+v, want the message's value %q and confirm %q", e, approve.Value, approve.Confirm)
	}
	if _, ok := homeAction(bobs, "home_cancel"); ok {
		t.Error("bob may cancel alice's request from his Home: it is not his")
	}

	alices := h.openHome(alice, 1)
	if _, ok := homeAction(alices, "home_approve"); ok {
		t.Fatal("the requester's Home offers to approve her own request")
	}
	if !strings.Contains(blockText(alices), "Waiting for your approval* (0)") || !strings.Contains(blockText(alices), "Your open requests* (1)") {
		t.Fatalf("alice's Home:\n%s", blockText(alices))
	}
	if c, ok := homeAction(alices, "home_cancel"); !ok || !strings.HasPrefix(approve.Value, c.Value+":") {
		t.Fatalf("alice's Cancel %+v", c)
	}

	carols := h.openHome(carol, 1)
	if _, ok := homeAction(carols, "home_approve"); ok || !strings.Contains(blockText(carols), "Nothing waits for your approval.") {
		t.Fatalf("carol, who may not approve, has:\n%s", blockText(carols))
	}
	// Renew… buttons for what expires, posted in the team's channel.
	if _, ok := homeAction(carols, "home_renew"); !ok {
		t.Fatalf("no Renew… on carol's Home:\n%s", blockText(carols))
	}
}

// Approving from the Home tab is approving: the same checks (the
// requester's forged click is refused and pays nothing), one payment, the
// channel message and the audit trail updated as for a click there.
func TestApproveFromHome(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_AUDIT_CHANNEL": "C0AUDIT01"})
	h.slack.Join("C0AUDIT01")
	m := h.orderFor(alice, "web-front", "1 year")
	approve := h.find(m, "approve", "")
	h.openHome(alice, 1)
	bobs := h.openHome(bob, 1)
	value := h.findHome(bobs, "home_approve").Value

	// alice forges the click her Home does not offer.
	h.homeClick(alice, "home_approve", value)
	h.home(alice, 2, "You asked for this renewal, so a teammate has to approve it")
	// A Home button sent from a message (no Home view): refused too.
	h.click(bob, m.TS, "home_approve", value)
	h.ephemeral(bob, "works on the Home tab only")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls after refused clicks", n)
	}

	// bob approves from his Home, twice (a double click, a replay).
	h.homeClick(bob, "home_approve", value)
	h.homeClick(bob, "home_approve", value)
	h.message(1, "Paid", bob)
	// Either click may be answered last: the one that paid, or the one
	// that found it paid. Both say so.
	h.eventually("bob's Home to say it is paid", func() bool {
		txt := blockText(h.slack.Home(bob))
		return strings.Contains(txt, "You approved, and web-front is paid") || strings.Contains(txt, "This renewal is already paid")
	})
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls, want 1", n)
	}
	// The thread and the audit channel say what a click in the channel
	// would have.
	h.eventually("the thread reply and the audit line", func() bool {
		return len(h.slack.Replies(channel, m.TS)) >= 3 && len(h.slack.Messages("C0AUDIT01")) >= 2
	})
	var thread []string
	for _, r := range h.slack.Replies(channel, m.TS) {
		thread = append(thread, r.Text)
	}
	if !strings.Contains(strings.Join(thread, "\n"), "<@"+bob+"> approved (1 of 1 approval)") {
		t.Errorf("thread:\n%s", strings.Join(thread, "\n"))
	}
	// The message's own button, pressed now, is for a paid request.
	h.click(carol, m.TS, "approve", approve.Value)
	h.ephemeral(carol, "already paid")
	// Everyone who opened Home lately sees the payment in this month's.
	h.eventually("alice's Home to show the month's payment", func() bool {
		txt := blockText(h.slack.Home(alice))
		return strings.Contains(txt, "Last payments") && strings.Contains(txt, "Your open requests* (0)")
	})
}

// findHome returns the Home view's element with actionID.
func (h *harness) findHome(view, actionID string) element {
	h.t.Helper()
	e, ok := homeAction(view, actionID)
	if !ok {
		h.t.Fatalf("no %s on the Home view:\n%s", actionID, blockText(view))
	}
	return e
}

// Cancel and Renew… from the Home tab act in the request's (the team's)
// channel.
func TestCancelAndRenewFromHome(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_CHANNELS": channel})
	h.command(alice, "web-front")
	h.message(1, "Choose")
	alices := h.openHome(alice, 1)
	cancel := h.findHome(alices, "home_cancel")
	h.homeClick(carol, "home_cancel", cancel.Value) // not hers, not an approver's list: anyone may approve, so she may cancel
	h.message(1, "Cancelled", carol)

	carols := h.openHome(carol, 1)
	var renew element
	for _, e := range homeElements(carols) {
		if e.ActionID == "home_renew" && strings.Contains(e.Context, "storage-1") {
			renew = e
		}
	}
	if renew.Value == "" {
		t.Fatalf("no Renew… for storage-1 on:\n%s", blockText(carols))
	}
	h.homeClick(carol, "home_renew", renew.Value)
	h.message(2, "storage-1", "Choose")
	h.eventually("carol's Home to say where the renewal is", func() bool {
		return strings.Contains(blockText(h.slack.Home(carol)), "I posted the renewal of storage-1 in <#"+channel+">")
	})
}

// The Home tab over Socket Mode: an events_api envelope takes the same
// path, and a redelivered one runs once.
func TestHomeOverSocketMode(t *testing.T) {
	h := newHarness(t, map[string]string{"SLACK_APP_TOKEN": "xapp-1-A0001-1-e2e", "SLACK_SIGNING_SECRET": ""})
	sm := h.slack.SocketMode()
	if err := sm.WaitConnections(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.WaitAck(sm.Send("events_api", json.RawMessage(h.slack.HomeOpened("U0WARM001", "")), false), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	h.eventually("the account read", func() bool { return strings.Contains(blockText(h.slack.Home("U0WARM001")), "to renew)") })
	opened := json.RawMessage(h.slack.HomeOpened(bob, "EvSOCKET0001"))
	id := sm.Send("events_api", opened, false)
	if _, err := sm.WaitAck(id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	h.home(bob, 1, "Waiting for your approval")
	sm.Redeliver(id)                              // the same envelope again
	again := sm.Send("events_api", opened, false) // Slack's retry: a new envelope, the same event
	if _, err := sm.WaitAck(again, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	sm.Send("events_api", json.RawMessage(h.slack.HomeOpened(bob, "EvSOCKET0002")), false)
	h.home(bob, 2)
	settle()
	if n := len(h.slack.Homes(bob)); n != 2 {
		t.Fatalf("%d Home views for two events, one delivered three times", n)
	}
}

// The Home tab shows and acts on the requests of the person's channels
// only: what the requests' messages show them, and where a click could
// come from. Someone outside the channel sees nothing waiting and their
// forged click pays nothing; when Slack cannot say who is in, the click
// is refused rather than guessed.
func TestHomeOnlyInYourChannels(t *testing.T) {
	const frank = "U0FRANK01" // in the workspace, not in the channel
	h := newHarness(t, map[string]string{"RENEWBOT_HOME_CHANNEL": channel})
	h.warm()
	m := h.orderFor(alice, "web-front", "1 year")
	value := h.find(m, "approve", "").Value
	franks := h.openHome(frank, 1)
	if _, ok := homeAction(franks, "home_approve"); ok || !strings.Contains(blockText(franks), "Waiting for your approval* (0)") {
		t.Fatalf("frank, outside the channel, has:\n%s", blockText(franks))
	}
	h.homeClick(frank, "home_approve", value)
	h.home(frank, 2, "You are not in <#"+channel+">")
	h.homeClick(frank, "home_renew", "10001")
	h.home(frank, 3, "You are not in <#"+channel+">")
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls from outside the channel", n)
	}
	if n := len(h.slack.Messages(channel)); n != 1 {
		t.Fatalf("%d messages: frank's Renew… posted one", n)
	}

	// Slack cannot tell who is in the channel: bob, who is, is refused.
	f := newHarness(t, nil)
	f.slack.Fail("conversations.members", slackfake.Fault{Error: "internal_error"})
	m = f.orderFor(alice, "web-front", "1 year")
	f.homeClick(bob, "home_approve", f.find(m, "approve", "").Value)
	f.eventually("bob told it cannot be checked", func() bool {
		return strings.Contains(blockText(f.slack.Home(bob)), "I can't check right now that you are in")
	})
	settle()
	if n := f.payCalls(); n != 0 {
		t.Fatalf("%d pay calls while Slack could not say who is in the channel", n)
	}
}
