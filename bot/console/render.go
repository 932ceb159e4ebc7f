package console

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Element is an interactive element of a rendered message, as the reader
// sees it ("[3] Choose") and as a click must name it to the bot.
type Element struct {
	N        int    // the number the reader types
	ActionID string // the element's action_id
	BlockID  string
	Type     string // "button", or the select's type ("static_select") for an option
	Label    string // the button's text or the option's text, as shown
	Value    string // the button's value or the option's value
	// Option is the chosen option of a select, nil for a button.
	Option *slack.OptionBlockObject
	// Confirm is the dialog Slack shows before the click, nil when none.
	Confirm *Confirm
}

// Confirm is a confirmation dialog, as plain text.
type Confirm struct {
	Title, Text, Yes, No string
}

// Key identifies an element across renders of the same message, so that
// it keeps its number when the message is updated.
func (e Element) Key() string { return e.ActionID + "\x00" + e.BlockID + "\x00" + e.Value }

// Options tune Render.
type Options struct {
	// Users names user ids in mentions: <@U0ALICE01> reads @alice. An
	// unknown id reads as itself.
	Users map[string]string
	// Number gives an element its number; nil numbers them 1, 2, 3… in
	// the order shown.
	Number func(Element) int
	// ANSI renders bold and dim with terminal escapes; otherwise bold
	// text loses its asterisks and dim text shows plainly.
	ANSI bool
	// Static shows buttons and options as [Label], without numbers: for
	// a printout, where nothing can be clicked.
	Static bool
}

// Render renders Block Kit blocks as text for a terminal, and lists their
// interactive elements in the order shown. It is a pure function of its
// arguments: Number is its only callback.
func Render(bs []slack.Block, o Options) (string, []Element) {
	r := renderer{o: o}
	for _, b := range bs {
		r.block(b)
	}
	r.flushItems()
	return strings.TrimRight(r.b.String(), "\n") + "\n", r.elems
}

type renderer struct {
	o     Options
	b     strings.Builder
	elems []Element
	// gap asks for a blank line before the next block: Slack spaces its
	// blocks, and a wall of lines is hard to scan.
	gap bool
	// afterSection says the last block was a section, which an item
	// (a section with a button) follows closely.
	afterSection bool
	// items wait to be written until their row ends, to align their texts.
	items []item
}

// item is a section with a button, rendered as one entry of a menu.
type item struct {
	label string
	text  []string
}

func (r *renderer) start() {
	if r.gap {
		r.b.WriteString("\n")
	}
	r.gap = true
}

func (r *renderer) line(s string) { r.b.WriteString(s + "\n") }

func (r *renderer) block(b slack.Block) {
	if _, ok := b.(*slack.SectionBlock); !ok {
		r.flushItems()
	}
	switch b := b.(type) {
	case *slack.HeaderBlock:
		text := r.plain(b.Text)
		r.start()
		r.line(r.bold(text))
		r.line(strings.Repeat("─", max(width(text), 3)))
		r.gap = false
	case *slack.SectionBlock:
		if b.Accessory != nil && b.Accessory.ButtonElement != nil && len(b.Fields) == 0 {
			r.item(b)
			return
		}
		r.flushItems()
		r.start()
		if b.Text != nil {
			r.line(r.text(b.Text))
		}
		if len(b.Fields) > 0 {
			r.fields(b.Fields)
		}
		if b.Accessory != nil {
			r.accessory(b.BlockID, b.Accessory)
		}
	case *slack.ContextBlock:
		var parts []string
		for _, e := range b.ContextElements.Elements {
			switch e := e.(type) {
			case *slack.TextBlockObject:
				parts = append(parts, r.text(e))
			case *slack.ImageBlockElement:
				if e.AltText != "" {
					parts = append(parts, "["+clean(e.AltText)+"]")
				}
			}
		}
		r.start()
		r.line(r.dim(strings.Join(parts, " · ")))
	case *slack.DividerBlock:
		r.start()
		r.line(r.dim(strings.Repeat("─", 40)))
	case *slack.ActionBlock:
		if b.Elements == nil {
			return
		}
		r.start()
		r.elements(b.BlockID, b.Elements.ElementSet)
	case *slack.ImageBlock:
		r.start()
		r.line(r.dim("[image: " + clean(b.AltText) + "]"))
	case *slack.MarkdownBlock:
		r.start()
		r.line(r.mrkdwn(b.Text))
	default:
		r.start()
		r.line(r.dim(fmt.Sprintf("[%s block, not shown in the console]", b.BlockType())))
	}
	_, r.afterSection = b.(*slack.SectionBlock)
}

