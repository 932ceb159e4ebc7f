package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// check reports the token's scopes, the Home tab's channel, what it
// cannot read of the Events API, and the monthly budget.
func TestCheckHomeAndBudget(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_MONTHLY_BUDGET": "500", "RENEWBOT_TIMEZONE": "Europe/Paris", "RENEWBOT_HOME_CHANNEL": "C0HOME001"})
	h.slack.AddChannels("C0HOME001")
	m := h.orderFor(alice, "web-front", "1 year")
	h.click(bob, m.TS, "approve", h.find(m, "approve", "").Value)
	h.message(1, "Paid")
	var out strings.Builder
	if err := run(context.Background(), []string{"check"}, &out, io.Discard); err == nil {
		t.Fatalf("check passed with the bot outside its Home channel:\n%s", out.String())
	}
	for _, want := range []string{
		"[ok  ] Slack scopes: commands, chat:write, usergroups:read, channels:read, groups:read, users:read (the Home tab needs none more)\n",
		"[FAIL] Slack channel C0HOME001 (Home tab): the bot is not a member",
		"[info] Home tab: Slack must send the app_home_opened event to https://YOUR-HOST/slack/events",
		"[ok  ] monthly budget: 500.00 EUR with tax; 95.04 EUR spent in ",
		"(Europe/Paris), 404.96 EUR left\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	h.slack.Join("C0HOME001")
	h.slack.SetScopes("commands", "chat:write", "channels:read", "groups:read")
	out.Reset()
	err := run(context.Background(), []string{"check"}, &out, io.Discard)
	if err == nil || err.Error() != "1 check failed" {
		t.Errorf("check = %v, want 1 check failed", err)
	}
	if !strings.Contains(out.String(), "[FAIL] Slack scopes: the bot token lacks usergroups:read, users:read: add them to the app (manifest.yml) and reinstall it\n") {
		t.Errorf("check does not name the missing scopes:\n%s", out.String())
	}
}

// manifest.yml asks for the scopes check checks, subscribes to
// app_home_opened at /slack/events and turns the Home tab on.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "manifest.yml"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(raw)
	var scopes []string
	in := false
	for _, l := range strings.Split(manifest, "\n") {
		switch t := strings.TrimSpace(l); {
		case t == "bot:":
			in = true
		case in && strings.HasPrefix(t, "- "):
			scopes = append(scopes, strings.Fields(strings.TrimPrefix(t, "- "))[0])
		case in:
			in = false
		}
	}
	if !slices.Equal(scopes, neededScopes) {
		t.Errorf("manifest.yml's bot scopes %v, check's %v", scopes, neededScopes)
	}
	for _, want := range []string{
		"request_url: https://renewbot.example.com/slack/events", "- app_home_opened", "home_tab_enabled: true",
		"url: https://renewbot.example.com/slack/commands", "request_url: https://renewbot.example.com/slack/interactions",
	} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest.yml lacks %q", want)
		}
	}
}
