package main

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/renewbot/renewbot/renew"
)

// Config is renewbot's environment (DESIGN.md's configuration table).
type Config struct {
	SlackBotToken      string `envconfig:"SLACK_BOT_TOKEN" desc:"the bot token, xoxb-…"`
	SlackSigningSecret string `envconfig:"SLACK_SIGNING_SECRET" desc:"the app's signing secret (HTTP mode)"`
	SlackAppToken      string `envconfig:"SLACK_APP_TOKEN" desc:"xapp-…: switches to Socket Mode"`
	SlackAPIURL        string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL"`

	OVHEndpoint          string        `envconfig:"OVH_ENDPOINT" default:"ovh-eu" desc:"ovh-eu, ovh-ca, ovh-us, …, a base URL, or sandbox"`
	OVHApplicationKey    string        `envconfig:"OVH_APPLICATION_KEY"`
	OVHApplicationSecret string        `envconfig:"OVH_APPLICATION_SECRET"`
	OVHConsumerKey       string        `envconfig:"OVH_CONSUMER_KEY"`
	OVHClientID          string        `envconfig:"OVH_CLIENT_ID"`
	OVHClientSecret      string        `envconfig:"OVH_CLIENT_SECRET"`
	OVHAccessToken       string        `envconfig:"OVH_ACCESS_TOKEN"`
	OVHTokenURL          string        `envconfig:"OVH_OAUTH2_TOKEN_URL" desc:"OAuth2 token endpoint; only needed with OVH_ENDPOINT as a base URL"`
	OVHTimeout           time.Duration `envconfig:"OVH_TIMEOUT" default:"20s" desc:"timeout of one OVHcloud call"`

	Addr        string `envconfig:"RENEWBOT_ADDR" default:":8080" desc:"listen address of Slack's routes (HTTP mode)"`
	AdminAddr   string `envconfig:"RENEWBOT_ADMIN_ADDR" default:":9090" desc:"listen address of /healthz, /readyz and /metrics"`
	DatabaseURL string `envconfig:"RENEWBOT_DATABASE_URL" default:"sqlite:renewbot.db" desc:"sqlite:PATH or postgres://…"`

	Approvers    IDList        `envconfig:"RENEWBOT_APPROVERS" desc:"comma list of Slack user (U…, W…) and group (S…) ids"`
	Requesters   IDList        `envconfig:"RENEWBOT_REQUESTERS" desc:"comma list of Slack user and group ids"`
	Channels     ChannelList   `envconfig:"RENEWBOT_CHANNELS" desc:"comma list of Slack channel ids (C…, G…, D…)"`
	SelfApproval bool          `envconfig:"RENEWBOT_SELF_APPROVAL" default:"false"`
	Approvals    int           `envconfig:"RENEWBOT_APPROVALS" default:"1"`
	MaxAmount    Amount        `envconfig:"RENEWBOT_MAX_AMOUNT" desc:"largest amount with tax, e.g. 500 or 99.99"`
	RequestTTL   time.Duration `envconfig:"RENEWBOT_REQUEST_TTL" default:"24h"`
	Payment      PaymentSpec   `envconfig:"RENEWBOT_PAYMENT" default:"default"`
	DryRun       bool          `envconfig:"RENEWBOT_DRY_RUN" default:"false"`
	AuditChannel string        `envconfig:"RENEWBOT_AUDIT_CHANNEL" desc:"channel id where each step is logged"`
	GroupsTTL    time.Duration `envconfig:"RENEWBOT_GROUPS_TTL" default:"5m" desc:"how long user group members are cached"`

	OVHConcurrency  int     `envconfig:"RENEWBOT_OVH_CONCURRENCY" default:"8" desc:"OVHcloud calls at once when listing the account"`
	ReminderChannel string  `envconfig:"RENEWBOT_REMINDER_CHANNEL" desc:"channel id for the daily reminder digest"`
	ReminderDays    Days    `envconfig:"RENEWBOT_REMINDER_DAYS" default:"30,7,1" desc:"days before expiry when services are reminded"`
	ReminderAt      DailyAt `envconfig:"RENEWBOT_REMINDER_AT" default:"09:00" desc:"daily time of the digest, e.g. 09:00 Europe/Paris (without a zone: RENEWBOT_TIMEZONE's)"`

	MonthlyBudget Amount `envconfig:"RENEWBOT_MONTHLY_BUDGET" desc:"the most paid in a calendar month, with tax, e.g. 2000"`
	TimeZone      Zone   `envconfig:"RENEWBOT_TIMEZONE" default:"UTC" desc:"the zone months (and reminder times without one) are counted in, e.g. Europe/Paris"`
	HomeChannel   string `envconfig:"RENEWBOT_HOME_CHANNEL" desc:"where a renewal started from the Home tab is posted (default: the first of RENEWBOT_CHANNELS)"`

	Workers    int           `envconfig:"RENEWBOT_WORKERS" default:"64" desc:"background workers"`
	Queue      int           `envconfig:"RENEWBOT_QUEUE" default:"1024" desc:"background jobs that may wait"`
	StuckAfter time.Duration `envconfig:"RENEWBOT_STUCK_AFTER" default:"2m" desc:"when an interrupted order or payment is reconciled"`
	Sweep      time.Duration `envconfig:"RENEWBOT_SWEEP_EVERY" default:"30s" desc:"how often expired requests are swept"`

	LogFormat string `envconfig:"LOG_FORMAT" default:"text" desc:"text or json"`
	LogLevel  string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
}

