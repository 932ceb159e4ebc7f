package blocks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// Action ids of the Home tab. A Home view shows no channel: the transport
// takes the request's channel from the store, never from the click.
const (
	// ActionHomeApprove is "Approve and pay" on the Home tab; its value
	// is ApproveValue's, its checks those of the request's message.
	ActionHomeApprove = "home_approve"
	// ActionHomeCancel is Cancel on the Home tab; value "REQID".
	ActionHomeCancel = "home_cancel"
	// ActionHomeRenew is "Renew…" on the Home tab; value a service id. The
	// proposal is posted in the Home channel, where the team approves.
	ActionHomeRenew = "home_renew"
)

// Home tab sizes: a Home view holds at most 100 blocks; these keep it
// well inside, whatever waits.
const (
	maxHomeBlocks   = 100
	maxHomeWaiting  = 20
	maxHomeMine     = 15
	maxHomeExpiring = 20
	maxHomePayments = 10
	// HomeDays is how far ahead the Home tab looks for expiries.
	HomeDays = 30
)

// HomeView is what one person's Home tab shows.
type HomeView struct {
	renew.Home
	// Expiring is the account's services expiring within HomeDays; nil
	// while the account is being read. ExpiringErr says why it could not
	// be read, when it could not, in mrkdwn already safe to show.
	Expiring    *renew.ExpiringList
	ExpiringErr string
	// Channel is where a Renew… of the Home tab posts its proposal; ""
	// means there is no such channel, and no Renew… button.
	Channel string
	// Notice answers the person's last action on the Home tab (a
	// refusal, a confirmation), in mrkdwn already safe to show.
	Notice string
}

// Home renders the Home tab: what waits for this person's approval, their
// open requests, what expires within 30 days, and this month's spending.
func Home(h HomeView, v View) slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: HomeBlocks(h, v)}}
}

// HomeBlocks are the Home tab's blocks, at most 100.
func HomeBlocks(h HomeView, v View) []slack.Block {
	bs := []slack.Block{header("Renewals")}
	if b := viewBanner(v); b != nil {
		bs = append(bs, b)
	}
	if n := strings.TrimSpace(h.Notice); n != "" {
		bs = append(bs, mrkdwnSection(":speech_balloon: "+clip(n, maxSectionText-20)))
	}
	bs = append(bs, homeWaiting(h, v)...)
	bs = append(bs, slack.NewDividerBlock())
	bs = append(bs, homeMine(h, v)...)
	bs = append(bs, slack.NewDividerBlock())
	bs = append(bs, homeExpiring(h)...)
	bs = append(bs, slack.NewDividerBlock())
	bs = append(bs, homeMonth(h, v)...)
	bs = append(bs, slack.NewContextBlock("", mrkdwn("Updated "+When(h.Now, v.Zone)+". This tab follows your requests and approvals as they change.")))
	if len(bs) > maxHomeBlocks { // cannot happen with the caps above
		bs = append(bs[:maxHomeBlocks-1], mrkdwnSection("… more than this tab can show."))
	}
	return bs
}

