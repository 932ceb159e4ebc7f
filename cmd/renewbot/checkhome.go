package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// What `renewbot check` says about the Slack app's scopes, the Events API
// and the Home tab, and the monthly budget.

// neededScopes are the bot token's scopes manifest.yml asks for
// (TestManifestScopes keeps the two in step). views.publish and the
// app_home_opened event need none.
var neededScopes = []string{"commands", "chat:write", "usergroups:read", "channels:read", "groups:read", "users:read"}

// checkScopes reads the bot token's scopes from the X-OAuth-Scopes header
// Slack puts on every Web API answer, and names those it lacks.
func checkScopes(ctx context.Context, c Config, mark func(bool, string, string), note func(string, string)) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.SlackAPIURL, "/")+"/auth.test", nil)
	if err != nil {
		mark(false, "Slack scopes", err.Error())
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.SlackBotToken)
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		mark(false, "Slack scopes", slackCheckText(err, c.SlackAPIURL))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	header := resp.Header.Get("X-OAuth-Scopes")
	if header == "" {
		note("Slack scopes", "Slack did not say which scopes the token has; manifest.yml lists those the bot needs")
		return
	}
	var have []string
	for _, s := range strings.Split(header, ",") {
		have = append(have, strings.TrimSpace(s))
	}
	var missing []string
	for _, s := range neededScopes {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		mark(false, "Slack scopes", fmt.Sprintf("the bot token lacks %s: add them to the app (manifest.yml) and reinstall it", strings.Join(missing, ", ")))
		return
	}
	mark(true, "Slack scopes", strings.Join(neededScopes, ", ")+" (the Home tab needs none more)")
}

// noteEvents says what check cannot read: the app's Event Subscriptions
// and App Home settings, which a bot token cannot see.
func noteEvents(c Config, note func(string, string)) {
	if c.SlackAppToken != "" {
		note("Home tab", "Slack must send the app_home_opened event over Socket Mode and show the Home tab (manifest.yml: event_subscriptions, app_home); check cannot read the app's settings")
		return
	}
	note("Home tab", "Slack must send the app_home_opened event to https://YOUR-HOST/slack/events (Event Subscriptions; Slack checks the URL when it is saved) and show the Home tab (App Home), as manifest.yml sets; check cannot read the app's settings")
}

// checkBudget says what the month's budget allows, from the database.
func checkBudget(ctx context.Context, c Config, store *sqlstore.Store, mark func(bool, string, string)) {
	b := c.budget()
	if !b.Set() {
		mark(true, "monthly budget", "none (RENEWBOT_MONTHLY_BUDGET is not set)")
		return
	}
	rn := &renew.Renewer{Store: store, Policy: &renew.Policy{}, Budget: b, Now: store.Now}
	s, err := rn.Spending(ctx, rn.ThisMonth())
	if err != nil {
		mark(false, "monthly budget", err.Error())
		return
	}
	left, _ := s.Left()
	cur := s.Currency
	if cur != "" {
		cur = " " + cur
	}
	mark(true, "monthly budget", fmt.Sprintf("%s%s with tax; %s%s spent in %s (%s), %s%s left",
		renew.FormatUcents(b.Limit), cur, renew.FormatUcents(s.Total), cur, s.Month, s.Month.Zone, renew.FormatUcents(left), cur))
}
