// Package blocks renders renewbot's Slack messages as Block Kit blocks.
//
// Everything here is a pure function of its arguments: no I/O and no clock
// (the time comes in a View), so every message can be checked against a
// golden file and re-rendered from the store at any time. One request has
// one channel message, rendered by Request in every state of its life.
//
// Every string that comes from OVHcloud or from a person (service names,
// display names, products, errors, reasons) is escaped and clipped: a
// display name "<!channel>" must notify no one, and a long one must shorten
// rather than make Slack reject the message. Validate checks Block Kit's
// limits.
package blocks

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// Action ids of the message's interactive elements. The transport reads
// the request id (and for a choice the option index) with ParseValue and
// trusts nothing else a click carries.
const (
	ActionChoose       = "choose"        // button, value "REQID:INDEX"
	ActionChooseSelect = "choose_select" // static_select, option values "REQID:INDEX"
	ActionApprove      = "approve"       // button, value "REQID:ATTEMPT" (older messages: "REQID", attempt 0)
	ActionCancel       = "cancel"        // button, value "REQID"
)

// View is what a render needs beyond the request: the moment and the
// policy, so the message can say who may approve and what is above the
// limit.
type View struct {
	Now           time.Time
	NeedApprovals int      // approvals a payment needs (>= 1)
	Approvers     []string // user ids (U…, W…) and group ids (S…); empty: anyone but the requester
	SelfApproval  bool
	MaxAmount     renew.Money // Ucents 0: no limit
	DryRun        bool        // orders are priced, never paid
	Sandbox       bool        // OVHcloud is simulated
	// Budget, when the workspace has a monthly budget, is what it still
	// allows this month: shown while a renewal is chosen and approved.
	Budget *MonthBudget
	// Zone is where times are written when Slack cannot localise them
	// (RENEWBOT_TIMEZONE, the zone months are counted in); nil is UTC.
	Zone *time.Location
}

// MonthBudget is the monthly budget as a message shows it.
type MonthBudget struct {
	Month string // "November 2026"
	// Limit and Left are with tax; Left is never below zero.
	Limit, Left renew.Money
}

func (v View) need() int { return max(v.NeedApprovals, 1) }

// Sizes chosen well inside Slack's limits for what people and OVHcloud
// type, so that a message always renders.
const (
	maxName  = 200  // a service name or display name in a sentence
	maxError = 1000 // an error or a reason shown on the message
)

// Request renders the channel message of a request in its current state.
func Request(r *renew.Request, v View) []slack.Block {
	bs := []slack.Block{header(label(r.Service))}
	if b := banner(r, v); b != nil {
		bs = append(bs, b)
	}
	bs = append(bs, serviceSection(r.Service, v.Now))
	switch r.State {
	case renew.StateProposed:
		bs = append(bs, proposed(r, v)...)
	case renew.StateOrdering:
		bs = append(bs, mrkdwnSection(fmt.Sprintf(":hourglass_flowing_sand: *Creating the order…* chosen by %s", user(r.RequestedBy))))
		bs = appendChosen(bs, r)
	case renew.StateAwaitingApproval, renew.StatePaymentFailed:
		bs = append(bs, awaiting(r, v)...)
	case renew.StatePaying:
		bs = append(bs, mrkdwnSection(fmt.Sprintf(":hourglass_flowing_sand: *Paying…* approved by %s", approvedBy(r))))
		bs = appendOrder(bs, r, v.Zone)
	case renew.StatePaid, renew.StateDelivered, renew.StatePaidUnconfirmed:
		bs = append(bs, mrkdwnSection(paid(r, v.Zone)))
		bs = appendOrder(bs, r, v.Zone)
	case renew.StateFailed:
		bs = append(bs, mrkdwnSection(":x: *The renewal failed.*"+reason(r.Error)))
		bs = appendOrder(bs, r, v.Zone)
	case renew.StateCancelled:
		s := fmt.Sprintf(":no_entry_sign: *Cancelled* by %s.", user(r.CancelledBy))
		if why := strings.TrimSpace(r.CancelReason); why != "" {
			s += "\nReason: " + esc(why, maxError)
		}
		bs = append(bs, mrkdwnSection(s+"\nNothing was paid."))
		bs = appendOrder(bs, r, v.Zone)
	case renew.StateExpired:
		bs = append(bs, mrkdwnSection(":hourglass: *Expired.*"+reason(r.Error)+"\nNothing was paid. Type `/renew` again to start over."))
		bs = appendOrder(bs, r, v.Zone)
	case renew.StateUnknown:
		bs = append(bs, mrkdwnSection(":warning: *Payment outcome unknown*, checking with OVHcloud. "+
			"Nothing will be paid again before OVHcloud says whether this payment went through."+reason(r.Error)))
		bs = appendOrder(bs, r, v.Zone)
	default:
		bs = append(bs, mrkdwnSection(":grey_question: This request is in a state this version does not know: "+line(string(r.State), 50)+"."))
	}
	return append(bs, footer(r, v.Zone))
}

