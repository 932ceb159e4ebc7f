package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// The cancel dialog: a modal whose submission carries the request id in
// private_metadata and the optional reason in this block and action.
const (
	CallbackCancel = "cancel_request"
	BlockReason    = "reason"
	ActionReason   = "reason_input"
)

// EventLine is the short thread reply for one step of a request ("who did
// what"), or "" for steps that need none.
func EventLine(r *renew.Request, ev renew.Event) string {
	who := user(ev.Actor)
	order := ""
	if r.Order != nil {
		order = fmt.Sprintf("order %d", r.Order.ID)
	}
	switch ev.Action {
	case "chose":
		if r.Chosen != nil {
			return fmt.Sprintf("%s chose %s at %s without tax.", who, r.Chosen.Period, money(r.Chosen.Price))
		}
		return who + " chose a strategy."
	case "ordered":
		return fmt.Sprintf("OVHcloud created %s: %s with tax. It waits for approval.", order, money(r.Order.PriceWithTax))
	case "priced":
		return fmt.Sprintf("Dry run: OVHcloud priced it at %s with tax. Nothing will be paid.", money(r.Order.PriceWithTax))
	case "approved":
		var n, need int
		if _, err := fmt.Sscanf(ev.Detail, "%d of %d", &n, &need); err == nil && need > 0 {
			return fmt.Sprintf("%s approved (%d of %s).", who, n, plural(need, "approval"))
		}
		return fmt.Sprintf("%s approved (%s).", who, line(ev.Detail, 40))
	case "paid":
		return fmt.Sprintf(":white_check_mark: Paid %s (%s), approved by %s.", money(r.Order.PriceWithTax), order, approvedBy(r))
	case "delivered":
		return "OVHcloud delivered the renewal."
	case "unconfirmed":
		return "Paid; " + esc(ev.Detail, maxError) + "."
	case "renewed_elsewhere":
		return ":x: Not paid: " + esc(ev.Detail, maxError)
	case "order_cancelled":
		return ":x: " + esc(ev.Detail, maxError) + ": it renewed nothing. Any refund shows in the OVHcloud control panel."
	case "payment_failed":
		return ":warning: The payment failed: " + esc(ev.Detail, maxError) + " It can be approved again."
	case "payment_unknown":
		return ":grey_question: The payment's outcome is unknown; checking the order status before anything else."
	case "order_failed", "not_payable", "over_limit", "order_expired":
		return ":x: The renewal failed: " + esc(ev.Detail, maxError)
	case "cancelled":
		s := ":no_entry_sign: Cancelled by " + who + "."
		if ev.Detail != "" {
			s += " Reason: " + esc(ev.Detail, maxError)
		}
		return s
	case "expired":
		return ":hourglass: Expired: " + esc(ev.Detail, maxError)
	}
	return ""
}

// Audited reports whether an event goes to the audit channel: orders
// created, approvals, payments, failures, cancellations and expiries.
func Audited(action string) bool {
	switch action {
	case "ordered", "approved", "paid", "payment_failed", "order_failed", "not_payable", "over_limit",
		"order_expired", "cancelled", "expired", "renewed_elsewhere", "order_cancelled":
		return true
	}
	return false
}

// AuditLine is the one line posted to the audit channel for an event, with
// a link to the request's message when there is one.
func AuditLine(r *renew.Request, ev renew.Event, permalink string) string {
	name := line(label(r.Service), maxName)
	if permalink != "" && !strings.ContainsAny(permalink, "<>|") {
		name = "<" + permalink + "|" + name + ">"
	}
	what := EventLine(r, ev)
	if what == "" {
		what = line(ev.Action, 40)
	}
	return fmt.Sprintf("%s in <#%s>: %s", name, r.Channel, what)
}

// Status renders /renew status: the open requests of a channel.
func Status(reqs []*renew.Request, v View) []slack.Block {
	if len(reqs) == 0 {
		return []slack.Block{mrkdwnSection("No open renewal requests in this channel. Type `/renew SERVICE` to start one.")}
	}
	bs := []slack.Block{mrkdwnSection(fmt.Sprintf("*%s open in this channel*", plural(len(reqs), "request")))}
	for i, r := range reqs {
		if len(bs) >= 48 {
			bs = append(bs, mrkdwnSection(fmt.Sprintf("… and %d more.", len(reqs)-i)))
			break
		}
		var s strings.Builder
		fmt.Fprintf(&s, "*%s* · %s · %s", line(label(r.Service), maxName), stateWords(r.State), age(v.Now.Sub(r.CreatedAt)))
		if r.Order != nil {
			fmt.Fprintf(&s, "\n%s with tax (order %d)", money(r.Order.PriceWithTax), r.Order.ID)
		}
		switch r.State {
		case renew.StateProposed:
			s.WriteString("\nWaiting for someone to choose a strategy.")
		case renew.StateAwaitingApproval, renew.StatePaymentFailed:
			fmt.Fprintf(&s, "\n%s · may approve: %s", progress(r, v), mayApprove(r, v))
		}
		if r.MessageTS != "" {
			fmt.Fprintf(&s, "\nRequest `%s`", r.ID)
		}
		bs = append(bs, mrkdwnSection(s.String()))
	}
	return bs
}

