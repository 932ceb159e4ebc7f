package console

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
)

var _ bot.Modals = (*Console)(nil)

// dialog is a question the console waits on: the confirm dialog of a
// click (click set), or a modal the bot opened (view set), which asks its
// confirmation first, then each of its text inputs.
type dialog struct {
	click   *clickable
	view    *slack.ModalViewRequest
	user    string // who the modal opened for
	yes, no string // the answers, as the dialog's buttons name them
	fields  []field
	field   int // the input being asked, -1 while confirming
	values  map[string]map[string]slack.BlockAction
}

// field is a text input of a modal.
type field struct {
	block, action, typ string
	question, prompt   string
}

// closed says what closing the dialog without its yes did.
func (d *dialog) closed() string {
	if d.click != nil {
		return "not clicked."
	}
	return "nothing changed."
}

// openedView is a modal the bot opened, not yet shown.
type openedView struct {
	user string
	view slack.ModalViewRequest
}

// OpenView opens a modal for whoever clicked with triggerID, as Slack's
// views.open does: the console shows it at its next prompt, asks its
// confirmation and its inputs, and sends the view_submission Slack would.
func (c *Console) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	user, ok := c.triggers[triggerID]
	if !ok {
		return slack.SlackErrorResponse{Err: "invalid_trigger_id"}
	}
	c.views = append(c.views, openedView{user: user, view: view})
	c.tick()
	return nil
}

// opened shows the first modal the bot opened since the last prompt, and
// returns it as a dialog; nil when there is none.
func (c *Console) opened() *dialog {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.views) == 0 {
		return nil
	}
	ov := c.views[0]
	c.views = c.views[1:]
	v := ov.view
	d := &dialog{view: &v, user: ov.user, field: -1, values: map[string]map[string]slack.BlockAction{},
		yes: plainOr(v.Submit, "Submit"), no: plainOr(v.Close, "Cancel")}

	var shown []slack.Block
	for _, b := range v.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			shown = append(shown, b)
			continue
		}
		el, ok := in.Element.(*slack.PlainTextInputBlockElement)
		if !ok {
			continue // not in the console: left unanswered
		}
		label := plainOr(in.Label, "Answer")
		q := plainOr(el.Placeholder, label)
		if in.Optional {
			q += " Press Enter for none."
		}
		d.fields = append(d.fields, field{block: in.BlockID, action: el.ActionID, typ: string(el.Type),
			question: q, prompt: strings.ToLower(label)})
	}
	var b strings.Builder
	if c.prompted {
		b.WriteString("\n")
	}
	c.prompted = false
	if v.Title != nil {
		b.WriteString(c.bold(plainOr(v.Title, "")) + "\n")
	}
	if len(shown) > 0 {
		text, _ := Render(shown, Options{Users: c.names, ANSI: c.ansi})
		b.WriteString(text)
	}
	fmt.Fprintf(&b, "[y] %s   [n] %s\n", d.yes, d.no)
	_, _ = fmt.Fprint(c.out, b.String())
	return d
}

func plainOr(t *slack.TextBlockObject, or string) string {
	if t == nil || t.Text == "" {
		return or
	}
	return unescape(emoji(clean(t.Text)))
}

// submit sends the view_submission of a dialog's modal, with its inputs'
// values, as the user it opened for, and waits for the bot's answer.
func (c *Console) submit(ctx context.Context, h Handler, d *dialog) {
	c.mu.Lock()
	user := d.user
	cb := slack.InteractionCallback{
		Type:      slack.InteractionTypeViewSubmission,
		TriggerID: c.trigger(user),
		Team:      slack.Team{ID: "T0CONSOLE1", Domain: "console"},
		User:      slack.User{ID: user, Name: strings.TrimPrefix(c.userName(user), "@")},
		View: slack.View{
			ID:              fmt.Sprintf("V0CONSOLE%d", c.stamps),
			Type:            d.view.Type,
			Title:           d.view.Title,
			Blocks:          d.view.Blocks,
			CallbackID:      d.view.CallbackID,
			PrivateMetadata: d.view.PrivateMetadata,
			State:           &slack.ViewState{Values: d.values},
		},
	}
	c.mu.Unlock()

	since, began := c.mark(), time.Now()
	if r := h.Interaction(ctx, cb); r != nil && r.ResponseAction == "errors" {
		// Slack shows these under the inputs and keeps the modal open;
		// the console says them and closes it.
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.note("%s", r.Errors[k])
		}
		return
	}
	c.settle(ctx, since, began, true)
}
