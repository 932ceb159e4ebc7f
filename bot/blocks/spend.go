package blocks

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// budgetLine says, on a request's message, what the month's budget still
// allows and whether the order fits in it; "" without a budget.
func budgetLine(r *renew.Request, v View) string {
	b := v.Budget
	if b == nil {
		return ""
	}
	cur := currencyOf(r, b.Left.Currency)
	s := fmt.Sprintf(":moneybag: Budget left in %s: *%s* of %s with tax.", line(b.Month, 40), sum(in(b.Left, cur)), sum(in(b.Limit, cur)))
	if r.Order != nil && r.Order.PriceWithTax.Ucents > b.Left.Ucents {
		s += fmt.Sprintf("\n:no_entry: This order, %s with tax, is above it: it cannot be paid this month.", money(r.Order.PriceWithTax))
	}
	return s
}

// currencyOf is the currency to show a sum in: known, else the request's.
func currencyOf(r *renew.Request, known string) string {
	switch {
	case known != "":
		return known
	case r.Order != nil && r.Order.PriceWithTax.Currency != "":
		return r.Order.PriceWithTax.Currency
	case len(r.Options) > 0:
		return r.Options[0].Price.Currency
	}
	return ""
}

// in gives an amount a currency when it has none.
func in(m renew.Money, currency string) renew.Money {
	if m.Currency == "" && m.Text == "" {
		m.Currency = currency
	}
	return m
}

// sum renders an amount the bot added up (it has no text of OVHcloud's):
// euros as OVHcloud writes them, "90.88 €", other currencies by code.
func sum(m renew.Money) string {
	if m.Text == "" && m.Currency == "EUR" {
		m.Text = renew.FormatUcents(m.Ucents) + " €"
	}
	return money(m)
}

// spent renders what a month's payments add up to, in the account's
// currency. Before any order, no currency is known: "nothing yet" says
// it without guessing one (an account may pay in EUR, USD, CAD, GBP…),
// where a bare "0.00" would read as an amount of anything.
func spent(s renew.Spending) string {
	if s.Currency == "" && s.Total == 0 {
		return "nothing yet"
	}
	return sum(s.Money(s.Total))
}

// noBudget is the budget's field without RENEWBOT_MONTHLY_BUDGET, the
// same words on /renew spend and the Home tab.
const noBudget = "*Monthly budget*\nnone set"

// maxShares is how many lines each breakdown of /renew spend shows.
const maxShares = 15

// Spend renders /renew spend: what the month's payments add up to, with
// tax, and by product, requester and approver.
func Spend(s renew.Spending, v View) []slack.Block {
	bs := []slack.Block{header("Spent in " + s.Month.Name())}
	if b := viewBanner(v); b != nil {
		bs = append(bs, b)
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Total with tax*\n" + spent(s)),
		mrkdwn("*Renewals paid*\n" + formatInt(len(s.Payments))),
	}
	if left, ok := s.Left(); ok {
		fields = append(fields,
			mrkdwn("*Monthly budget*\n"+sum(s.Money(s.Budget.Limit))),
			mrkdwn("*Left*\n"+sum(s.Money(left))))
	} else {
		fields = append(fields, mrkdwn(noBudget))
	}
	bs = append(bs, slack.NewSectionBlock(nil, fields, nil))
	if len(s.Payments) == 0 {
		return append(bs, mrkdwnSection(fmt.Sprintf("Nothing was paid in %s.", s.Month.Name())), spendFooter(s))
	}
	bs = append(bs,
		mrkdwnSection(breakdown("By product", s, s.ByProduct, func(k string) string {
			if strings.TrimSpace(k) == "" {
				return "unknown product"
			}
			return line(k, maxName)
		})),
		mrkdwnSection(breakdown("By requester", s, s.ByRequester, user)),
		mrkdwnSection(breakdown("By approver", s, s.ByApprover, user)),
		spendFooter(s))
	return bs
}

// breakdown renders one breakdown of a month: a line per share, largest
// first.
func breakdown(title string, s renew.Spending, shares []renew.Share, name func(string) string) string {
	var b strings.Builder
	b.WriteString("*" + title + "*")
	for i, sh := range shares {
		if i == maxShares {
			rest := int64(0)
			for _, x := range shares[i:] {
				rest += x.Amount
			}
			fmt.Fprintf(&b, "\n• … and %d more: %s", len(shares)-i, sum(s.Money(rest)))
			break
		}
		fmt.Fprintf(&b, "\n• %s: %s (%s)", name(sh.Key), sum(s.Money(sh.Amount)), plural(sh.Count, "renewal"))
	}
	return clip(b.String(), maxSectionText)
}

func spendFooter(s renew.Spending) slack.Block {
	return slack.NewContextBlock("", mrkdwn(fmt.Sprintf(
		"A payment counts in the month it was approved, in %s; one approved by two people counts for each of them above. `renewbot export` writes every payment for accounting.",
		line(s.Month.Zone.String(), 60))))
}

// SpendText is the notification text of /renew spend.
func SpendText(s renew.Spending) string {
	t := fmt.Sprintf("Spent in %s: %s with tax, %s.", s.Month.Name(), SumText(s.Money(s.Total)), plural(len(s.Payments), "renewal"))
	if s.Currency == "" && s.Total == 0 {
		t = fmt.Sprintf("Spent in %s: nothing yet.", s.Month.Name())
	}
	if left, ok := s.Left(); ok {
		t += fmt.Sprintf(" %s left of the %s budget.", SumText(s.Money(left)), SumText(s.Money(s.Budget.Limit)))
	}
	return t
}

// sumText is sum as plain text, for notification texts.
func SumText(m renew.Money) string {
	if m.Text == "" && m.Currency == "EUR" {
		m.Text = renew.FormatUcents(m.Ucents) + " €"
	}
	return amount(m)
}
