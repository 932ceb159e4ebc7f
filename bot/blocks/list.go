package blocks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// Action ids of /renew list and of the reminder digest.
const (
	// ActionRenew starts the renewal flow for a service, as /renew ID
	// would: value is the numeric service id. The transport resolves the
	// id with OVHcloud again, like any /renew.
	ActionRenew = "renew_service"
	// ActionListPage is the "Next" button of /renew list, and
	// ActionListPrevious its "Previous" button (Slack wants the action
	// ids of one block distinct). Both carry the page they show as
	// "DAYS:PAGE"; read it with ParseListPage and list again.
	ActionListPage     = "list_page"
	ActionListPrevious = "list_page_previous"
)

const (
	// listPageSize is how many services one page of /renew list shows:
	// with a section each, their headings, the header and the buttons, a
	// page stays well under Slack's 50 blocks.
	listPageSize = 20
	// linesPerSection packs the services that need no button (automatic
	// renewals, unreadable ones) several to a section.
	linesPerSection = 10
	maxListName     = 80  // a name on a packed line
	maxListReason   = 200 // why a service could not be read
	maxListDays     = 3660
	maxListPage     = 1_000_000
	renewButton     = "Renew…"
)

// listGroup is one part of the list, in the order shown.
type listGroup int

const (
	groupAttention listGroup = iota
	groupManual
	groupAutomatic
	groupUnknown
)

// listRow is one service of the list, flattened across the groups so that
// pages cut anywhere.
type listRow struct {
	group  listGroup
	entry  renew.ExpiringService
	failed renew.FailedService
}

func listRows(l renew.ExpiringList) []listRow {
	rows := make([]listRow, 0, len(l.Attention)+len(l.Manual)+len(l.Automatic)+len(l.Unknown))
	for _, g := range []struct {
		group   listGroup
		entries []renew.ExpiringService
	}{{groupAttention, l.Attention}, {groupManual, l.Manual}, {groupAutomatic, l.Automatic}} {
		for _, e := range g.entries {
			rows = append(rows, listRow{group: g.group, entry: e})
		}
	}
	for _, f := range l.Unknown {
		rows = append(rows, listRow{group: groupUnknown, failed: f})
	}
	return rows
}

// ListPages is how many pages List renders l on (at least one).
func ListPages(l renew.ExpiringList) int {
	n := len(l.Attention) + len(l.Manual) + len(l.Automatic) + len(l.Unknown)
	return max(1, (n+listPageSize-1)/listPageSize)
}

// List renders one page of /renew list DAYS: the expired and suspended
// services first, flagged, then the manual renewals soonest first, each
// with a "Renew…" button; the automatic renewals apart, without button;
// then the services OVHcloud could not tell about, with the reason. Pages
// count from 1; one out of range shows the nearest. days is echoed in the
// page buttons so that a click lists the same window again.
func List(l renew.ExpiringList, page int, v View, days int) []slack.Block {
	rows := listRows(l)
	pages := ListPages(l)
	page = min(max(page, 1), pages)

	bs := []slack.Block{header(fmt.Sprintf("Expiring within %s", dayCount(days)))}
	if b := viewBanner(v); b != nil {
		bs = append(bs, b)
	}
	bs = append(bs, slack.NewContextBlock("", listSummary(l, page, pages, v.Zone)...))
	if len(rows) == 0 {
		return append(bs, mrkdwnSection(fmt.Sprintf(":white_check_mark: Nothing expires within %s, and nothing has expired.", dayCount(days))))
	}

	from := (page - 1) * listPageSize
	rows = rows[from:min(from+listPageSize, len(rows))]
	var lines []string // packed lines waiting for their section
	flush := func() {
		for c := range slices.Chunk(lines, linesPerSection) {
			bs = append(bs, mrkdwnSection(strings.Join(c, "\n")))
		}
		lines = lines[:0]
	}
	for i, r := range rows {
		if i == 0 || rows[i-1].group != r.group {
			flush()
			bs = append(bs, mrkdwnSection(groupHeading(r.group, days, i == 0 && from > 0)))
		}
		switch r.group {
		case groupAttention, groupManual:
			bs = append(bs, renewSection(entryText(r.entry), r.entry.Service.ID, r.entry.Renewing))
		case groupAutomatic:
			lines = append(lines, "• "+packedEntry(r.entry))
		case groupUnknown:
			lines = append(lines, "• "+failedLine(r.failed))
		}
	}
	flush()
	if nav := pageButtons(days, page, pages); nav != nil {
		bs = append(bs, slack.NewDividerBlock(), nav)
	}
	return bs
}

