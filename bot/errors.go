package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// errText turns an error from the domain into what the person who acted
// reads, in plain words. This is the only place errors become user text.
// Times are written with Slack's date formatting, so each reader sees
// their own zone; where Slack cannot (notifications, the console), in z.
func errText(err error, p *renew.Policy, z *time.Location) string {
	var (
		denied    *renew.DeniedError
		ambiguous *renew.AmbiguousError
		noStrat   *renew.NoStrategiesError
		state     *renew.StateError
		api       *renew.APIError
	)
	var (
		busy      *renew.BusyError
		elsewhere *renew.RenewedElsewhereError
		already   *renew.AlreadyRenewedError
		over      *renew.BudgetError
		limit     *renew.LimitError
		refused   *renew.PayRefusedError
	)
	switch {
	case errors.As(err, &already):
		return alreadyText(already, z)
	case errors.As(err, &over):
		left := renew.Money{Ucents: over.Left(), Currency: over.Amount.Currency}
		limit := renew.Money{Ucents: over.Limit, Currency: over.Amount.Currency}
		return fmt.Sprintf("Nothing was paid: this order, %s with tax, would take %s over the monthly budget. %s is left of %s this month. "+
			"Approve it once the month allows it, or ask an admin to raise RENEWBOT_MONTHLY_BUDGET; `/renew spend` shows what was spent.",
			blocks.Escape(blocks.SumText(over.Amount)), over.Month.Name(), blocks.Escape(blocks.SumText(left)), blocks.Escape(blocks.SumText(limit)))
	case errors.As(err, &busy):
		return heldText(busy, "", z)
	case errors.As(err, &elsewhere):
		return fmt.Sprintf("Nothing was paid: %s was renewed elsewhere meanwhile (in the OVHcloud control panel, or automatically): it now expires on %s, not %s as when this renewal was asked. "+
			"The order stays unpaid and expires on its own. Type `/renew %s` again if you want a further period.",
			blocks.Escape(elsewhere.Service.Name), elsewhere.Now.Format(time.DateOnly), elsewhere.Was.Format(time.DateOnly), blocks.Escape(elsewhere.Service.Name))
	case errors.Is(err, renew.ErrStaleApproval):
		return "That approval was for an earlier attempt: the payment failed since, and approvals start again. Nothing was done; approve from the updated message if you still agree."
	case errors.As(err, &denied):
		return deniedText(denied, p)
	case errors.As(err, &ambiguous):
		var b strings.Builder
		fmt.Fprintf(&b, "`%s` matches %d services. Type `/renew` with one of these names or ids:\n", blocks.Escape(ambiguous.Query), len(ambiguous.Matches))
		for i, s := range ambiguous.Matches {
			if i == 15 {
				fmt.Fprintf(&b, "• … and %d more\n", len(ambiguous.Matches)-i)
				break
			}
			fmt.Fprintf(&b, "• `%d` %s", s.ID, blocks.Escape(s.Name))
			if s.DisplayName != "" && s.DisplayName != s.Name {
				fmt.Fprintf(&b, " (%s)", blocks.Escape(s.DisplayName))
			}
			if s.Product != "" {
				fmt.Fprintf(&b, ", %s", blocks.Escape(s.Product))
			}
			b.WriteByte('\n')
		}
		return b.String()
	case errors.As(err, &noStrat):
		name := blocks.Escape(noStrat.Service.Name)
		if len(noStrat.Offered) == 0 {
			return fmt.Sprintf("OVHcloud offers no way to renew %s at the moment (its renew mode is %s). Nothing was ordered.", name, noStrat.Service.RenewMode)
		}
		offered := make([]string, len(noStrat.Offered))
		for i, o := range noStrat.Offered {
			offered[i] = fmt.Sprintf("%s (`%s`)", o, o.ISO())
		}
		return fmt.Sprintf("OVHcloud offers no %s renewal for %s. Offered: %s. Type `/renew %s` to see them all.",
			blocks.PeriodAdjective(noStrat.Period), name, strings.Join(offered, ", "), name)
	case errors.Is(err, renew.ErrPaidNotRecorded):
		return "OVHcloud took the payment, but I could not record it. Do NOT pay this order again; an admin should check the bot's logs and database."
	case errors.Is(err, renew.ErrOrderUnknown):
		return "OVHcloud did not answer while creating the order, so one may exist, unpaid. Nothing will pay it: " +
			"it expires on its own within a day. Type `/renew` again to start over."
	case errors.Is(err, renew.ErrPaymentPending):
		return "OVHcloud shows this order in a state where an earlier payment may have gone through (documents requested, being cancelled, or a status it does not name). " +
			"Nothing was paid now, and nothing will be before the order status settles it; the message will show the outcome."
	case errors.As(err, &refused):
		return errText(refused.Cause, p, z) + " Nothing was paid now. OVHcloud may refuse because the order was paid another way meanwhile " +
			"(in the Control Panel, say) and show it only later, so nothing will be paid before the order status settles it, in a few minutes; " +
			"the message will show the outcome, and if nothing was paid the request can be approved again."
	case errors.Is(err, renew.ErrPaymentUnknown):
		return "The payment call did not come back, so I can't tell yet whether OVHcloud took the payment. " +
			"Nothing will be paid again before the order status says it was not paid; the message will show the outcome."
	case errors.As(err, &state):
		// After the money cases: a payment whose outcome could not be
		// written says so first, whatever state the request is in.
		return stateText(state.State)
	case OVHLoginText(err) != "":
		return OVHLoginText(err)
	case errors.As(err, &api):
		msg := fmt.Sprintf("OVHcloud refused: %s", blocks.Escape(api.Message))
		if api.Status >= 500 {
			msg = fmt.Sprintf("OVHcloud failed (HTTP %d): %s", api.Status, blocks.Escape(api.Message))
		}
		if api.Message == "" {
			msg = fmt.Sprintf("OVHcloud answered with an error (HTTP %d)", api.Status)
		}
		if api.QueryID != "" {
			msg += fmt.Sprintf(" (query id `%s`, for OVHcloud support)", blocks.Escape(api.QueryID))
		}
		return msg + "."
	case errors.Is(err, renew.ErrOtherChannel):
		return "That button belongs to a request made in another channel: act on it there."
	case errors.Is(err, renew.ErrNotFound):
		return "I can't find that on this OVHcloud account. Type `/renew SERVICE` with the service's name " +
			"(like `vps-1.example.net`), its display name, or its numeric id; `/renew list` shows what expires soon."
	case errors.Is(err, renew.ErrStrategyGone):
		return "OVHcloud no longer offers that option (its price or its services changed). Type `/renew` again to see the current ones."
	case errors.As(err, &limit):
		tax := "without tax"
		if limit.WithTax {
			tax = "with tax"
		}
		max := renew.Money{Ucents: limit.Limit, Currency: limit.Amount.Currency}
		return fmt.Sprintf("That renewal costs %s %s, more than this workspace's limit of %s with tax, so I won't order or pay it. Ask an admin to raise RENEWBOT_MAX_AMOUNT, or renew it in the OVHcloud control panel.",
			blocks.Escape(blocks.SumText(limit.Amount)), tax, blocks.Escape(blocks.SumText(max)))
	case errors.Is(err, renew.ErrOverLimit):
		return fmt.Sprintf("That renewal costs more than this workspace's limit of %s with tax, so I won't order or pay it. Ask an admin to raise RENEWBOT_MAX_AMOUNT, or renew it in the OVHcloud control panel.",
			renew.FormatUcents(p.MaxAmount))
	case errors.Is(err, renew.ErrOrderExpired):
		return "The OVHcloud order expired before it was paid. Type `/renew` again to create a new one."
	case errors.Is(err, renew.ErrOrderNotPayable):
		return "OVHcloud says this order is not waiting for payment any more. Nothing was paid."
	case errors.Is(err, renew.ErrDryRun):
		return "This bot runs in dry-run mode: orders are only priced, never paid."
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, renew.ErrUnavailable):
		return "OVHcloud did not answer in time. Nothing was ordered or paid; try again in a minute."
	}
	return "Something went wrong and nothing was changed. Try again in a minute; if it keeps failing, the bot's logs say why."
}

