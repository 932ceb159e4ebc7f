package blocks

import "github.com/slack-go/slack"

// helpText is the usage of /renew, in mrkdwn. The same text is the help
// message's blocks and its notification text, so the two never drift.
const helpText = "*renewbot renews OVHcloud services with your team's approval.*\n" +
	"• `/renew SERVICE [PERIOD]`: show the ways to renew a service and choose one. " +
	"SERVICE is its name (`vps-1.example.net`, `example.com`), its display name or its numeric id; " +
	"a display name with spaces may be quoted: `/renew \"example.com website\" 1y`. " +
	"PERIOD keeps one renewal period only: `1y`, `3m`, `1 year`, `6 months` or ISO 8601 `P1Y`, `P3M`.\n" +
	"• `/renew list [DAYS]`: services that expire within DAYS days (30 by default), soonest first.\n" +
	"• `/renew status`: the open requests in this channel.\n" +
	"• `/renew history [SERVICE]`: what was renewed, when and by whom.\n" +
	"• `/renew spend [YYYY-MM]`: what the month's renewals cost with tax, by product, requester and approver, and the budget left.\n" +
	"• `/renew help`: this help.\n" +
	"Someone chooses a renewal option, the bot creates the order, and a teammate approves the payment with *Approve and pay*. " +
	"renewbot's Home tab shows what waits for your approval, your open requests, what expires soon and what this month cost."

// HelpText is the usage of /renew as mrkdwn text.
func HelpText() string { return helpText }

// Help renders the usage of /renew.
func Help() []slack.Block {
	return []slack.Block{
		header("/renew"),
		mrkdwnSection(helpText),
	}
}
