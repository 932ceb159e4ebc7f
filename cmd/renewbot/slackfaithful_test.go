package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// /renew typed in a channel the bot was never invited to: Slack refuses
// its message there (not_in_channel), nothing is ordered, and whoever
// typed it learns how to invite the bot (the response_url works in any
// channel).
func TestNotInChannelTellsHowToInvite(t *testing.T) {
	h := newHarness(t, nil)
	const elsewhere = "C0NEW0001"
	status, _ := h.post("/slack/commands", h.slack.Command(elsewhere, alice, "web-front"))
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	r := h.ephemeral(alice, "invite me first with `/invite @renewbot`")
	if r.ResponseType != "ephemeral" {
		t.Errorf("answer %+v is not ephemeral", r)
	}
	if n := len(h.slack.Messages(elsewhere)); n != 0 {
		t.Fatalf("%d messages in a channel the bot is not in", n)
	}
	if o := h.ovh.Orders(); len(o) != 0 {
		t.Fatalf("orders = %+v", o)
	}
	// Once invited, the same command works.
	h.slack.Join(elsewhere)
	h.post("/slack/commands", h.slack.Command(elsewhere, alice, "web-front"))
	h.eventually("the request message once invited", func() bool { return len(h.slack.Messages(elsewhere)) == 1 })
}

// `renewbot check` says which configured channels the bot is not in, which
// are archived and which do not exist.
func TestCheckChannelMembership(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.AddChannels("C0AUDIT01", "C0REMIND1")
	h.slack.Archive("C0OLD0001")
	t.Setenv("RENEWBOT_AUDIT_CHANNEL", "C0AUDIT01")
	t.Setenv("RENEWBOT_REMINDER_CHANNEL", "C0REMIND1")
	t.Setenv("RENEWBOT_CHANNELS", channel+",C0OLD0001,C0NOSUCH0")
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed with the bot outside the audit and reminder channels:\n%s", out.String())
	}
	for _, want := range []string{
		"[FAIL] Slack channel C0AUDIT01 (audit): the bot is not a member, so Slack refuses its messages there: type /invite @",
		"[FAIL] Slack channel C0REMIND1 (reminders): the bot is not a member",
		"[ok  ] Slack channel " + channel + " (RENEWBOT_CHANNELS): the bot is a member",
		"[FAIL] Slack channel C0OLD0001 (RENEWBOT_CHANNELS): the channel is archived, so Slack refuses every message there: unarchive it, or name another channel\n",
		"[FAIL] Slack channel C0NOSUCH0 (RENEWBOT_CHANNELS): no such channel, or a private channel the bot is not in",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}

// A trigger_id lives three seconds: a Cancel click whose trigger expired
// before the bot opened the reason dialog still cancels, without a reason.
func TestCancelWithAnExpiredTrigger(t *testing.T) {
	h := newHarness(t, nil)
	clk := fakeclock.New(time.Now())
	h.slack.SetClock(clk.Now)
	m := h.orderFor(alice, "web-front", "1 year")
	form := h.slack.Click(channel, m.TS, alice, "cancel", h.find(m, "cancel", "").Value)
	clk.Advance(slackfake.TriggerLife + time.Second)
	if status, _ := h.post("/slack/interactions", form); status != 200 {
		t.Fatal(status)
	}
	h.message(1, "Cancelled")
	if n := len(h.slack.Views()); n != 0 {
		t.Fatalf("%d modals opened with an expired trigger", n)
	}
	if !strings.Contains(h.logs.String(), "expired_trigger_id") {
		t.Error("the expired trigger is not in the logs")
	}
}

// A response_url is good for thirty minutes: an answer after that (a
// slow OVHcloud, a queue) reaches the user through chat.postEphemeral.
func TestExpiredResponseURLFallsBack(t *testing.T) {
	h := newHarness(t, nil)
	clk := fakeclock.New(time.Now())
	h.slack.SetClock(clk.Now)
	form := h.slack.Command(channel, alice, "nosuch.example.net")
	clk.Advance(slackfake.ResponseURLLife + time.Minute)
	h.post("/slack/commands", form)
	h.ephemeral(alice, "I can't find `nosuch.example.net`")
	if n := len(h.slack.Calls("chat.postEphemeral")); n != 1 {
		t.Fatalf("%d chat.postEphemeral calls, want the one answer the expired response_url could not take", n)
	}
}