// listSummary counts what the list holds and says when OVHcloud was read.
func listSummary(l renew.ExpiringList, page, pages int, z *time.Location) []slack.MixedElement {
	var parts []string
	attention, manual, busy := dueCounts(l)
	if attention > 0 {
		parts = append(parts, fmt.Sprintf("%s expired or suspended", count(attention, "service", "services")))
	}
	if manual > 0 {
		parts = append(parts, fmt.Sprintf("%s to renew", count(manual, "service", "services")))
	}
	if busy > 0 {
		parts = append(parts, fmt.Sprintf("%s under way", count(busy, "renewal", "renewals")))
	}
	if n := len(l.Automatic); n > 0 {
		parts = append(parts, fmt.Sprintf("%s renewing automatically", count(n, "service", "services")))
	}
	if n := len(l.Unknown); n > 0 {
		parts = append(parts, fmt.Sprintf("%s unknown", count(n, "service", "services")))
	}
	read := fmt.Sprintf("%s checked", count(l.Read+len(l.Unknown), "service", "services"))
	if !l.At.IsZero() {
		read += " " + When(l.At, z)
	}
	parts = append(parts, read)
	els := []slack.MixedElement{mrkdwn(strings.Join(parts, " · "))}
	if pages > 1 {
		els = append(els, mrkdwn(fmt.Sprintf("Page %d of %d", page, pages)))
	}
	return els
}

func groupHeading(g listGroup, days int, continued bool) string {
	var s string
	switch g {
	case groupAttention:
		s = ":rotating_light: *Expired or suspended*: renew now to keep them"
	case groupManual:
		s = fmt.Sprintf(":calendar: *To renew* within %s, soonest first", dayCount(days))
	case groupAutomatic:
		s = ":repeat: *Renewing automatically*: nothing to do"
	case groupUnknown:
		s = ":grey_question: *Unknown*: OVHcloud could not tell about these"
	}
	if continued {
		s += " (continued)"
	}
	return s
}

// entryText describes a service that needs someone: what it is, when it
// expires, how it renews and, for the urgent ones, why they are urgent.
func entryText(e renew.ExpiringService) string {
	s := e.Service
	var b strings.Builder
	if f := urgency(e); f != "" {
		b.WriteString(f + "\n")
	}
	b.WriteString(serviceName(s, maxName))
	if p := oneLine(s.Product); p != "" {
		b.WriteString(" · " + line(p, maxName))
	}
	b.WriteString("\n" + expiry(e))
	b.WriteString(" · " + renewal(s))
	if st := oneLine(s.Billing); st != "" && st != "active" {
		b.WriteString(" · billing " + line(st, 50))
	}
	return b.String()
}

// urgency says why a service is in the urgent group.
func urgency(e renew.ExpiringService) string {
	var why []string
	if e.Expired {
		why = append(why, "Expired")
	}
	switch st := oneLine(e.Service.State); {
	case st == "suspended":
		why = append(why, "Suspended")
	case st == "toSuspend":
		why = append(why, "About to be suspended")
	}
	if len(why) == 0 {
		return ""
	}
	return ":warning: *" + strings.Join(why, " · ") + "*"
}

// serviceName renders "*display name* (name)", or the name alone.
func serviceName(s renew.Service, max int) string {
	name := "*" + line(label(s), max) + "*"
	if n := oneLine(s.Name); n != "" && n != oneLine(label(s)) {
		name += " (" + line(n, max) + ")"
	}
	return name
}