// item renders a section with a button the way a menu reads: the button,
// then the text beside it. Items follow a section without a blank line,
// so the options of a period sit under its heading.
func (r *renderer) item(b *slack.SectionBlock) {
	if !r.afterSection {
		r.start()
	}
	e := r.button(b.BlockID, b.Accessory.ButtonElement)
	r.items = append(r.items, item{label: r.label(e), text: strings.Split(r.text(b.Text), "\n")})
	r.gap, r.afterSection = true, true
}

// flushItems writes the items in a row, their texts in one column.
func (r *renderer) flushItems() {
	wide := 0
	for _, it := range r.items {
		wide = max(wide, width(it.label))
	}
	for _, it := range r.items {
		pad := strings.Repeat(" ", wide-width(it.label)+3)
		r.line("  " + r.bold(it.label) + pad + it.text[0])
		indent := strings.Repeat(" ", wide+5)
		for _, l := range it.text[1:] {
			r.line(strings.TrimRight(indent+l, " "))
		}
	}
	r.items = r.items[:0]
}

// fields renders "*Label*\nvalue" fields as an aligned table, and any
// other field as its text.
func (r *renderer) fields(fs []*slack.TextBlockObject) {
	type row struct{ label, value string }
	rows := make([]row, 0, len(fs))
	wide := 0
	for _, f := range fs {
		label, value, ok := labelled(f)
		if !ok {
			rows = append(rows, row{value: r.text(f)})
			continue
		}
		label = r.mrkdwn(label)
		rows = append(rows, row{label: label, value: r.mrkdwn(value)})
		wide = max(wide, width(label))
	}
	for _, row := range rows {
		if row.label == "" {
			r.line(row.value)
			continue
		}
		pad := strings.Repeat(" ", wide-width(row.label)+2)
		indent := strings.Repeat(" ", wide+2)
		r.line(r.dim(row.label) + pad + strings.ReplaceAll(row.value, "\n", "\n"+indent))
	}
}

// labelled splits a field written "*Label*\nvalue", the way Slack shows
// fields: a bold label over its value.
func labelled(f *slack.TextBlockObject) (label, value string, ok bool) {
	if f == nil || f.Type != slack.MarkdownType {
		return "", "", false
	}
	first, rest, found := strings.Cut(f.Text, "\n")
	if !found || len(first) < 3 || first[0] != '*' || first[len(first)-1] != '*' || strings.Contains(first[1:len(first)-1], "*") {
		return "", "", false
	}
	return first[1 : len(first)-1], rest, true
}

func (r *renderer) accessory(blockID string, a *slack.Accessory) {
	switch {
	case a.ButtonElement != nil:
		r.elements(blockID, []slack.BlockElement{a.ButtonElement})
	case a.SelectElement != nil:
		r.elements(blockID, []slack.BlockElement{a.SelectElement})
	case a.OverflowElement != nil:
		r.elements(blockID, []slack.BlockElement{a.OverflowElement})
	case a.ImageElement != nil:
		r.line(r.dim("[image: " + clean(a.ImageElement.AltText) + "]"))
	}
}