// IDList is a comma list of Slack user and user group ids.
type IDList []string

// Decode implements envconfig.Decoder.
func (l *IDList) Decode(v string) error {
	ids, err := splitIDs(v, "UWS", "a user id (U…, W…) or a user group id (S…) like U0123ABCD")
	*l = ids
	return err
}

// ChannelList is a comma list of Slack channel ids.
type ChannelList []string

// Decode implements envconfig.Decoder.
func (l *ChannelList) Decode(v string) error {
	ids, err := splitIDs(v, "CGD", "a channel id like C0123ABCD (C…, G… or D…)")
	*l = ids
	return err
}

func splitIDs(v, prefixes, what string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := len(f) >= 3 && strings.ContainsRune(prefixes, rune(f[0]))
		for _, r := range f {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				ok = false
			}
		}
		if !ok {
			return nil, fmt.Errorf("%q is not %s", f, what)
		}
		out = append(out, f)
	}
	return out, nil
}

// Amount is an amount in the account's currency, kept in micro-cents.
type Amount int64

// Decode implements envconfig.Decoder.
func (a *Amount) Decode(v string) error {
	u, err := renew.ParseUcents(v)
	if err != nil || u <= 0 {
		return fmt.Errorf("%q is not a positive amount like 500 or 99.99", v)
	}
	*a = Amount(u)
	return nil
}

// PaymentSpec is RENEWBOT_PAYMENT: "default" or MEAN[:ID].
type PaymentSpec renew.Payment

var paymentMeans = []string{"CREDIT_CARD", "CURRENT_ACCOUNT", "DEFERRED_PAYMENT_ACCOUNT", "DOMESTIC_CARD",
	"ENTERPRISE", "INTERNAL_TRUSTED_ACCOUNT", "PAYPAL", "RUPAY", "SEPA_DIRECT_DEBIT", "bankAccount",
	"creditCard", "deferredPaymentAccount", "fidelityAccount", "ovhAccount", "paypal"}

// Decode implements envconfig.Decoder.
func (p *PaymentSpec) Decode(v string) error {
	v = strings.TrimSpace(v)
	if v == "" || v == "default" {
		*p = PaymentSpec{}
		return nil
	}
	mean, id, hasID := strings.Cut(v, ":")
	known := false
	for _, m := range paymentMeans {
		known = known || m == mean
	}
	if !known {
		return fmt.Errorf("%q is neither \"default\" nor a payment mean (%s) with an optional :ID", v, strings.Join(paymentMeans, ", "))
	}
	out := PaymentSpec{Mean: mean}
	if hasID {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q: the payment mean id after \":\" must be a positive number", v)
		}
		out.MeanID = n
	}
	switch mean {
	case "bankAccount", "creditCard", "paypal":
		if out.MeanID == 0 {
			return fmt.Errorf("%q: OVHcloud needs the payment mean id for %s; write %s:ID", v, mean, mean)
		}
	}
	*p = out
	return nil
}