// expiry renders "expires 2026-12-20 (in 24 days)".
func expiry(e renew.ExpiringService) string {
	exp := e.Service.Expiration
	if exp.IsZero() {
		return "expiry unknown"
	}
	if e.Expired {
		return fmt.Sprintf("expired %s (%s)", day(exp), strings.TrimPrefix(inDays(e.DaysLeft), "expired "))
	}
	return fmt.Sprintf("expires %s (%s)", day(exp), inDays(e.DaysLeft))
}

// renewal renders "manual renewal, every 1 month".
func renewal(s renew.Service) string {
	r := "renewal"
	if m := line(s.RenewMode, 50); m != "" {
		r = m + " renewal"
	}
	if oneLine(s.RenewPeriod) == "" {
		return r
	}
	if p, err := renew.ParsePeriod(s.RenewPeriod); err == nil {
		return r + ", every " + p.String()
	}
	return r + ", every " + line(s.RenewPeriod, 30)
}

// inDays words a count of days left: "in 3 days", "today", "expired
// yesterday".
func inDays(d int) string {
	switch {
	case d == 0:
		return "today"
	case d == 1:
		return "tomorrow"
	case d > 1:
		return fmt.Sprintf("in %d days", d)
	case d == -1:
		return "expired yesterday"
	}
	return fmt.Sprintf("expired %d days ago", -d)
}

// packedEntry is a service without button on one short line.
func packedEntry(e renew.ExpiringService) string {
	s := serviceName(e.Service, maxListName) + " · " + expiry(e)
	if st := oneLine(e.Service.Billing); st != "" && st != "active" {
		s += " · billing " + line(st, 30)
	}
	return s
}

func failedLine(f renew.FailedService) string {
	why := "no reason given"
	if f.Err != nil {
		why = line(f.Err.Error(), maxListReason)
	}
	return fmt.Sprintf("*service %d*: %s", f.ID, why)
}

// renewSection is a service with its "Renew…" button, and a line saying
// which request renews it already, when one does. A request under way
// leaves no button (a click would only be refused); a payment whose
// delivery went unconfirmed keeps it: if OVHcloud cancelled that order,
// a click renews the service.
func renewSection(text string, id int64, renewing *renew.Request) slack.Block {
	if renewing != nil {
		text += "\n" + renewingNote(renewing)
		if !mayRenewAgain(renewing) {
			return mrkdwnSection(clip(text, maxSectionText))
		}
	}
	b := slack.NewButtonBlockElement(ActionRenew, strconv.FormatInt(id, 10), plain(renewButton))
	return slack.NewSectionBlock(mrkdwn(clip(text, maxSectionText)), nil, slack.NewAccessory(b))
}

// mayRenewAgain reports whether Renew… is offered for a service that r
// renews: only when r's payment awaits a delivery nobody follows.
// underWay reports whether a request renews e already, so that it shows
// no Renew… button: it is not one more to renew.
func underWay(e renew.ExpiringService) bool { return e.Renewing != nil && !mayRenewAgain(e.Renewing) }

// dueCounts counts the services of l as shown: expired or suspended and
// to renew, each with a Renew… button, and the renewals under way
// (either group) without one.
func dueCounts(l renew.ExpiringList) (attention, manual, busy int) {
	for _, e := range l.Attention {
		if underWay(e) {
			busy++
		} else {
			attention++
		}
	}
	for _, e := range l.Manual {
		if underWay(e) {
			busy++
		} else {
			manual++
		}
	}
	return attention, manual, busy
}

func mayRenewAgain(r *renew.Request) bool { return r.State == renew.StatePaidUnconfirmed }

// renewingNote says which request is renewing a listed service already.
func renewingNote(r *renew.Request) string {
	switch r.State {
	case renew.StatePaid:
		return fmt.Sprintf(":white_check_mark: Paid in <#%s>, awaiting delivery: OVHcloud has not moved the expiry yet.", r.Channel)
	case renew.StatePaidUnconfirmed:
		return fmt.Sprintf(":white_check_mark: Paid in <#%s>, delivery not confirmed: OVHcloud has not moved the expiry yet.", r.Channel)
	}
	return fmt.Sprintf(":lock: A renewal is open in <#%s>: %s.", r.Channel, stateWords(r.State))
}

