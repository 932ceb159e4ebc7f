package bot

import "testing"

// Who may act: the workspace's own members, through its own app; for an
// org-wide install, any workspace of the enterprise, each member from
// their own.
func TestWorkspaceAllows(t *testing.T) {
	ws := Workspace{TeamID: "T1", AppID: "A1"}
	org := Workspace{TeamID: "T1", EnterpriseID: "E1", AppID: "A1"}
	for _, c := range []struct {
		name string
		w    Workspace
		o    origin
		want bool
	}{
		{"member", ws, origin{team: "T1", app: "A1", userTeam: "T1"}, true},
		{"command (no user team)", ws, origin{team: "T1", app: "A1"}, true},
		{"another workspace", ws, origin{team: "T2", app: "A1", userTeam: "T2"}, false},
		{"Slack Connect partner", ws, origin{team: "T1", app: "A1", userTeam: "T9"}, false},
		{"another app", ws, origin{team: "T1", app: "A2", userTeam: "T1"}, false},
		{"no app", ws, origin{team: "T1", userTeam: "T1"}, false},
		{"unknown workspace", Workspace{}, origin{team: "T1", app: "A1"}, false},
		{"org-wide, another workspace of the org", org, origin{team: "T2", enterprise: "E1", app: "A1", userTeam: "T2", orgWide: true}, true},
		{"org-wide, a partner in a shared channel", org, origin{team: "T2", enterprise: "E1", app: "A1", userTeam: "T9", orgWide: true}, false},
		{"org-wide, another enterprise", org, origin{team: "T3", enterprise: "E2", app: "A1", userTeam: "T3", orgWide: true}, false},
		{"workspace install, the org flag forged on another team", ws, origin{team: "T2", enterprise: "E1", app: "A1", userTeam: "T2", orgWide: true}, false},
	} {
		if got, why := c.w.allows(c.o); got != c.want {
			t.Errorf("%s: allows = %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}
