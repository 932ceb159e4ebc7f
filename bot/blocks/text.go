package blocks

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/renewbot/renewbot/renew"
)

// Escape makes s safe to put in mrkdwn: Slack reads <…> as mentions and
// links and & as the start of an entity, so a display name "<!channel>"
// would notify the whole channel. Only these three characters are escaped,
// as Slack asks; everything else shows as typed.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteString(escapeRune(r))
	}
	return b.String()
}

func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

const ellipsis = "…"

// runes counts characters the way Slack's limits do.
func runes(s string) int { return utf8.RuneCountInString(s) }

// clip shortens text that is already safe to at most max characters,
// ending with "…" when something was cut.
func clip(s string, max int) string {
	if runes(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + ellipsis
		}
		n++
	}
	return s
}

// esc escapes untrusted text and clips the escaped result to max
// characters, never cutting an entity in half.
func esc(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	e := Escape(s)
	if runes(e) <= max {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := escapeRune(r)
		w := runes(piece)
		if n+w > max-1 {
			break
		}
		b.WriteString(piece)
		n += w
	}
	return b.String() + ellipsis
}

// line escapes and clips a name that must hold on one line: OVHcloud
// names should have no control characters, but a display name is typed by
// a customer.
func line(s string, max int) string { return esc(oneLine(s), max) }

// oneLine turns control characters (newlines, tabs) into spaces and trims.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// user renders a Slack user id as a mention. Ids come from Slack, but a
// malformed one is shown as text rather than trusted into markup.
func user(id string) string {
	switch {
	case id == "":
		return "someone"
	case slackID(id):
		return "<@" + id + ">"
	}
	return line(id, 40)
}

// approver renders a user or a user group (S…) as a mention.
func approver(id string) string {
	if renew.IsGroup(id) && slackID(id) {
		return "<!subteam^" + id + ">"
	}
	return user(id)
}

// slackID reports whether id looks like a Slack id: upper-case letters and
// digits, starting with a letter.
func slackID(id string) bool {
	if len(id) < 2 || len(id) > 32 || id[0] < 'A' || id[0] > 'Z' {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func users(ids []string, render func(string) string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = render(id)
	}
	return strings.Join(out, ", ")
}

// When renders an instant with Slack's date formatting, so each reader
// sees it in their own time zone; the fallback (notifications, the
// console) is in zone z, with its abbreviation: UTC when z is nil.
func When(t time.Time, z *time.Location) string {
	if z == nil {
		z = time.UTC
	}
	fallback := t.In(z).Format("2006-01-02 15:04 MST")
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), fallback)
}

// PeriodAdjective writes a period before a noun: "1-month", "3-month",
// "1-year", "2-year" ("a 2-year renewal", never "a 2 years renewal").
func PeriodAdjective(p renew.Period) string {
	var parts []string
	switch {
	case p.Months > 0 && p.Months%12 == 0:
		parts = append(parts, fmt.Sprintf("%d-year", p.Months/12))
	case p.Months > 0:
		parts = append(parts, fmt.Sprintf("%d-month", p.Months))
	}
	if p.Days > 0 {
		parts = append(parts, fmt.Sprintf("%d-day", p.Days))
	}
	if len(parts) == 0 {
		return p.String()
	}
	return strings.Join(parts, ", ")
}

// day renders an expiry date in its own time zone: OVHcloud dates carry
// the zone in which the day is meant.
func day(t time.Time) string { return t.Format("2006-01-02") }

// daysLeft says how far an expiry is, in calendar days.
func daysLeft(now, exp time.Time) string { return inDays(renew.DaysBetween(now, exp)) }

// money renders an amount OVHcloud formatted; its text is escaped like any
// other OVHcloud string.
func money(m renew.Money) string { return line(amount(m), 60) }

// amount is an amount as plain text: OVHcloud's text when it gave one.
func amount(m renew.Money) string {
	if m.Text != "" {
		return m.Text
	}
	s := renew.FormatUcents(m.Ucents)
	if m.Currency != "" {
		s += " " + m.Currency
	}
	return s
}

// Label names a service the way people call it: its display name, else
// its name. Not escaped.
func Label(s renew.Service) string { return label(s) }

// label names a service the way people call it: its display name, else
// its name.
func label(s renew.Service) string {
	switch {
	case strings.TrimSpace(s.DisplayName) != "":
		return s.DisplayName
	case strings.TrimSpace(s.Name) != "":
		return s.Name
	}
	return fmt.Sprintf("service %d", s.ID)
}

// detail renders one service of a strategy as plain text:
// "example.com (Domain .ovh)".
func detail(d renew.ServiceDetail) string {
	name := oneLine(d.Name)
	if name == "" {
		name = fmt.Sprintf("service %d", d.ID)
	}
	if t := oneLine(d.Type); t != "" {
		return name + " (" + t + ")"
	}
	return name
}

// together renders, as plain text to escape, the services a strategy
// renews together within about max characters: past it, the rest is
// counted ("+ 12 more").
func together(s renew.Strategy, max int) string {
	parts := make([]string, 0, len(s.Services))
	for _, d := range s.Details {
		parts = append(parts, detail(d))
	}
	if len(parts) == 0 {
		for _, id := range s.Services {
			parts = append(parts, fmt.Sprintf("service %d", id))
		}
	}
	if len(parts) == 0 {
		return "this service"
	}
	out := parts[0]
	for i, p := range parts[1:] {
		left := len(parts) - 1 - i // parts not yet written, p included
		next := out + " + " + p
		if left > 1 && runes(next)+runes(fmt.Sprintf(" + %d more", left-1)) > max || runes(next) > max {
			return out + fmt.Sprintf(" + %d more", left)
		}
		out = next
	}
	return out
}