// History renders /renew history: the last events, newest first. reqs
// holds the events' requests, by id, for what each event did in words;
// an event whose request is missing shows its recorded detail.
func History(events []renew.Event, reqs map[string]*renew.Request, v View) []slack.Block {
	if len(events) == 0 {
		return []slack.Block{mrkdwnSection("No renewal history here yet.")}
	}
	var s strings.Builder
	s.WriteString("*Last renewal events*\n")
	for _, ev := range events {
		name := "request " + ev.RequestID[:min(8, len(ev.RequestID))]
		if r := reqs[ev.RequestID]; r != nil {
			name = label(r.Service)
		}
		lineText := fmt.Sprintf("• %s  %s  %s", When(ev.At, v.Zone), line(name, 60), eventText(ev, reqs[ev.RequestID]))
		if runes(s.String())+runes(lineText) > 2900 {
			s.WriteString("• …")
			break
		}
		s.WriteString(lineText + "\n")
	}
	return []slack.Block{mrkdwnSection(s.String())}
}

// eventText says what an event of the audit trail did: "chosen by @alice:
// 1 year, 1 service, 79.20 € without tax". Periods, amounts and counts
// come from the request (r, nil when unknown) where it keeps them, so they
// read as everywhere else; the event's recorded detail says the rest.
func eventText(ev renew.Event, r *renew.Request) string {
	what, ok := eventWords[ev.Action]
	if !ok {
		what = line(strings.ReplaceAll(ev.Action, "_", " "), 30)
	}
	if ev.Actor != "" {
		what += " by " + user(ev.Actor)
	}
	detail := esc(oneLine(ev.Detail), 150)
	switch ev.Action {
	case "proposed":
		if r != nil {
			detail = plural(len(r.Options), "way to renew it", "ways to renew it")
		}
	case "chose":
		if r != nil && r.Chosen != nil {
			detail = fmt.Sprintf("%s, %s, %s without tax", r.Chosen.Period, plural(len(r.Chosen.Services), "service"), money(r.Chosen.Price))
		}
	case "ordered", "priced":
		if r != nil && r.Order != nil {
			detail = fmt.Sprintf("order %d, %s with tax", r.Order.ID, money(r.Order.PriceWithTax))
		}
	case "approved":
		var n, need int
		if _, err := fmt.Sscanf(ev.Detail, "%d of %d", &n, &need); err == nil && need > 0 {
			detail = fmt.Sprintf("%d of %s", n, plural(need, "approval"))
		}
	case "paid":
		if r != nil && r.Order != nil {
			// The renewer records "order N, AMOUNT" and a note after it.
			recorded := fmt.Sprintf("order %d, %s", r.Order.ID, r.Order.PriceWithTax)
			if note, ok := strings.CutPrefix(ev.Detail, recorded); ok {
				detail = fmt.Sprintf("order %d, %s with tax", r.Order.ID, money(r.Order.PriceWithTax)) + esc(oneLine(note), 100)
			}
		}
	}
	if detail != "" {
		what += ": " + detail
	}
	return what
}

// eventWords names the actions of the audit trail in words.
var eventWords = map[string]string{
	"proposed":        "requested",
	"chose":           "chosen",
	"ordered":         "ordered",
	"priced":          "priced (dry run)",
	"approved":        "approved",
	"paid":            "paid",
	"delivered":       "delivered",
	"payment_failed":  "payment failed",
	"payment_unknown": "payment outcome unknown",
	"order_failed":    "order failed",
	"not_payable":     "not payable",
	"order_cancelled": "order cancelled by OVHcloud",
	"over_limit":      "above the limit",
	"order_expired":   "order expired",
	"cancelled":       "cancelled",
	"expired":         "expired",
	"abandoned":       "abandoned",
}

// CancelModal asks for an optional reason before cancelling a request.
func CancelModal(r *renew.Request) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(plain("Why? (optional, shown to the channel)"), ActionReason)
	input.Multiline = true
	input.MaxLength = 500
	reason := slack.NewInputBlock(BlockReason, plain("Reason"), nil, input)
	reason.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackCancel,
		PrivateMetadata: r.ID,
		Title:           plain("Cancel the renewal"),
		Submit:          plain("Cancel renewal"),
		Close:           plain("Keep it"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			mrkdwnSection(fmt.Sprintf("Cancel the renewal of *%s*? Nothing will be paid.", line(label(r.Service), maxName))),
			reason,
		}},
	}
}

func stateWords(s renew.State) string {
	switch s {
	case renew.StateProposed:
		return "choosing"
	case renew.StateOrdering:
		return "creating the order"
	case renew.StateAwaitingApproval:
		return "awaiting approval"
	case renew.StatePaying:
		return "paying"
	case renew.StatePaymentFailed:
		return "payment failed"
	case renew.StateUnknown:
		return "payment being checked"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}
