package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/renew/ovhcloud"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// check verifies, before a deployment, everything the bot needs from its
// environment and prints a checklist. It exits non-zero on any problem.
func check(ctx context.Context, stdout io.Writer) error {
	var failed int
	mark := func(ok bool, what, detail string) {
		sign := "ok  "
		if !ok {
			sign = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "[%s] %s", sign, what)
		if detail != "" {
			fmt.Fprintf(stdout, ": %s", detail)
		}
		fmt.Fprintln(stdout)
	}
	note := func(what, detail string) { fmt.Fprintf(stdout, "[info] %s: %s\n", what, detail) }
	c, err := loadConfig()
	if err != nil {
		mark(false, "configuration", err.Error())
		return errors.New("the configuration is not valid")
	}
	mark(true, "configuration", "")
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	api := slack.New(c.SlackBotToken, slack.OptionAPIURL(c.SlackAPIURL), slack.OptionHTTPClient(slackHTTPClient()))
	if auth, err := api.AuthTestContext(ctx); err != nil {
		mark(false, "Slack auth.test", slackCheckText(err, c.SlackAPIURL))
	} else {
		mark(true, "Slack auth.test", fmt.Sprintf("bot %s in workspace %s", auth.User, auth.Team))
		checkScopes(ctx, c, mark, note)
		checkChannels(ctx, c, api, auth.User, mark)
	}
	noteEvents(c, note)

	ovh, err := ovhcloud.New(ovhConfig(c))
	if err != nil {
		mark(false, "OVHcloud credentials", err.Error())
	} else {
		checkOVH(ctx, c, ovh, mark)
	}

	checkDatabase(ctx, c, mark, note)
	if failed > 0 {
		return fmt.Errorf("%s failed", count(failed, "check"))
	}
	fmt.Fprintln(stdout, "renewbot is ready.")
	return nil
}

// checkDatabase opens the database as it is, creating and migrating
// nothing: check only looks. A SQLite file that is not there fails;
// migrations the bot will apply at start are said, and the budget is
// added up only on a schema that has them all.
func checkDatabase(ctx context.Context, c Config, mark func(bool, string, string), note func(string, string)) {
	store, err := sqlstore.Open(ctx, c.DatabaseURL, sqlstore.Existing(), sqlstore.NoMigrate())
	switch {
	case errors.Is(err, sqlstore.ErrNoDatabase):
		mark(false, "database", err.Error()+": start the bot once to create it")
		return
	case err != nil:
		mark(false, "database", err.Error())
		return
	}
	defer store.Close()
	pending, err := store.Pending(ctx)
	if err != nil {
		mark(false, "database", err.Error())
		return
	}
	mark(true, "database", "")
	if len(pending) > 0 {
		note("database", fmt.Sprintf("%s not applied yet: the bot applies %s when it starts", migrations(pending), map[bool]string{true: "it", false: "them"}[len(pending) == 1]))
		note("monthly budget", "not checked until then")
		return
	}
	checkBudget(ctx, c, store, mark)
}

// migrations names migration versions: "migration 0005", "migrations
// 0004, 0005".
func migrations(versions []int) string {
	s := make([]string, len(versions))
	for i, v := range versions {
		s[i] = fmt.Sprintf("%04d", v)
	}
	if len(s) == 1 {
		return "migration " + s[0]
	}
	return "migrations " + strings.Join(s, ", ")
}

// checkChannels checks the bot is a member of the channels it posts in
// without being asked there: the audit and reminder channels, and
// RENEWBOT_CHANNELS. With chat:write alone (no chat:write.public), Slack
// refuses its messages elsewhere (not_in_channel). conversations.info
// needs channels:read (public channels) and groups:read (private ones).
func checkChannels(ctx context.Context, c Config, api *slack.Client, botName string, mark func(bool, string, string)) {
	type use struct{ id, what string }
	var uses []use
	if c.AuditChannel != "" {
		uses = append(uses, use{c.AuditChannel, "audit"})
	}
	if c.ReminderChannel != "" {
		uses = append(uses, use{c.ReminderChannel, "reminders"})
	}
	for _, ch := range c.Channels {
		uses = append(uses, use{ch, "RENEWBOT_CHANNELS"})
	}
	if c.HomeChannel != "" && !slices.Contains(c.Channels, c.HomeChannel) {
		uses = append(uses, use{c.HomeChannel, "Home tab"})
	}
	if botName == "" {
		botName = "renewbot"
	}
	for _, u := range uses {
		what := fmt.Sprintf("Slack channel %s (%s)", u.id, u.what)
		info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: u.id})
		switch code := bot.SlackErrorCode(err); {
		case err == nil && info.IsArchived:
			mark(false, what, "the channel is archived, so Slack refuses every message there: unarchive it, or name another channel")
		case err == nil && info.IsMember:
			mark(true, what, "the bot is a member")
		case err == nil:
			mark(false, what, fmt.Sprintf("the bot is not a member, so Slack refuses its messages there: type /invite @%s in the channel", botName))
		case code == "channel_not_found":
			mark(false, what, fmt.Sprintf("no such channel, or a private channel the bot is not in: type /invite @%s in the channel", botName))
		case code == "missing_scope":
			mark(false, what, "the Slack app lacks the channels:read and groups:read scopes this check needs: add them (manifest.yml) and reinstall the app")
		default:
			mark(false, what, "conversations.info: "+code)
		}
	}
}

