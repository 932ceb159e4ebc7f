package main

import (
	"encoding/json"
	"time"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// watcher follows the Web API calls the fake Slack receives and records,
// for each op, when its message was posted, when the click turned it into
// an order, and ephemeral answers. It polls, so its times are within one
// poll interval of the call.
type watcher struct {
	slack      *slackfake.Server
	t          *tracker
	clicks     chan<- clickJob
	wantClicks bool
	seen       int // calls already looked at
}

// clickJob is a click due on a posted message.
type clickJob struct {
	op     *op
	choice choice
}

// run polls every interval until the returned stop is called; stop takes
// a last look.
func (w *watcher) run(every time.Duration) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			w.poll()
			select {
			case <-done:
				w.poll()
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// poll looks at the calls made since the last poll.
func (w *watcher) poll() {
	now := time.Now()
	calls := w.slack.Calls("")
	responses := false
	for _, c := range calls[w.seen:] {
		switch c.Method {
		case "chat.postMessage":
			w.posted(c.Form.Get("channel"), c.Form.Get("blocks"), now)
		case "chat.update":
			w.t.updated(c.Form.Get("channel"), c.Form.Get("blocks"), now)
		case "chat.postEphemeral":
			w.t.answered(c.Form.Get("user"), 1, c.Form.Get("text"), now)
		case "response_url":
			responses = true // the call names no user: ask the fake below
		}
	}
	w.seen = len(calls)
	if responses {
		w.responses(now)
	}
}

// posted records a command's message and queues the click on it.
func (w *watcher) posted(channel, raw string, at time.Time) {
	o := w.t.posted(channel, at, w.wantClicks)
	if o == nil {
		return
	}
	c, ok := findChoice(raw)
	if !ok {
		w.t.noClick(o, at)
		return
	}
	w.clicks <- clickJob{op: o, choice: c}
}

// responses looks for response_url answers to the users still waiting.
func (w *watcher) responses(at time.Time) {
	for _, user := range w.t.waitingUsers() {
		rs := w.slack.Responses(user)
		if len(rs) > 0 {
			w.t.answered(user, len(rs), rs[len(rs)-1].Text, at)
		}
	}
}

// posted records that channel's message is there. It returns the op when
// it should now be clicked.
func (t *tracker) posted(channel string, at time.Time, click bool) *op {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.byChannel[channel]
	if o == nil || o.cmd.outcome != waiting {
		return nil
	}
	settle(&o.cmd, at, posted, "")
	if !click {
		return nil
	}
	o.clicked = true
	return o
}

// noClick records that a posted message had nothing to click.
func (t *tracker) noClick(o *op, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o.click.sent = at
	settle(&o.click, at, failed, `no "Choose" in the message`)
}

// updated records a message update; one with "Approve and pay" answers
// the click.
func (t *tracker) updated(channel, raw string, at time.Time) {
	t.mu.Lock()
	o := t.byChannel[channel]
	ready := o != nil && o.clicked && o.click.outcome == waiting
	t.mu.Unlock()
	if !ready {
		return
	}
	if _, ok := findAction(raw, blocks.ActionApprove); ok {
		t.mu.Lock()
		settle(&o.click, at, posted, "")
		t.mu.Unlock()
	}
}

// answered records that user has had total ephemeral answers, the last
// one saying text.
func (t *tracker) answered(user string, total int, text string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.byUser[user]
	if o == nil || total <= o.responses {
		return
	}
	o.responses = total
	if e := o.awaiting(); e != nil {
		settle(e, at, ephemeral, text)
	}
}

// waitingUsers lists the users waiting for an answer.
func (t *tracker) waitingUsers() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, o := range t.ops {
		if o.awaiting() != nil {
			out = append(out, o.user)
		}
	}
	return out
}

// choice is what a click on a request message sends.
type choice struct {
	actionID, value string
	menu            bool // a static select, not a button
}

// findChoice finds the first "Choose" of a request message: a button, or
// the first option of the menu shown when there are many strategies.
func findChoice(raw string) (choice, bool) {
	if v, ok := findAction(raw, blocks.ActionChoose); ok {
		return choice{actionID: blocks.ActionChoose, value: v}, true
	}
	if v, ok := findAction(raw, blocks.ActionChooseSelect); ok {
		return choice{actionID: blocks.ActionChooseSelect, value: v, menu: true}, true
	}
	return choice{}, false
}

// findAction looks through Block Kit JSON, in order, for the element with
// actionID and returns its value (a select menu's first option value).
func findAction(raw, actionID string) (string, bool) {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return "", false
	}
	return walk(v, actionID)
}

func walk(v any, actionID string) (string, bool) {
	switch x := v.(type) {
	case []any:
		for _, c := range x {
			if s, ok := walk(c, actionID); ok {
				return s, true
			}
		}
	case map[string]any:
		if x["action_id"] == actionID {
			if s, ok := x["value"].(string); ok {
				return s, true
			}
			return firstOption(x)
		}
		for _, k := range []string{"accessory", "elements"} {
			if s, ok := walk(x[k], actionID); ok {
				return s, true
			}
		}
	}
	return "", false
}

// firstOption is the first option value of a select menu, grouped or not.
func firstOption(menu map[string]any) (string, bool) {
	opts, _ := menu["options"].([]any)
	if groups, ok := menu["option_groups"].([]any); ok && len(opts) == 0 && len(groups) > 0 {
		g, _ := groups[0].(map[string]any)
		opts, _ = g["options"].([]any)
	}
	if len(opts) == 0 {
		return "", false
	}
	o, _ := opts[0].(map[string]any)
	s, ok := o["value"].(string)
	return s, ok
}
