package blocks

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// Above maxButtons options, a message of one section per option gets long
// to scroll: the options move to a select menu.
const (
	maxButtons        = 10
	maxOptions        = 100 // options in one static_select
	maxOptionText     = 75
	maxBlocks         = 50
	maxSelects        = 20 // 2,000 options: far more than any service has
	maxStrategyText   = 1000
	maxServicesText   = 800
	selectPlaceholder = "Choose a renewal"
)

// period is one renewal period and its options, in the order OVHcloud
// gave them.
type period struct {
	period  renew.Period
	indexes []int // into Request.Options
}

// byPeriod groups the options by period, in order of first appearance;
// indexes stay those of Request.Options, which a click names.
func byPeriod(opts []renew.Strategy) []period {
	var ps []period
	at := map[renew.Period]int{}
	for i, s := range opts {
		j, ok := at[s.Period]
		if !ok {
			j = len(ps)
			at[s.Period] = j
			ps = append(ps, period{period: s.Period})
		}
		ps[j].indexes = append(ps[j].indexes, i)
	}
	return ps
}

// overLimit reports whether a strategy costs more than the limit before
// tax: it surely costs more with it. One just below may still be refused
// when the order is priced with tax.
func overLimit(s renew.Strategy, v View) bool {
	return v.MaxAmount.Ucents > 0 && s.Price.Ucents > v.MaxAmount.Ucents
}

// limit renders the maximum amount, in the options' currency when the
// policy gave none.
func limit(v View, opts []renew.Strategy) string {
	m := v.MaxAmount
	if m.Currency == "" && m.Text == "" && len(opts) > 0 {
		m.Currency = opts[0].Price.Currency
	}
	return line(SumText(m), 60) // written like the prices beside it
}

// proposed renders the renewal options: a "Choose" button per option, or
// a select menu when there are too many.
func proposed(r *renew.Request, v View) []slack.Block {
	if len(r.Options) == 0 {
		return []slack.Block{mrkdwnSection("OVHcloud offers no way to renew this service.")}
	}
	var bs []slack.Block
	if len(r.Options) <= maxButtons {
		bs = buttons(r, v)
	} else {
		bs = menus(r, v)
	}
	if b := budgetLine(r, v); b != "" {
		bs = append(bs, slack.NewContextBlock("", mrkdwn(b)))
	}
	cancel := slack.NewButtonBlockElement(ActionCancel, r.ID, plain("Cancel"))
	return append(bs, slack.NewActionBlock("", cancel))
}

// buttons renders one section per option with its "Choose" button, under
// a line per period.
func buttons(r *renew.Request, v View) []slack.Block {
	var bs []slack.Block
	for _, p := range byPeriod(r.Options) {
		bs = append(bs, mrkdwnSection(fmt.Sprintf("*Renew for %s*", p.period)))
		for _, i := range p.indexes {
			s := r.Options[i]
			text := fmt.Sprintf("*%s* without tax\n%s", money(s.Price), esc(together(s, maxServicesText), maxStrategyText))
			if overLimit(s, v) {
				text += fmt.Sprintf("\n:no_entry: Above the %s limit even before tax: it cannot be chosen.", limit(v, r.Options))
				bs = append(bs, mrkdwnSection(text))
				continue
			}
			choose := slack.NewButtonBlockElement(ActionChoose, choiceValue(r.ID, i), plain("Choose")).WithStyle(slack.StylePrimary)
			bs = append(bs, slack.NewSectionBlock(mrkdwn(clip(text, maxSectionText)), nil, slack.NewAccessory(choose)))
		}
	}
	return bs
}