// reason renders an error worth showing, on its own line.
func reason(err string) string {
	err = strings.TrimSpace(err)
	if err == "" {
		return ""
	}
	return "\n" + esc(err, maxError)
}

// banner says on every message that nothing real happens.
func banner(r *renew.Request, v View) slack.Block {
	var els []slack.MixedElement
	if v.Sandbox {
		els = append(els, mrkdwn(":construction: *Sandbox*: OVHcloud is simulated, no real service or order."))
	}
	if v.DryRun || r.DryRun {
		els = append(els, mrkdwn(":test_tube: *Dry run*: nothing will be paid."))
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewContextBlock("", els...)
}

// serviceSection shows what is renewed and how urgent it is.
func serviceSection(s renew.Service, now time.Time) slack.Block {
	fields := []*slack.TextBlockObject{mrkdwn("*Service*\n" + line(nameOr(s.Name, fmt.Sprintf("service %d", s.ID)), maxName))}
	if dn := oneLine(s.DisplayName); dn != "" && dn != oneLine(s.Name) {
		fields = append(fields, mrkdwn("*Display name*\n"+line(dn, maxName)))
	}
	if p := oneLine(s.Product); p != "" {
		fields = append(fields, mrkdwn("*Product*\n"+line(p, maxName)))
	}
	if st := oneLine(s.State); st != "" && st != "active" {
		fields = append(fields, mrkdwn("*State*\n"+line(st, 50)))
	}
	if s.Expiration.IsZero() {
		fields = append(fields, mrkdwn("*Expires*\nunknown"))
	} else {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Expires*\n%s (%s)", day(s.Expiration), daysLeft(now, s.Expiration))))
	}
	if m := renewMode(s); m != "" {
		fields = append(fields, mrkdwn("*Renew mode*\n"+m))
	}
	return slack.NewSectionBlock(nil, fields, nil)
}

func nameOr(s, fallback string) string {
	if oneLine(s) == "" {
		return fallback
	}
	return s
}

// renewMode renders "automatic, every 1 month".
func renewMode(s renew.Service) string {
	mode := line(s.RenewMode, 50)
	if oneLine(s.RenewPeriod) == "" {
		return mode
	}
	every := line(s.RenewPeriod, 30)
	if p, err := renew.ParsePeriod(s.RenewPeriod); err == nil {
		every = p.String()
	}
	if mode == "" {
		return "every " + every
	}
	return mode + ", every " + every
}

// appendChosen adds the strategy an order was created for.
func appendChosen(bs []slack.Block, r *renew.Request) []slack.Block {
	if r.Chosen == nil {
		return bs
	}
	return append(bs, mrkdwnSection(fmt.Sprintf("*Renew for %s*: %s\n%s without tax",
		r.Chosen.Period, esc(together(*r.Chosen, 1000), 1500), money(r.Chosen.Price))))
}

// appendOrder adds the order's number, prices and expiry, and what it
// renews. Never its password or URLs: renew.Order does not even hold them.
func appendOrder(bs []slack.Block, r *renew.Request, z *time.Location) []slack.Block {
	if r.Order == nil {
		return appendChosen(bs, r)
	}
	o := r.Order
	fields := []*slack.TextBlockObject{
		mrkdwn("*Order*\n" + strconv.FormatInt(o.ID, 10)),
		mrkdwn("*Price without tax*\n" + money(o.PriceWithoutTax)),
		mrkdwn("*Tax*\n" + money(o.Tax)),
		mrkdwn("*Price with tax*\n" + money(o.PriceWithTax)),
	}
	if !o.Expiration.IsZero() {
		fields = append(fields, mrkdwn("*Order expires*\n"+When(o.Expiration, z)))
	}
	if c := r.Chosen; c != nil {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Renews for %s*\n%s", c.Period, esc(together(*c, 1000), 1500))))
	}
	return append(bs, slack.NewSectionBlock(nil, fields, nil))
}

// awaiting renders a priced order waiting for approvals, first or again
// after a failed payment.
func awaiting(r *renew.Request, v View) []slack.Block {
	var s strings.Builder
	if r.State == renew.StatePaymentFailed {
		s.WriteString(":x: *The payment failed.* Approve again to retry.")
	} else {
		s.WriteString(":raised_hand: *Waiting for approval.*")
	}
	fmt.Fprintf(&s, " Requested by %s.", user(r.RequestedBy))
	fmt.Fprintf(&s, "\n%s", progress(r, v))
	fmt.Fprintf(&s, "\nWho may approve: %s", mayApprove(r, v))
	if e := strings.TrimSpace(r.Error); e != "" {
		s.WriteString("\n:warning: " + esc(e, maxError))
	}
	dry := v.DryRun || r.DryRun
	if dry {
		s.WriteString("\n*Dry run: nothing will be paid.* The order was only priced; cancel it when you are done.")
	}
	if d := drift(r); d != "" {
		s.WriteString("\n:warning: " + d)
	}
	if b := budgetLine(r, v); b != "" && !dry {
		s.WriteString("\n" + b)
	}
	bs := []slack.Block{mrkdwnSection(s.String())}
	bs = appendOrder(bs, r, v.Zone)
	var buttons []slack.BlockElement
	if !dry {
		buttons = append(buttons, approveButton(r))
	}
	cancel := slack.NewButtonBlockElement(ActionCancel, r.ID, plain("Cancel")).WithStyle(slack.StyleDanger)
	buttons = append(buttons, cancel)
	return append(bs, slack.NewActionBlock("", buttons...))
}

// drift says plainly when OVHcloud priced the order differently from the
// strategy that was chosen, so nobody approves a price they did not see.
func drift(r *renew.Request) string {
	if r.Order == nil || r.Chosen == nil || r.Order.PriceWithoutTax.Ucents == r.Chosen.Price.Ucents {
		return ""
	}
	dir := "more"
	if r.Order.PriceWithoutTax.Ucents < r.Chosen.Price.Ucents {
		dir = "less"
	}
	return fmt.Sprintf("*Price changed:* OVHcloud priced this order at %s without tax, %s than the %s shown when it was chosen.",
		money(r.Order.PriceWithoutTax), dir, money(r.Chosen.Price))
}

// ApproveValue is the approve button's value: the request and the round
// of approval it is shown for, so a replayed click counts once.
func ApproveValue(r *renew.Request) string {
	return r.ID + ":" + strconv.Itoa(r.Attempt)
}

// approveButton pays on the last approval: its confirm dialog names the
// amount with tax and the service, so nobody pays by a slip of the thumb.
func approveButton(r *renew.Request) *slack.ButtonBlockElement {
	return approveButtonAs(ActionApprove, r)
}

// approveButtonAs is the approve button with the action id of where it
// is shown: the request's message, or the Home tab.
func approveButtonAs(actionID string, r *renew.Request) *slack.ButtonBlockElement {
	total := "the order"
	pay := "Pay"
	if r.Order != nil {
		total = money(r.Order.PriceWithTax) + " with tax"
		pay = "Pay " + line(amount(r.Order.PriceWithTax), maxConfirmButton-len("Pay "))
	}
	text := fmt.Sprintf("Pay %s to OVHcloud to renew %s?", total, line(label(r.Service), 100))
	confirm := slack.NewConfirmationBlockObject(
		plain("Approve and pay?"),
		mrkdwn(clip(text, maxConfirmText)),
		plain(pay),
		plain("Not yet"),
	).WithStyle(slack.StylePrimary)
	return slack.NewButtonBlockElement(actionID, ApproveValue(r), plain("Approve and pay")).
		WithStyle(slack.StylePrimary).WithConfirm(confirm)
}

// progress renders "1 of 2 approvals: <@U1>".
func progress(r *renew.Request, v View) string {
	unit := "approvals"
	if v.need() == 1 {
		unit = "approval"
	}
	s := fmt.Sprintf("%d of %d %s", len(r.Approvals), v.need(), unit)
	if len(r.Approvals) > 0 {
		s += ": " + approvedBy(r)
	}
	return s
}

func approvedBy(r *renew.Request) string {
	if len(r.Approvals) == 0 {
		return "nobody"
	}
	ids := make([]string, len(r.Approvals))
	for i, a := range r.Approvals {
		ids[i] = a.User
	}
	return users(ids, user)
}

// mayApprove renders who may still approve: the approvers the policy
// allows, but those who approved already (an approval counts once) and,
// without self-approval, the requester.
func mayApprove(r *renew.Request, v View) string {
	mayNot := func(u string) bool { return r.ApprovedBy(u) || !v.SelfApproval && u == r.RequestedBy }
	list := slices.DeleteFunc(slices.Clone(v.Approvers), mayNot)
	if len(v.Approvers) > 0 && len(list) == 0 {
		return "nobody left: every approver in RENEWBOT_APPROVERS approved or asked for it; an admin must add approvers or lower RENEWBOT_APPROVALS"
	}
	who := "anyone"
	if len(r.Approvals) > 0 {
		who = "anyone else"
	}
	if len(list) > 0 {
		// A long list would crowd the message: the first few say enough.
		const show = 20
		more := ""
		if len(list) > show {
			more = fmt.Sprintf(" and %d more", len(list)-show)
			list = list[:show]
		}
		who = users(list, approver) + more
	}
	if !v.SelfApproval && r.RequestedBy != "" {
		who += ", but not " + user(r.RequestedBy) + " who asked"
	}
	return who
}

// paid renders a taken payment and how its delivery goes.
func paid(r *renew.Request, z *time.Location) string {
	amt := "the order"
	if r.Order != nil {
		amt = money(r.Order.PriceWithTax)
	}
	s := fmt.Sprintf(":white_check_mark: *Paid* %s by %s", amt, user(r.PaidBy))
	if !r.PaidAt.IsZero() {
		s += " on " + When(r.PaidAt, z)
	}
	s += "."
	switch {
	case r.State == renew.StateDelivered || r.OrderStatus == renew.OrderDelivered:
		s += "\nOrder status: *delivered*, the service is renewed."
	case r.OrderStatus == renew.OrderChecking:
		s += "\nOrder status: *checking*, OVHcloud is checking the payment."
	case r.OrderStatus == renew.OrderDelivering:
		s += "\nOrder status: *delivering*, OVHcloud is renewing the service."
	case r.OrderStatus != "":
		s += "\nOrder status: *" + line(string(r.OrderStatus), 50) + "*."
	}
	if r.State == renew.StatePaidUnconfirmed {
		s += "\nOVHcloud had not confirmed the delivery when I stopped following it; check the order in the OVHcloud control panel if the service does not show the new expiry."
	}
	return s
}

// footer says who started the request, its id (for /renew status and the
// logs) and, while it waits for someone, when it expires.
func footer(r *renew.Request, z *time.Location) slack.Block {
	who := "Requested by "
	if r.State != renew.StateProposed {
		who = "Started by "
	}
	els := []slack.MixedElement{
		mrkdwn(who + user(r.InitiatedBy)),
		mrkdwn("Request " + line(r.ID, 64)),
	}
	if r.State.Open() && !r.ExpiresAt.IsZero() {
		els = append(els, mrkdwn("This request expires "+When(r.ExpiresAt, z)))
	}
	return slack.NewContextBlock("", els...)
}

func header(text string) slack.Block {
	return slack.NewHeaderBlock(plain(line(text, maxHeaderText)))
}

func mrkdwnSection(text string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(clip(text, maxSectionText)), nil, nil)
}