// heldText says which request holds the service, by whom, in what state,
// with a link to its message when there is one.
func heldText(b *renew.BusyError, link string, z *time.Location) string {
	h := b.Holder
	if h == nil {
		return "Another renewal request is already open for this service, so I won't start a second one. `/renew status` in its channel shows it."
	}
	who := h.RequestedBy
	if who == "" {
		who = h.InitiatedBy
	}
	where := "<#" + h.Channel + ">"
	if link != "" && !strings.ContainsAny(link, "<>|") {
		where = "<" + link + "|its message> in " + where
	}
	return fmt.Sprintf("A renewal of %s is already open, so I won't start a second one: <@%s> asked on %s and it is %s. See %s; it can be cancelled there.",
		blocks.Escape(blocks.Label(h.Service)), who, blocks.When(h.CreatedAt, z), stateWords(h.State), where)
}

// alreadyText says that another request paid, or is paying, for this
// renewal, in words that fit where that payment stands.
func alreadyText(a *renew.AlreadyRenewedError, z *time.Location) string {
	name := blocks.Escape(a.Renewal.Name)
	if name == "" {
		name = fmt.Sprintf("service %d", a.Renewal.ServiceID)
	}
	from := a.Renewal.From.Format(time.DateOnly)
	h := a.By
	if h == nil {
		return fmt.Sprintf("%s was already renewed from its expiry of %s by another request, and paying again would renew it twice, so I won't. "+
			"Once OVHcloud shows the new expiry, type `/renew` again if you want a further period.", name, from)
	}
	who := h.PaidBy
	if who == "" && len(h.Approvals) > 0 {
		who = h.Approvals[len(h.Approvals)-1].User
	}
	by := fmt.Sprintf("another request, in <#%s>", h.Channel)
	if who != "" {
		by += fmt.Sprintf(", approved by <@%s>", who)
	}
	if !h.PaidAt.IsZero() {
		by += " on " + blocks.When(h.PaidAt, z)
	}
	switch h.State {
	case renew.StatePaying, renew.StateUnknown:
		return fmt.Sprintf("%s is being renewed from its expiry of %s by %s (%s). Paying again could renew it twice, so I won't. "+
			"If that payment does not go through, type `/renew %s` again.", name, from, by, paidWords(h.State), name)
	case renew.StateDelivered:
		return fmt.Sprintf("%s was renewed from its expiry of %s by %s (paid and delivered) since this renewal was asked, so I won't pay for it again. "+
			"Type `/renew %s` again if you want a further period.", name, from, by, name)
	}
	text := fmt.Sprintf("%s was already renewed from its expiry of %s by %s (%s). OVHcloud has not moved the expiry yet, "+
		"and paying again would renew it twice, so I won't. Once OVHcloud shows the new expiry, type `/renew` again if you want a further period.",
		name, from, by, paidWords(h.State))
	if h.State == renew.StatePaidUnconfirmed {
		text += " If OVHcloud cancels that order instead, the renewal is free again."
	}
	return text
}

