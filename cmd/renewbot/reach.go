package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
)

// unreachable says in a few words why a service could not be reached
// over the network ("lookup slack.com: no such host", "connection
// refused", "no answer in time"), or ok false when err is not about the
// network.
func unreachable(err error) (why string, ok bool) {
	var dns *net.DNSError
	var sys *os.SyscallError
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("lookup %s: %s", dns.Name, dns.Err), true
	case errors.As(err, &sys):
		return sys.Err.Error(), true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time", true
	case errors.As(err, &ue):
		return ue.Err.Error(), true
	case errors.As(err, &ne):
		return ne.Error(), true
	}
	return "", false
}

// slackCheckText is check's line for a failed auth.test: Slack could not
// be reached (from where), or what it answered.
func slackCheckText(err error, apiURL string) string {
	if why, ok := unreachable(err); ok {
		return fmt.Sprintf("cannot reach Slack at %s (SLACK_API_URL): %s", apiURL, why)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if tokenRefused(err) {
			return fmt.Sprintf("Slack refused SLACK_BOT_TOKEN: %s", se.Err)
		}
		return "Slack answered " + se.Err
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Sprintf("Slack at %s (SLACK_API_URL) answered HTTP %d", apiURL, sc.Code)
	}
	return bot.SlackErrorCode(err)
}

// tokenRefused reports whether Slack refused the bot token itself.
func tokenRefused(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type":
		return true
	}
	return false
}

// slackAuthError is the start's one line for a failed auth.test, in
// check's words: where Slack could not be reached from, or that it
// refused SLACK_BOT_TOKEN. Only a refused token blames the token.
func slackAuthError(err error, apiURL string) error {
	text := slackCheckText(err, apiURL)
	if _, ok := unreachable(err); ok || tokenRefused(err) {
		return errors.New(text)
	}
	return fmt.Errorf("Slack auth.test failed, so the bot can't tell which workspace it serves: %s", text)
}