func pageButtons(days, page, pages int) slack.Block {
	var els []slack.BlockElement
	if page > 1 {
		els = append(els, slack.NewButtonBlockElement(ActionListPrevious, ListPageValue(days, page-1), plain("Previous")))
	}
	if page < pages {
		els = append(els, slack.NewButtonBlockElement(ActionListPage, ListPageValue(days, page+1), plain("Next")))
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewActionBlock("", els...)
}

// ListPageValue is the value of a page button: "DAYS:PAGE".
func ListPageValue(days, page int) string {
	return strconv.Itoa(days) + ":" + strconv.Itoa(page)
}

// ParseListPage reads a page button's value, "DAYS:PAGE".
func ParseListPage(v string) (days, page int, err error) {
	d, p, ok := strings.Cut(v, ":")
	days, derr := strconv.Atoi(d)
	page, perr := strconv.Atoi(p)
	if !ok || derr != nil || perr != nil || strconv.Itoa(days) != d || strconv.Itoa(page) != p ||
		days < 0 || days > maxListDays || page < 1 || page > maxListPage {
		return 0, 0, fmt.Errorf("%w: %q", errValue, clip(v, 80))
	}
	return days, page, nil
}

// ParseServiceID reads a "Renew…" button's value: a service id, to be
// resolved with OVHcloud like any /renew ID.
func ParseServiceID(v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != v {
		return 0, fmt.Errorf("%w: %q", errValue, clip(v, 80))
	}
	return id, nil
}

// ListText is the notification text of a /renew list page.
func ListText(l renew.ExpiringList, days int) string {
	if l.Empty() {
		return fmt.Sprintf("Nothing expires within %s.", dayCount(days))
	}
	var parts []string
	attention, manual, busy := dueCounts(l)
	if attention > 0 {
		parts = append(parts, fmt.Sprintf("%s expired or suspended", count(attention, "service", "services")))
	}
	if manual > 0 {
		parts = append(parts, fmt.Sprintf("%s to renew within %s", count(manual, "service", "services"), dayCount(days)))
	}
	if busy > 0 {
		parts = append(parts, fmt.Sprintf("%s under way", count(busy, "renewal", "renewals")))
	}
	if n := len(l.Automatic); n > 0 {
		parts = append(parts, fmt.Sprintf("%s renewing automatically", count(n, "service", "services")))
	}
	if n := len(l.Unknown); n > 0 {
		parts = append(parts, fmt.Sprintf("%s unknown", count(n, "service", "services")))
	}
	return strings.Join(parts, ", ") + "."
}

// Digest renders the daily reminder: the manual renewals that crossed a
// threshold, expired ones first, grouped by threshold, each with a
// "Renew…" button. Past what one message holds, the rest are counted and
// /renew list shows them.
func Digest(rs []renew.Reminder, v View) []slack.Block {
	bs := []slack.Block{header("Renewal reminder")}
	if b := viewBanner(v); b != nil {
		bs = append(bs, b)
	}
	if len(rs) == 0 {
		return append(bs, mrkdwnSection(":white_check_mark: Nothing to renew for now."))
	}
	rs = digestOrder(rs)
	widest := 0
	for _, r := range rs {
		widest = max(widest, r.Threshold)
	}
	bs = append(bs, slack.NewContextBlock("", mrkdwn(digestSummary(rs))))
	shown := 0
	for i, r := range rs {
		need := 1
		newGroup := i == 0 || digestGroup(rs[i-1]) != digestGroup(r)
		if newGroup {
			need++
		}
		// Keep one block for the count of the rest.
		if len(bs)+need > maxBlocks-1 {
			break
		}
		if newGroup {
			bs = append(bs, mrkdwnSection(digestHeading(r)))
		}
		// Never marked as being renewed: the digest is posted once and
		// lasts, while a request may end the next minute.
		bs = append(bs, renewSection(reminderText(r), r.Service.ID, nil))
		shown++
	}
	if rest := len(rs) - shown; rest > 0 {
		bs = append(bs, mrkdwnSection(fmt.Sprintf("…and %s: type `/renew list %d` to see them all.",
			count(rest, "more service", "more services"), widest)))
	}
	return bs
}

// digestOrder puts expired reminders first, then by threshold, keeping the
// soonest-first order within each.
func digestOrder(rs []renew.Reminder) []renew.Reminder {
	return slices.SortedStableFunc(slices.Values(rs), func(a, b renew.Reminder) int {
		return digestGroup(a) - digestGroup(b)
	})
}

// digestGroup orders the groups: expired (-1), then by threshold.
func digestGroup(r renew.Reminder) int {
	if r.Expired {
		return -1
	}
	return r.Threshold
}

func digestHeading(r renew.Reminder) string {
	switch {
	case r.Expired:
		return ":rotating_light: *Expired*: renew now to keep them"
	case r.Threshold == 0:
		return ":alarm_clock: *Expiring today*"
	}
	return fmt.Sprintf(":calendar: *Expiring within %s*", dayCount(r.Threshold))
}

func reminderText(r renew.Reminder) string {
	e := renew.ExpiringService{Service: r.Service, DaysLeft: r.DaysLeft, Expired: r.Expired}
	s := serviceName(r.Service, maxName)
	if p := oneLine(r.Service.Product); p != "" {
		s += " · " + line(p, maxName)
	}
	s += "\n" + expiry(e)
	switch st := oneLine(r.Service.State); st {
	case "", "active":
	case "toSuspend":
		s += " · about to be suspended"
	default:
		s += " · " + line(st, 50)
	}
	return s
}

// digestSummary counts a digest's services, the expired apart from those
// that expire soon.
func digestSummary(rs []renew.Reminder) string {
	expired := 0
	for _, r := range rs {
		if r.Expired {
			expired++
		}
	}
	soon := len(rs) - expired
	switch {
	case expired == 0:
		return fmt.Sprintf("%s with manual renewal %s soon: each needs someone to renew it.", count(soon, "service", "services"), verb(soon, "expires", "expire"))
	case soon == 0:
		return fmt.Sprintf("%s with manual renewal %s expired: each needs someone to renew it.", count(expired, "service", "services"), verb(expired, "has", "have"))
	}
	return fmt.Sprintf("%s with manual renewal: %d %s soon, %d %s expired. Each needs someone to renew it.",
		count(len(rs), "service", "services"), soon, verb(soon, "expires", "expire"), expired, verb(expired, "has", "have"))
}

// DigestText is the notification text of the reminder digest: the first
// few services by name.
func DigestText(rs []renew.Reminder) string {
	if len(rs) == 0 {
		return "Nothing to renew for now."
	}
	rs = digestOrder(rs)
	const named = 5
	var names []string
	for _, r := range rs[:min(len(rs), named)] {
		e := renew.ExpiringService{Service: r.Service, DaysLeft: r.DaysLeft, Expired: r.Expired}
		names = append(names, fmt.Sprintf("%s (%s)", line(label(r.Service), maxListName), inDays(e.DaysLeft)))
	}
	s := fmt.Sprintf("Renewal reminder: %s to renew: %s", count(len(rs), "service", "services"), strings.Join(names, ", "))
	if len(rs) > named {
		s += fmt.Sprintf(" and %d more", len(rs)-named)
	}
	return s + "."
}

// viewBanner says that nothing real happens, on messages that are not a
// request's.
func viewBanner(v View) slack.Block {
	var els []slack.MixedElement
	if v.Sandbox {
		els = append(els, mrkdwn(":construction: *Sandbox*: OVHcloud is simulated, no real service or order."))
	}
	if v.DryRun {
		els = append(els, mrkdwn(":test_tube: *Dry run*: nothing will be paid."))
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewContextBlock("", els...)
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatInt(n) + " " + many
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func dayCount(d int) string {
	if d == 1 {
		return "1 day"
	}
	return formatInt(d) + " days"
}

// formatInt writes 2000 as "2,000".
func formatInt(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + formatInt(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