// homeWaiting lists the requests this person may approve, each with the
// approve button of the request's message.
func homeWaiting(h HomeView, v View) []slack.Block {
	bs := []slack.Block{mrkdwnSection(fmt.Sprintf(":raised_hand: *Waiting for your approval* (%d)", len(h.Waiting)))}
	if len(h.Waiting) == 0 {
		return append(bs, slack.NewContextBlock("", mrkdwn("Nothing waits for your approval.")))
	}
	for i, r := range h.Waiting {
		if i == maxHomeWaiting {
			bs = append(bs, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more: `/renew status` in their channels lists them.", len(h.Waiting)-i))))
			break
		}
		var s strings.Builder
		s.WriteString(requestLine(r))
		fmt.Fprintf(&s, "\nRequested by %s in <#%s> · %s", user(r.RequestedBy), r.Channel, progress(r, v))
		if !r.ExpiresAt.IsZero() {
			s.WriteString(" · expires " + When(r.ExpiresAt, v.Zone))
		}
		if r.State == renew.StatePaymentFailed {
			s.WriteString("\n:x: The last payment failed" + reason(r.Error))
		}
		if d := drift(r); d != "" {
			s.WriteString("\n:warning: " + d)
		}
		if h.OverBudget[r.ID] {
			left, _ := h.Month.Left()
			fmt.Fprintf(&s, "\n:no_entry: Above the budget left this month (%s): it cannot be paid until room is made.", sum(in(h.Month.Money(left), currencyOf(r, h.Month.Currency))))
			bs = append(bs, mrkdwnSection(s.String()))
			continue
		}
		bs = append(bs, slack.NewSectionBlock(mrkdwn(clip(s.String(), maxSectionText)), nil,
			slack.NewAccessory(approveButtonAs(ActionHomeApprove, r))))
	}
	return bs
}

// requestLine names a request's service, what it renews for and its
// price, on one line.
func requestLine(r *renew.Request) string {
	s := "*" + line(label(r.Service), maxName) + "*"
	if dn := oneLine(r.Service.Name); dn != "" && dn != oneLine(label(r.Service)) {
		s += " (" + line(dn, maxName) + ")"
	}
	if r.Chosen != nil {
		s += " · renew for " + r.Chosen.Period.String()
	}
	if r.Order != nil {
		s += fmt.Sprintf(" · *%s* with tax", money(r.Order.PriceWithTax))
	}
	return s
}

// homeMine lists this person's requests that have not ended, with Cancel
// while they can be cancelled.
func homeMine(h HomeView, v View) []slack.Block {
	bs := []slack.Block{mrkdwnSection(fmt.Sprintf(":memo: *Your open requests* (%d)", len(h.Mine)))}
	if len(h.Mine) == 0 {
		how := "Type `/renew SERVICE` in the team's channel to start one."
		if h.Channel != "" {
			how = "Type `/renew SERVICE` in <#" + h.Channel + ">, or use *Renew…* below, to start one."
		}
		return append(bs, slack.NewContextBlock("", mrkdwn("You have no open renewal request. "+how)))
	}
	for i, r := range h.Mine {
		if i == maxHomeMine {
			bs = append(bs, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more: `/renew status` in their channels lists them.", len(h.Mine)-i))))
			break
		}
		s := fmt.Sprintf("%s\n%s in <#%s> · started %s", requestLine(r), upperFirst(stateWords(r.State)), r.Channel, When(r.CreatedAt, v.Zone))
		if r.State == renew.StateAwaitingApproval || r.State == renew.StatePaymentFailed {
			s += " · " + progress(r, v)
		}
		if !r.State.Open() {
			bs = append(bs, mrkdwnSection(s))
			continue
		}
		confirm := slack.NewConfirmationBlockObject(plain("Cancel the renewal?"),
			mrkdwn(clip(fmt.Sprintf("Cancel the renewal of %s? Nothing will be paid.", line(label(r.Service), 100)), maxConfirmText)),
			plain("Cancel it"), plain("Keep it")).WithStyle(slack.StyleDanger)
		cancel := slack.NewButtonBlockElement(ActionHomeCancel, r.ID, plain("Cancel")).WithStyle(slack.StyleDanger).WithConfirm(confirm)
		bs = append(bs, slack.NewSectionBlock(mrkdwn(clip(s, maxSectionText)), nil, slack.NewAccessory(cancel)))
	}
	return bs
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// homeExpiring lists the services that need renewing within HomeDays,
// each with Renew… when there is a channel to post the proposal in.
func homeExpiring(h HomeView) []slack.Block {
	title := fmt.Sprintf(":calendar: *Expiring in the next %s*", dayCount(HomeDays))
	switch {
	case h.ExpiringErr != "":
		return []slack.Block{mrkdwnSection(title), slack.NewContextBlock("", mrkdwn(clip(h.ExpiringErr, maxError)))}
	case h.Expiring == nil:
		return []slack.Block{mrkdwnSection(title), slack.NewContextBlock("", mrkdwn(":hourglass_flowing_sand: Reading the account's services… this tab updates once they are read."))}
	}
	l := h.Expiring
	due := append(append([]renew.ExpiringService(nil), l.Attention...), l.Manual...)
	attention, manual, busy := dueCounts(*l)
	heading := fmt.Sprintf("%s (%d to renew)", title, attention+manual)
	if busy > 0 {
		heading = fmt.Sprintf("%s (%d to renew, %d under way)", title, attention+manual, busy)
	}
	bs := []slack.Block{mrkdwnSection(heading)}
	if len(due) == 0 {
		bs = append(bs, slack.NewContextBlock("", mrkdwn(":white_check_mark: Nothing to renew by hand.")))
	}
	for i, e := range due {
		if i == maxHomeExpiring {
			bs = append(bs, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more: `/renew list %d` lists them all.", len(due)-i, HomeDays))))
			break
		}
		text := entryText(e)
		if e.Renewing != nil {
			text += "\n" + renewingNote(e.Renewing)
		}
		if h.Channel == "" || e.Renewing != nil && !mayRenewAgain(e.Renewing) {
			bs = append(bs, mrkdwnSection(clip(text, maxSectionText)))
			continue
		}
		b := slack.NewButtonBlockElement(ActionHomeRenew, strconv.FormatInt(e.Service.ID, 10), plain(renewButton))
		bs = append(bs, slack.NewSectionBlock(mrkdwn(clip(text, maxSectionText)), nil, slack.NewAccessory(b)))
	}
	var notes []string
	if n := len(l.Automatic); n > 0 {
		notes = append(notes, fmt.Sprintf("%s %s automatically.", count(n, "more service", "more services"), verb(n, "renews", "renew")))
	}
	if n := len(l.Unknown); n > 0 {
		notes = append(notes, fmt.Sprintf("%s could not be read.", count(n, "service", "services")))
	}
	if len(due) > 0 {
		if h.Channel != "" {
			notes = append(notes, fmt.Sprintf("*Renew…* posts the renewal in <#%s>, where the team chooses and approves it.", h.Channel))
		} else {
			notes = append(notes, "Type `/renew SERVICE` in the team's channel to renew one (RENEWBOT_HOME_CHANNEL would put a *Renew…* button here).")
		}
	}
	if len(notes) > 0 {
		bs = append(bs, slack.NewContextBlock("", mrkdwn(strings.Join(notes, " "))))
	}
	return bs
}

// homeMonth shows this month's spending: total, budget left, renewals,
// and the last payments.
func homeMonth(h HomeView, v View) []slack.Block {
	s := h.Month
	fields := []*slack.TextBlockObject{
		mrkdwn("*Spent, with tax*\n" + spent(s)),
		mrkdwn("*Renewals paid*\n" + formatInt(len(s.Payments))),
	}
	if left, ok := s.Left(); ok {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Budget left*\n%s of %s", sum(s.Money(left)), sum(s.Money(s.Budget.Limit)))))
	} else {
		fields = append(fields, mrkdwn(noBudget))
	}
	bs := []slack.Block{
		mrkdwnSection(fmt.Sprintf(":moneybag: *This month* (%s)", line(s.Month.Name(), 40))),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if len(s.Payments) == 0 {
		return append(bs, slack.NewContextBlock("", mrkdwn("Nothing paid yet this month.")))
	}
	var b strings.Builder
	b.WriteString("*Last payments*")
	for i, r := range s.Payments {
		if i == maxHomePayments {
			break
		}
		fmt.Fprintf(&b, "\n• %s · %s · %s", When(r.ClaimedAt, v.Zone), line(label(r.Service), 80), money(r.Amount()))
		if len(r.Approvals) > 0 {
			b.WriteString(" · approved by " + approvedBy(r))
		}
		if r.State == renew.StatePaying || r.State == renew.StateUnknown {
			b.WriteString(" · " + stateWords(r.State))
		}
	}
	return append(bs, mrkdwnSection(clip(b.String(), maxSectionText)), slack.NewContextBlock("", mrkdwn("`/renew spend` breaks the month down by product, requester and approver.")))
}

// ValidateHome checks a Home view's blocks against Block Kit's limits: a
// Home view takes 100 blocks, a message 50.
func ValidateHome(bs []slack.Block) error { return validate(bs, maxHomeBlocks) }
