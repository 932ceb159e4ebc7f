package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/slackfake"
)

// Socket Mode: the same flow with no public URL. Envelopes are acked at
// once, with the answer a user sees, and only the admin address listens.
func TestSocketMode(t *testing.T) {
	h := newHarness(t, map[string]string{"SLACK_APP_TOKEN": "xapp-1-A0001-1-e2e", "SLACK_SIGNING_SECRET": ""})
	sm := h.slack.SocketMode()
	if err := sm.WaitConnections(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// The envelope is acked while OVHcloud has not answered yet.
	release := h.ovh.Hold()
	id := sm.SendSlashCommand(h.slack.Command(channel, alice, "web-front"))
	ack, err := sm.WaitAck(id, 10*time.Second)
	release()
	if err != nil {
		t.Fatal(err)
	}
	if ack.EnvelopeID != id || !strings.Contains(string(ack.Payload), "Looking up") {
		t.Fatalf("ack = %+v", ack)
	}
	m := h.message(1, "Choose")
	click := h.slack.Click(channel, m.TS, alice, "choose", h.find(m, "choose", "1 year").Value)
	if _, err := sm.WaitAck(sm.SendInteractive([]byte(click.Get("payload"))), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	m = h.message(1, "Approve and pay")
	approve := h.slack.Click(channel, m.TS, bob, "approve", h.find(m, "approve", "").Value)
	sm.Drop() // the connection drops; the bot reconnects
	if err := sm.WaitConnections(2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.WaitAck(sm.SendInteractive([]byte(approve.Get("payload"))), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	h.message(1, "Paid", bob)

	// Nothing listens for Slack over HTTP: there is nothing to expose.
	if resp, err := http.DefaultClient.Do(slackfake.SignedRequest(h.base+"/slack/commands", secret, h.slack.Command(channel, alice, "web-front"))); err == nil {
		resp.Body.Close()
		t.Fatalf("HTTP command in Socket Mode: %s, want no listener on RENEWBOT_ADDR", resp.Status)
	}
	if status, _ := get(t, h.admin+"/healthz"); status != http.StatusOK {
		t.Fatalf("/healthz in Socket Mode: %d", status)
	}
	if strings.Contains(h.logs.String(), "xapp-1-A0001-1-e2e") {
		t.Fatal("the app token is in the logs")
	}
}

// Socket Mode applies the same rules: a click from another workspace or a
// Slack Connect partner, and a command from another workspace, change
// nothing and reach no OVHcloud route.
func TestSocketModeOnlyThisWorkspaceActs(t *testing.T) {
	h := newHarness(t, map[string]string{"SLACK_APP_TOKEN": "xapp-1-A0001-1-e2e", "SLACK_SIGNING_SECRET": ""})
	sm := h.slack.SocketMode()
	if err := sm.WaitConnections(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	send := func(form url.Values) {
		t.Helper()
		if _, err := sm.WaitAck(sm.SendInteractive([]byte(form.Get("payload"))), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sm.WaitAck(sm.SendSlashCommand(h.slack.Command(channel, alice, "web-front")), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m := h.message(1, "Choose")
	send(h.slack.Click(channel, m.TS, alice, "choose", h.find(m, "choose", "1 year").Value))
	m = h.message(1, "Approve and pay")
	approve := h.find(m, "approve", "").Value
	calls := len(h.ovh.Calls())
	send(foreign(h.slack.Click(channel, m.TS, eve, "approve", approve), func(p map[string]any) {
		p["team"] = map[string]any{"id": "T0OTHER01"}
		p["user"].(map[string]any)["team_id"] = "T0OTHER01"
	}))
	send(foreign(h.slack.Click(channel, m.TS, eve, "approve", approve), func(p map[string]any) {
		p["user"].(map[string]any)["team_id"] = "T0PARTNER"
	}))
	cmd := h.slack.Command(channel, eve, "api-back")
	cmd.Set("team_id", "T0OTHER01")
	ack, err := sm.WaitAck(sm.SendSlashCommand(cmd), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ack.Payload), "only acts for members of the workspace") {
		t.Fatalf("a command from another workspace was acked %s", ack.Payload)
	}
	settle()
	if n := len(h.ovh.Calls()); n != calls {
		t.Fatalf("%d OVHcloud calls from outside the workspace", n-calls)
	}
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls from outside the workspace", n)
	}
	send(h.slack.Click(channel, m.TS, bob, "approve", approve))
	h.message(1, "Paid", bob)
}