// paidWords says where a payment stands, in a few words.
func paidWords(s renew.State) string {
	switch s {
	case renew.StatePaid:
		return "paid, delivery under way"
	case renew.StatePaidUnconfirmed:
		return "paid, delivery not confirmed yet"
	case renew.StateDelivered:
		return "paid and delivered"
	}
	return stateWords(s)
}

// stateWords says where a request stands, in a few words.
func stateWords(s renew.State) string {
	switch s {
	case renew.StateProposed:
		return "waiting for someone to choose a renewal option"
	case renew.StateOrdering:
		return "creating its order"
	case renew.StateAwaitingApproval:
		return "waiting for approval"
	case renew.StatePaying:
		return "being paid"
	case renew.StatePaymentFailed:
		return "waiting for approval again after a failed payment"
	case renew.StateUnknown:
		return "checking whether its payment went through"
	}
	return string(s)
}

// notFoundText answers a SERVICE that names nothing on the account, the
// same however it was written: a name, a display name, or an id OVHcloud
// answers 404 for. notPeriod is a last word that looked like a period.
func notFoundText(service, notPeriod string) string {
	s := fmt.Sprintf("I can't find `%s` on this OVHcloud account.", blocks.Escape(service))
	if notPeriod != "" {
		s += fmt.Sprintf(" If `%s` is a period, write it like `1y`, `3m` or `P1Y`.", blocks.Escape(notPeriod))
	}
	return s + "\nType `/renew SERVICE` with the service's name (like `vps-1.example.net`), its display name " +
		"(quoted when it has spaces) or its numeric id; `/renew list` shows what expires soon."
}