// elements renders buttons side by side, and each select as a list of
// numbered options.
func (r *renderer) elements(blockID string, els []slack.BlockElement) {
	var row []string
	flush := func() {
		if len(row) > 0 {
			r.line(strings.Join(row, "   "))
			row = nil
		}
	}
	for _, el := range els {
		switch el := el.(type) {
		case *slack.ButtonBlockElement:
			e := r.button(blockID, el)
			row = append(row, r.bold(r.label(e)))
		case *slack.SelectBlockElement:
			flush()
			r.options(blockID, string(el.Type), el.ActionID, r.plain(el.Placeholder), el.Options, el.OptionGroups, r.confirm(el.Confirm))
		case *slack.OverflowBlockElement:
			flush()
			r.options(blockID, string(el.Type), el.ActionID, "More", el.Options, nil, r.confirm(el.Confirm))
		default:
			row = append(row, r.dim(fmt.Sprintf("[%s, not available in the console]", el.ElementType())))
		}
	}
	flush()
}

// button numbers a button. A link button shows its URL: the console
// cannot open it.
func (r *renderer) button(blockID string, el *slack.ButtonBlockElement) Element {
	e := Element{ActionID: el.ActionID, BlockID: blockID, Type: "button", Label: r.plain(el.Text), Value: el.Value, Confirm: r.confirm(el.Confirm)}
	if el.URL != "" {
		e.Label += " (" + clean(el.URL) + ")"
	}
	return r.add(e)
}

// options renders a menu: its placeholder, then each option numbered,
// under its group's label.
func (r *renderer) options(blockID, typ, actionID, placeholder string, opts []*slack.OptionBlockObject, groups []*slack.OptionGroupBlockObject, c *Confirm) {
	if placeholder == "" {
		placeholder = "Choose"
	}
	r.line(placeholder + ":")
	list := func(indent string, opts []*slack.OptionBlockObject) {
		for _, o := range opts {
			if o == nil {
				continue
			}
			e := r.add(Element{ActionID: actionID, BlockID: blockID, Type: typ, Label: r.plain(o.Text), Value: o.Value, Option: o, Confirm: c})
			s := indent + r.bold(r.label(e))
			if d := r.plain(o.Description); d != "" {
				s += " " + r.dim("("+d+")")
			}
			r.line(s)
		}
	}
	list("  ", opts)
	for _, g := range groups {
		if g == nil {
			continue
		}
		r.line("  " + r.plain(g.Label))
		list("    ", g.Options)
	}
}

// label is how an element reads: "[3] Choose", or "[Choose]" when
// nothing can be clicked.
func (r *renderer) label(e Element) string {
	if r.o.Static {
		return "[" + e.Label + "]"
	}
	return fmt.Sprintf("[%d] %s", e.N, e.Label)
}

func (r *renderer) add(e Element) Element {
	if r.o.Number != nil {
		e.N = r.o.Number(e)
	} else {
		e.N = len(r.elems) + 1
	}
	r.elems = append(r.elems, e)
	return e
}

func (r *renderer) confirm(c *slack.ConfirmationBlockObject) *Confirm {
	if c == nil {
		return nil
	}
	out := &Confirm{Title: r.plain(c.Title), Text: r.text(c.Text), Yes: r.plain(c.Confirm), No: r.plain(c.Deny)}
	if out.Yes == "" {
		out.Yes = "Yes"
	}
	if out.No == "" {
		out.No = "Cancel"
	}
	return out
}

// text renders a text object of either type.
func (r *renderer) text(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return r.mrkdwn(t.Text)
	}
	return r.plain(t)
}

// plain renders plain_text: Slack decodes its three entities and, with
// emoji on, its :shortcodes:.
func (r *renderer) plain(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return r.mrkdwn(t.Text)
	}
	return unescape(emoji(clean(t.Text)))
}

func (r *renderer) mrkdwn(s string) string {
	return Mrkdwn(s, r.o.Users, r.bold)
}

func (r *renderer) bold(s string) string {
	if r.o.ANSI && s != "" {
		return "\x1b[1m" + s + "\x1b[0m"
	}
	return s
}

func (r *renderer) dim(s string) string {
	if r.o.ANSI && s != "" {
		return "\x1b[2m" + s + "\x1b[0m"
	}
	return s
}

// width approximates how many columns s takes: one per character.
func width(s string) int { return utf8.RuneCountInString(s) }