func checkOVH(ctx context.Context, c Config, ovh *ovhcloud.Client, mark func(bool, string, string)) {
	if ovh.SignedWithApplicationKey() {
		checkApplicationKey(ctx, c.OVHEndpoint, ovh, mark)
	} else {
		checkIAMLogin(ctx, ovh, mark)
	}
	if c.Payment.Mean != "" {
		checkPaymentMean(ctx, c, ovh, mark)
		return
	}
	id, err := ovh.DefaultPaymentMethod(ctx)
	if err != nil {
		mark(false, "default payment method", ovhErrText(err))
		return
	}
	pm, err := ovh.PaymentMethod(ctx, id)
	if err != nil {
		mark(false, "default payment method", ovhErrText(err))
		return
	}
	mark(strings.EqualFold(pm.Status, "VALID"), "default payment method", fmt.Sprintf("%d, %s %s, %s", pm.ID, pm.Type, pm.Label, pm.Status))
}

// checkPaymentMean checks RENEWBOT_PAYMENT=MEAN:ID: payWithRegisteredPaymentMean
// takes the legacy paymentMeanId, which GET /me/payment/method/{id} shows
// beside the paymentMethodId; a method of the account must have it, of the
// mean's type, and be valid.
func checkPaymentMean(ctx context.Context, c Config, ovh *ovhcloud.Client, mark func(bool, string, string)) {
	mean, id := c.Payment.Mean, c.Payment.MeanID
	typ, needsID := ovhcloud.MeanTypes[mean]
	if !needsID {
		mark(true, "payment", "registered payment mean "+mean)
		return
	}
	what := fmt.Sprintf("payment mean %s:%d", mean, id)
	ids, err := ovh.PaymentMethods(ctx)
	if err != nil {
		mark(false, what, ovhErrText(err))
		return
	}
	var byMethodID *ovhcloud.PaymentMethod
	for _, mid := range ids {
		pm, err := ovh.PaymentMethod(ctx, mid)
		if err != nil {
			mark(false, what, ovhErrText(err))
			return
		}
		if pm.MeanID == id {
			switch {
			case pm.Type != typ:
				mark(false, what, fmt.Sprintf("paymentMeanId %d is payment method %d, a %s, not a %s", id, pm.ID, pm.Type, typ))
			case !strings.EqualFold(pm.Status, "VALID"):
				mark(false, what, fmt.Sprintf("payment method %d (%s %s) is %s", pm.ID, pm.Type, pm.Label, pm.Status))
			default:
				mark(true, what, fmt.Sprintf("payment method %d, %s %s, %s", pm.ID, pm.Type, pm.Label, pm.Status))
			}
			return
		}
		if pm.ID == id {
			byMethodID = &pm
		}
	}
	if byMethodID != nil && byMethodID.MeanID != 0 {
		mark(false, what, fmt.Sprintf("%d is a paymentMethodId; payWithRegisteredPaymentMean takes its paymentMeanId: set RENEWBOT_PAYMENT=%s:%d", id, mean, byMethodID.MeanID))
		return
	}
	mark(false, what, fmt.Sprintf("no payment method of the account has paymentMeanId %d (read it with GET /me/payment/method/{id} → paymentMeanId)", id))
}

// checkApplicationKey reads the credential of an application key and
// compares its access rules with what the bot needs.
func checkApplicationKey(ctx context.Context, endpoint string, ovh *ovhcloud.Client, mark func(bool, string, string)) {
	cred, err := ovh.CurrentCredential(ctx)
	if why, ok := unreachable(err); ok {
		mark(false, "OVHcloud credential", fmt.Sprintf("cannot reach OVHcloud at %s (OVH_ENDPOINT): %s", endpoint, why))
		return
	}
	if err != nil {
		mark(false, "OVHcloud credential", ovhErrText(err))
		return
	}
	mark(cred.Status == "validated", "OVHcloud credential", fmt.Sprintf("%s (application %s)", cred.Status, cred.ApplicationID))
	if !cred.Expiration.IsZero() {
		left := time.Until(cred.Expiration)
		mark(left > 7*24*time.Hour, "OVHcloud credential expiry", cred.Expiration.Format("2006-01-02"))
	}
	if missing := ovhcloud.Missing(cred.Rules, ovhcloud.NeededRules); len(missing) > 0 {
		for _, r := range missing {
			mark(false, "OVHcloud access rule", r.Method+" "+r.Path+" is not granted")
		}
	} else {
		mark(true, "OVHcloud access rules", fmt.Sprintf("all %d granted", len(ovhcloud.NeededRules)))
	}
}

// checkIAMLogin checks an OAuth2 service account or an access token. IAM
// policies grant their calls, and the bot cannot read them: each call the
// bot needs is tried on an id that does not exist (service 0, order 0),
// where a call not granted is refused before OVHcloud looks for the id.
// Nothing is read, ordered or paid.
func checkIAMLogin(ctx context.Context, ovh *ovhcloud.Client, mark func(bool, string, string)) {
	d, err := ovh.Details(ctx)
	if err != nil {
		mark(false, "OVHcloud login", ovhErrText(err))
		return
	}
	who := d.Method
	if d.User != "" {
		who += " " + d.User
	}
	mark(true, "OVHcloud login", fmt.Sprintf("%s (%s)", ovh.Login(), who))
	var missing int
	for _, r := range ovhcloud.NeededRules {
		ok, err := ovh.Probe(ctx, r)
		switch {
		case err != nil:
			missing++
			mark(false, "OVHcloud permission", ovh.GrantText(r)+": "+ovhErrText(err))
		case !ok:
			missing++
			mark(false, "OVHcloud permission", ovh.GrantText(r)+" is not granted")
		}
	}
	if missing == 0 {
		mark(true, "OVHcloud permissions", fmt.Sprintf("all %d calls granted", len(ovhcloud.NeededRules)))
	}
}

// ovhErrText says what an OVHcloud error means for whoever runs check:
// the same words the bot's users get for a refused login or call.
func ovhErrText(err error) string {
	if t := bot.OVHLoginText(err); t != "" {
		return t
	}
	return err.Error()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