func deniedText(d *renew.DeniedError, p *renew.Policy) string {
	switch d.Rule {
	case renew.RuleSelfApproval:
		return "You asked for this renewal, so a teammate has to approve it: nobody pays alone."
	case renew.RuleApprover:
		return "You are not one of the approvers of renewals here. Approvers: " + mentions(p.Approvers) + "."
	case renew.RuleRequester:
		return "You are not allowed to ask for renewals here. Allowed: " + mentions(p.Requesters) + "."
	case renew.RuleChannel:
		return "renewbot works only in " + channelLinks(p.Channels) + ". Use it there."
	case renew.RuleCancel:
		return "Only the person who asked for this renewal or an approver can cancel it."
	case renew.RuleDirectory:
		return "I can't check who may approve right now (Slack did not tell me the members of a user group), so I refuse rather than guess. Try again in a minute."
	}
	return "You are not allowed to do that here."
}

// mentions renders Slack ids as mentions: users as <@U…>, groups as
// <!subteam^S…>.
func mentions(ids []string) string {
	if len(ids) == 0 {
		return "anyone"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if renew.IsGroup(id) {
			out[i] = "<!subteam^" + id + ">"
		} else {
			out[i] = "<@" + id + ">"
		}
	}
	return strings.Join(out, ", ")
}

func channelLinks(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "<#" + id + ">"
	}
	return strings.Join(out, ", ")
}

func stateText(s renew.State) string {
	switch s {
	case renew.StateOrdering:
		return "Someone already chose a strategy: the order is being created."
	case renew.StateAwaitingApproval:
		return "A strategy was already chosen for this request; the order is waiting for approval."
	case renew.StatePaying:
		return "This order is being paid right now. Nothing more to do."
	case renew.StatePaid, renew.StateDelivered, renew.StatePaidUnconfirmed:
		return "This renewal is already paid. Nothing more to do."
	case renew.StateCancelled:
		return "This request was cancelled. Type `/renew` again to start a new one."
	case renew.StateExpired:
		return "This request expired. Type `/renew` again to start a new one."
	case renew.StateFailed:
		return "This request failed and is closed. Type `/renew` again to start a new one."
	case renew.StateUnknown:
		return "The last payment's outcome is still being checked with OVHcloud: nothing will be paid before it is known. Wait for the message to update."
	case renew.StatePaymentFailed:
		return "The last payment failed and the request waits for approval again."
	case renew.StateProposed:
		return "No strategy was chosen yet for this request."
	}
	return "This request is " + string(s) + "."
}

// errText is the package's errText with this bot's policy and zone.
func (b *Bot) errText(err error) string {
	return errText(err, b.renewer.Policy, b.renewer.Budget.Zone)
}