func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

// plain is a plain_text object. Its text must already be escaped: Slack
// decodes &amp; &lt; &gt; there too.
func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, true, false)
}

// Text is the message's notification text (chat.postMessage's text):
// what notifications and screen readers show. It carries no mention, so
// that an update never pings anyone, and escapes what OVHcloud wrote.
func Text(r *renew.Request) string {
	name := line(label(r.Service), maxName)
	order := "the order"
	if r.Order != nil {
		order = fmt.Sprintf("order %d", r.Order.ID)
	}
	var s string
	switch r.State {
	case renew.StateProposed:
		s = fmt.Sprintf("Renew %s: choose a renewal option.", name)
		if !r.Service.Expiration.IsZero() {
			s = fmt.Sprintf("Renew %s (expires %s): choose a renewal option.", name, day(r.Service.Expiration))
		}
	case renew.StateOrdering:
		s = fmt.Sprintf("Renewal of %s: creating the order…", name)
	case renew.StateAwaitingApproval:
		s = fmt.Sprintf("Renewal of %s: %s waits for approval.", name, order)
		if r.Order != nil {
			s = fmt.Sprintf("Renewal of %s: %s (%s with tax) waits for approval.", name, order, money(r.Order.PriceWithTax))
		}
	case renew.StatePaymentFailed:
		s = fmt.Sprintf("Renewal of %s: the payment of %s failed; approve again to retry.", name, order)
	case renew.StatePaying:
		s = fmt.Sprintf("Renewal of %s: paying %s…", name, order)
	case renew.StatePaid:
		s = fmt.Sprintf("Renewal of %s: %s is paid.", name, order)
	case renew.StateDelivered:
		s = fmt.Sprintf("%s is renewed: %s is delivered.", name, order)
	case renew.StatePaidUnconfirmed:
		s = fmt.Sprintf("Renewal of %s: %s is paid; delivery not confirmed yet.", name, order)
	case renew.StateFailed:
		s = fmt.Sprintf("Renewal of %s failed.", name)
	case renew.StateCancelled:
		s = fmt.Sprintf("Renewal of %s cancelled.", name)
	case renew.StateExpired:
		s = fmt.Sprintf("Renewal of %s expired.", name)
	case renew.StateUnknown:
		s = fmt.Sprintf("Renewal of %s: payment outcome unknown, checking with OVHcloud.", name)
	default:
		s = fmt.Sprintf("Renewal of %s.", name)
	}
	if r.DryRun {
		s = "[dry run] " + s
	}
	return s
}

var errValue = errors.New("blocks: malformed action value")

// maxIndex bounds an option index: no service has that many strategies.
const maxIndex = 9999

// ParseValue reads an action value: "REQID:INDEX" for a choice, "REQID"
// for approve and cancel (index is then -1).
func ParseValue(v string) (id string, index int, err error) {
	id, idx, hasIndex := strings.Cut(v, ":")
	if !validRequestID(id) {
		return "", -1, fmt.Errorf("%w: %q", errValue, clip(v, 80))
	}
	if !hasIndex {
		return id, -1, nil
	}
	n, err := strconv.Atoi(idx)
	if err != nil || n < 0 || n > maxIndex || strconv.Itoa(n) != idx {
		return "", -1, fmt.Errorf("%w: %q", errValue, clip(v, 80))
	}
	return id, n, nil
}

// choiceValue is the value of a choice: the request and an index into its
// options, never a price.
func choiceValue(id string, index int) string { return id + ":" + strconv.Itoa(index) }

// validRequestID accepts what renew.NewID makes and a little more
// (letters, digits, '-', '_'), nothing that could hide a second field.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}
