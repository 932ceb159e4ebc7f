package console

import (
	"fmt"
	"slices"
	"strings"
)

// maxName bounds a console user name: it becomes part of a Slack id.
const maxName = 20

// UserID returns the Slack user id a console name stands for, the same on
// every run so that RENEWBOT_APPROVERS can name it: alice is U0ALICE01,
// bob U0BOB0001. An id itself (U…, W…, with a digit) is taken as it is.
func UserID(name string) (string, error) {
	if isID(name) {
		return name, nil
	}
	n := strings.ToLower(name)
	if n == "" || len(n) > maxName || n[0] < 'a' || n[0] > 'z' {
		return "", fmt.Errorf("a user is a name of up to %d letters and digits, starting with a letter, like bob", maxName)
	}
	for _, c := range []byte(n) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return "", fmt.Errorf("a user is a name of up to %d letters and digits, starting with a letter, like bob", maxName)
		}
	}
	id := "U0" + strings.ToUpper(n)
	for len(id) < 8 {
		id += "0"
	}
	return id + "1", nil
}

// sampleTeam are the console's users before any configuration: the
// names its help and the README use.
var sampleTeam = []string{"alice", "bob", "carol"}

// maxKnownShown bounds the names a notice of a new user lists.
const maxKnownShown = 8

// knownUsers returns the ids of the sample team and of names, those that
// are users (a group id, S…, is not).
func knownUsers(names []string) map[string]bool {
	known := map[string]bool{}
	for _, n := range append(slices.Clone(sampleTeam), names...) {
		n = strings.TrimPrefix(n, "@")
		if n != "" && n == strings.ToUpper(n) && !isID(n) {
			continue // another kind of Slack id: a group, a channel
		}
		if id, err := UserID(n); err == nil {
			known[id] = true
		}
	}
	return known
}

// newUserNotice is the line shown when someone switches to a user the
// console never met and nobody configured: it lists those it knows, so a
// typo (as bbo) shows at once. Callers hold mu.
func (c *Console) newUserNotice(id string) string {
	var names []string
	for k := range c.known {
		names = append(names, c.userName(k))
	}
	slices.Sort(names)
	more := ""
	if len(names) > maxKnownShown {
		more = fmt.Sprintf(" and %d more", len(names)-maxKnownShown)
		names = names[:maxKnownShown]
	}
	return fmt.Sprintf("(%s is new here: not a user met or configured so far, who are %s%s.)", c.userName(id), strings.Join(names, ", "), more)
}

// isID reports whether s is written like a Slack user id: U or W, then
// upper-case letters and digits, with at least one digit.
func isID(s string) bool {
	if len(s) < 3 || len(s) > 32 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	digit := false
	for _, c := range []byte(s[1:]) {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c < 'A' || c > 'Z':
			return false
		}
	}
	return digit
}

// nameOf is UserID backwards: the shortest console name whose id is id,
// so that an approver named by id in RENEWBOT_APPROVERS (U0CAROL01) reads
// @carol before anyone typed "as carol".
func nameOf(id string) (string, bool) {
	if !strings.HasPrefix(id, "U0") || !strings.HasSuffix(id, "1") || len(id) < 4 {
		return "", false
	}
	core := strings.ToLower(id[2 : len(id)-1])
	for n := strings.TrimRight(core, "0"); len(n) <= len(core); n += "0" {
		if n != "" {
			if got, err := UserID(n); err == nil && got == id {
				return n, true
			}
		}
	}
	return "", false
}