// loadConfig reads the environment. Its errors are one line that names the
// variable and what it expects.
func loadConfig() (Config, error) {
	c, err := loadEnv()
	if err != nil {
		return c, err
	}
	if err := c.validateSlack(); err != nil {
		return c, err
	}
	return c, c.validate()
}

// loadEnv reads the environment without requiring Slack's variables: the
// console and `remind --dry-run` talk to no Slack.
func loadEnv() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			return c, fmt.Errorf("%s: %s", pe.KeyName, expectation(pe))
		}
		return c, err
	}
	return c, nil
}

func expectation(pe *envconfig.ParseError) string {
	switch strings.TrimPrefix(pe.TypeName, "time.") {
	case "int":
		return fmt.Sprintf("expected a whole number, got %q", pe.Value)
	case "bool":
		return fmt.Sprintf("expected true or false, got %q", pe.Value)
	case "Duration":
		return fmt.Sprintf("expected a duration like 24h, 30m or 90s, got %q", pe.Value)
	}
	return pe.Err.Error()
}

// validate checks what envconfig cannot: required variables and values
// that depend on each other.
func (c Config) validateSlack() error {
	switch {
	case c.SlackBotToken == "":
		return errors.New("SLACK_BOT_TOKEN: required: the bot token (xoxb-…) from the Slack app's OAuth & Permissions page")
	case !strings.HasPrefix(c.SlackBotToken, "xoxb-"):
		return errors.New("SLACK_BOT_TOKEN: expected a bot token starting with xoxb-")
	case c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-"):
		return errors.New("SLACK_APP_TOKEN: expected an app-level token starting with xapp-")
	case c.SlackAppToken == "" && c.SlackSigningSecret == "":
		return errors.New("SLACK_SIGNING_SECRET: required in HTTP mode: the signing secret from the Slack app's Basic Information page (or set SLACK_APP_TOKEN for Socket Mode)")
	}
	return nil
}

// validate checks the rest of the configuration.
func (c Config) validate() error {
	switch {
	case c.Approvals < 1 || c.Approvals > 10:
		return fmt.Errorf("RENEWBOT_APPROVALS: expected a number of approvals from 1 to 10, got %d", c.Approvals)
	case c.RequestTTL < time.Second:
		return fmt.Errorf("RENEWBOT_REQUEST_TTL: expected at least 1s, got %s", c.RequestTTL)
	case c.Sweep < 100*time.Millisecond:
		return fmt.Errorf("RENEWBOT_SWEEP_EVERY: expected at least 100ms, got %s", c.Sweep)
	case c.OVHConcurrency < 1 || c.OVHConcurrency > 64:
		return fmt.Errorf("RENEWBOT_OVH_CONCURRENCY: expected 1 to 64, got %d", c.OVHConcurrency)
	case c.Workers < 1:
		return fmt.Errorf("RENEWBOT_WORKERS: expected at least 1, got %d", c.Workers)
	case c.Queue < 0:
		return fmt.Errorf("RENEWBOT_QUEUE: expected 0 or more, got %d", c.Queue)
	case c.OVHTimeout < time.Second:
		return fmt.Errorf("OVH_TIMEOUT: expected at least 1s, got %s", c.OVHTimeout)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("LOG_FORMAT: expected text or json, got %q", c.LogFormat)
	case c.AdminAddr == "":
		return errors.New("RENEWBOT_ADMIN_ADDR: required: the address of /healthz, /readyz and /metrics, e.g. :9090")
	case c.AdminAddr == c.Addr:
		return fmt.Errorf("RENEWBOT_ADMIN_ADDR: expected another address than RENEWBOT_ADDR (%s): the admin routes must not face Slack", c.Addr)
	}
	if c.ReminderChannel != "" {
		if _, err := splitIDs(c.ReminderChannel, "CG", "a channel id like C0123ABCD (C… or G…)"); err != nil {
			return fmt.Errorf("RENEWBOT_REMINDER_CHANNEL: %w", err)
		}
	}
	if c.AuditChannel != "" {
		if _, err := splitIDs(c.AuditChannel, "CG", "a channel id like C0123ABCD (C… or G…)"); err != nil {
			return fmt.Errorf("RENEWBOT_AUDIT_CHANNEL: %w", err)
		}
	}
	if c.HomeChannel != "" {
		if _, err := splitIDs(c.HomeChannel, "CG", "a channel id like C0123ABCD (C… or G…)"); err != nil {
			return fmt.Errorf("RENEWBOT_HOME_CHANNEL: %w", err)
		}
		if len(c.Channels) > 0 && !slices.Contains(c.Channels, c.HomeChannel) {
			return fmt.Errorf("RENEWBOT_HOME_CHANNEL: %s is not one of RENEWBOT_CHANNELS, where the bot acts: renewals started from the Home tab would be refused there", c.HomeChannel)
		}
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if u, err := url.Parse(c.SlackAPIURL); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("SLACK_API_URL: expected a URL like https://slack.com/api/, got %q", c.SlackAPIURL)
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("RENEWBOT_DATABASE_URL: expected sqlite:PATH or postgres://…, got %q", redactURL(c.DatabaseURL))
	}
	return nil
}