// menus renders the options as static_select menus of up to 100 options,
// grouped by period, under a summary of each period's prices.
func menus(r *renew.Request, v View) []slack.Block {
	ps := byPeriod(r.Options)
	var sum strings.Builder
	fmt.Fprintf(&sum, "*%d ways to renew*, prices without tax:", len(r.Options))
	var choosable []int // in period order
	over := 0
	for _, p := range ps {
		lo, hi := r.Options[p.indexes[0]].Price, r.Options[p.indexes[0]].Price
		for _, i := range p.indexes {
			s := r.Options[i]
			if s.Price.Ucents < lo.Ucents {
				lo = s.Price
			}
			if s.Price.Ucents > hi.Ucents {
				hi = s.Price
			}
			if overLimit(s, v) {
				over++
				continue
			}
			choosable = append(choosable, i)
		}
		prices := money(lo)
		if hi.Ucents != lo.Ucents {
			prices = "from " + money(lo) + " to " + money(hi)
		}
		fmt.Fprintf(&sum, "\n• *%s*: %s, %s", p.period, plural(len(p.indexes), "option"), prices)
	}
	if over > 0 {
		fmt.Fprintf(&sum, "\n:no_entry: %s above the %s limit even before tax and cannot be chosen.", plural(over, "option is", "options are"), limit(v, r.Options))
	}
	if len(choosable) > 0 {
		sum.WriteString("\nPick one in the menu:")
	}
	bs := []slack.Block{mrkdwnSection(clipLines(sum.String(), maxSectionText))}

	chunks := (len(choosable) + maxOptions - 1) / maxOptions
	shown := min(chunks, maxSelects)
	for c := range shown {
		part := choosable[c*maxOptions : min((c+1)*maxOptions, len(choosable))]
		placeholder := selectPlaceholder
		if chunks > 1 {
			placeholder = fmt.Sprintf("%s (%d to %d)", selectPlaceholder, c*maxOptions+1, c*maxOptions+len(part))
		}
		bs = append(bs, slack.NewActionBlock("", menu(r, part, plain(placeholder))))
	}
	if shown < chunks {
		hidden := len(choosable) - shown*maxOptions
		bs = append(bs, mrkdwnSection(fmt.Sprintf("%s not shown: type `/renew SERVICE PERIOD` to see one period only.", plural(hidden, "option is", "options are"))))
	}
	return bs
}

// menu is one static_select over some options; it groups them by period
// when they span more than one.
func menu(r *renew.Request, indexes []int, placeholder *slack.TextBlockObject) *slack.SelectBlockElement {
	var groups []*slack.OptionGroupBlockObject
	var last renew.Period
	for n, i := range indexes {
		s := r.Options[i]
		o := option(r.ID, i, s)
		if n == 0 || s.Period != last {
			groups = append(groups, slack.NewOptionGroupBlockElement(plain(clip(s.Period.String(), maxOptionText))))
			last = s.Period
		}
		g := groups[len(groups)-1]
		g.Options = append(g.Options, o)
	}
	if len(groups) == 1 {
		return slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder, ActionChooseSelect, groups[0].Options...)
	}
	return slack.NewOptionsGroupSelectBlockElement(slack.OptTypeStatic, placeholder, ActionChooseSelect, groups...)
}

// option reads "37.87 € · example.com (Domain .ovh) + …" over
// "1 year · 2 services": the price first, since the services may not fit.
func option(id string, i int, s renew.Strategy) *slack.OptionBlockObject {
	text := esc(amount(s.Price)+" · "+together(s, maxOptionText), maxOptionText)
	n := len(s.Services)
	if n == 0 {
		n = len(s.Details)
	}
	desc := fmt.Sprintf("%s · %s", s.Period, plural(max(n, 1), "service"))
	return slack.NewOptionBlockObject(choiceValue(id, i), plain(text), plain(clip(desc, maxOptionText)))
}

// plural renders "1 option" / "3 options"; forms may give the singular
// and plural phrases when "s" is not enough.
func plural(n int, forms ...string) string {
	one, many := forms[0], forms[0]+"s"
	if len(forms) > 1 {
		many = forms[1]
	}
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// clipLines shortens a text of lines by whole lines, so that no mention or
// entity is cut in half.
func clipLines(s string, max int) string {
	if runes(s) <= max {
		return s
	}
	lines := strings.Split(s, "\n")
	out := ""
	for _, l := range lines {
		next := l
		if out != "" {
			next = out + "\n" + l
		}
		if runes(next)+len("\n…") > max {
			break
		}
		out = next
	}
	return out + "\n…"
}
