package bot

import (
	"strings"

	"github.com/slack-go/slack"
)

// Workspace is who the bot serves: the Slack team it is installed in (and
// the enterprise, for an org-wide install) and its own app, as auth.test
// and bots.info say at start. Only requests from there are served: the
// same app installed in another workspace reaches the same URL, signed
// with the same secret, and a Slack Connect channel brings users of other
// teams.
type Workspace struct {
	TeamID       string
	EnterpriseID string
	// AppID is checked against api_app_id when known.
	AppID string
}

// origin is where a command, click or dialog comes from, as its payload
// says (Slack signs it).
type origin struct {
	team, enterprise, app string
	// userTeam is the acting user's own team (user.team_id): another
	// team's for a Slack Connect partner. Slash commands do not carry it.
	userTeam string
	// orgWide: the payload is for an org-wide install (is_enterprise_install).
	orgWide bool
}

// allows reports whether o is this workspace, and why not.
func (w Workspace) allows(o origin) (bool, string) {
	switch {
	case w.TeamID == "" && w.EnterpriseID == "":
		return false, "workspace unknown"
	case w.AppID != "" && o.app != w.AppID:
		return false, "another app"
	}
	// An org-wide install serves every workspace of its enterprise; a
	// workspace install, its own team only.
	inOrg := o.orgWide && w.EnterpriseID != "" && o.enterprise == w.EnterpriseID
	switch {
	case !inOrg && o.team != w.TeamID:
		return false, "another workspace"
	case !inOrg && o.userTeam != "" && o.userTeam != w.TeamID:
		return false, "a user of another workspace"
	case inOrg && o.userTeam != "" && o.userTeam != o.team:
		// The payload does not say whether that team is of this
		// enterprise or a Slack Connect partner: refuse rather than
		// guess. A member acts from their own workspace.
		return false, "a user of another workspace of the channel"
	case w.EnterpriseID != "" && o.enterprise != "" && o.enterprise != w.EnterpriseID:
		return false, "another enterprise"
	}
	return true, ""
}

func commandOrigin(sc slack.SlashCommand) origin {
	return origin{team: sc.TeamID, enterprise: sc.EnterpriseID, app: sc.APIAppID, orgWide: sc.IsEnterpriseInstall}
}

func interactionOrigin(cb slack.InteractionCallback) origin {
	return origin{team: cb.Team.ID, enterprise: cb.Enterprise.ID, app: cb.APIAppID, userTeam: cb.User.TeamID, orgWide: cb.IsEnterpriseInstall}
}

// foreignText answers a request from outside the workspace. It names
// nothing of this workspace.
const foreignText = "renewbot only acts for members of the workspace it is installed in. Nothing was done."

// refuseForeign logs a refused origin, without anything the payload says
// beyond its ids; sampled, like every refusal (refuse.go).
func (b *Bot) refuseForeign(kind, why string, o origin, user string) {
	if b.sampled != nil && !b.sampled.admit(reasonForeign) {
		return
	}
	b.log.Warn("request from outside the workspace refused", "kind", kind, "reason", why,
		"team", clipID(o.team), "user_team", clipID(o.userTeam), "enterprise", clipID(o.enterprise), "app", clipID(o.app), "user", clipID(user))
}

// clipID keeps an id from a payload short and printable in a log line.
func clipID(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 24 {
		s = s[:24]
	}
	return s
}