// redactURL hides a password in a database URL before it is printed.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// homeChannel is where a renewal started from the Home tab is posted:
// RENEWBOT_HOME_CHANNEL, else the first of RENEWBOT_CHANNELS, else none.
func (c Config) homeChannel() string {
	switch {
	case c.HomeChannel != "":
		return c.HomeChannel
	case len(c.Channels) > 0 && c.Channels[0][0] != 'D':
		return c.Channels[0]
	}
	return ""
}

// budget is RENEWBOT_MONTHLY_BUDGET counted in RENEWBOT_TIMEZONE's months.
func (c Config) budget() renew.Budget {
	return renew.Budget{Limit: int64(c.MonthlyBudget), Zone: c.TimeZone.Location}
}

// reminderAt is RENEWBOT_REMINDER_AT, in RENEWBOT_TIMEZONE when it names
// no zone.
func (c Config) reminderAt() renew.DailyAt {
	at := c.ReminderAt.DailyAt
	if !c.ReminderAt.zoned && c.TimeZone.Location != nil {
		at.Location = c.TimeZone.Location
	}
	return at
}

// sandbox reports whether OVHcloud is the embedded sample account.
func (c Config) sandbox() bool { return c.OVHEndpoint == "sandbox" }

// Days is RENEWBOT_REMINDER_DAYS: thresholds in days.
type Days []int

// Decode implements envconfig.Decoder.
func (d *Days) Decode(v string) error {
	ts, err := renew.ParseThresholds(v)
	if err != nil {
		return fmt.Errorf("expected days before expiry like 30,7,1: %w", err)
	}
	*d = ts
	return nil
}

// DailyAt is RENEWBOT_REMINDER_AT: a time of day and a time zone.
type DailyAt struct {
	renew.DailyAt
	zoned bool // a zone was given; else RENEWBOT_TIMEZONE's applies
}

// Decode implements envconfig.Decoder.
func (d *DailyAt) Decode(v string) error {
	at, err := renew.ParseDailyAt(v)
	if err != nil {
		return fmt.Errorf("expected a time and a time zone like \"09:00 Europe/Paris\": %w", err)
	}
	d.DailyAt, d.zoned = at, len(strings.Fields(v)) == 2
	return nil
}

// Zone is RENEWBOT_TIMEZONE: an IANA time zone.
type Zone struct{ *time.Location }

// Decode implements envconfig.Decoder.
func (z *Zone) Decode(v string) error {
	v = strings.TrimSpace(v)
	loc, err := time.LoadLocation(v)
	if err != nil || v == "" || v == "Local" {
		return fmt.Errorf("%q is not a time zone like Europe/Paris or UTC", v)
	}
	z.Location = loc
	return nil
}
