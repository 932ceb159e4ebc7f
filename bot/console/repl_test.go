package console

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
)

// fakeBot answers like bot.Bot does: an ack at once, the real answer
// later from another goroutine.
type fakeBot struct {
	c      *Console
	mu     sync.Mutex
	cmds   []slack.SlashCommand
	clicks []slack.InteractionCallback
	ts     string
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func (f *fakeBot) request(state string) bot.Message {
	choose := slack.NewButtonBlockElement("choose", "R1:0", plainText("Choose"))
	approve := slack.NewButtonBlockElement("approve", "R1", plainText("Approve and pay")).
		WithConfirm(slack.NewConfirmationBlockObject(plainText("Approve and pay?"), mrkdwn("Pay *95.04 €*?"), plainText("Pay"), plainText("Not yet")))
	cancel := slack.NewButtonBlockElement("cancel", "R1", plainText("Cancel"))
	menu := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Choose a renewal"), "choose_select",
		slack.NewOptionBlockObject("R1:1", plainText("7.00 €"), plainText("1 month")))
	bs := []slack.Block{slack.NewHeaderBlock(plainText("web-front")), slack.NewSectionBlock(mrkdwn(state), nil, nil)}
	switch {
	case strings.HasPrefix(state, "proposed"):
		bs = append(bs, slack.NewSectionBlock(mrkdwn("*1 year*"), nil, slack.NewAccessory(choose)), slack.NewActionBlock("", menu, cancel))
	case strings.HasPrefix(state, "awaiting"):
		bs = append(bs, slack.NewActionBlock("", approve, cancel))
	}
	text := "Renewal of web-front: " + state
	if state == "ordering" {
		text += "…"
	}
	return bot.Message{Text: text, Blocks: bs}
}

func (f *fakeBot) Command(ctx context.Context, sc slack.SlashCommand) *bot.Reply {
	f.mu.Lock()
	f.cmds = append(f.cmds, sc)
	f.mu.Unlock()
	if sc.Text == "help" {
		return &bot.Reply{ResponseType: slack.ResponseTypeEphemeral, Text: "*Usage*: /renew SERVICE"}
	}
	go func() {
		time.Sleep(80 * time.Millisecond) // slower than the quiet period
		ts, _ := f.c.Post(context.Background(), sc.ChannelID, f.request("proposed"))
		f.mu.Lock()
		f.ts = ts
		f.mu.Unlock()
	}()
	return &bot.Reply{ResponseType: slack.ResponseTypeEphemeral, Text: "Looking up `web-front` on OVHcloud…"}
}

// cancelModal is the bot's cancel dialog, as blocks.CancelModal makes it.
func cancelModal() slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(plainText("Why? (optional, shown to the channel)"), "reason_input")
	reason := slack.NewInputBlock("reason", plainText("Reason"), nil, input)
	reason.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: "cancel_request", PrivateMetadata: "R1",
		Title: plainText("Cancel the renewal"), Submit: plainText("Cancel renewal"), Close: plainText("Keep it"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn("Cancel the renewal of *web-front*? Nothing will be paid."), nil, nil), reason,
		}},
	}
}

func (f *fakeBot) Interaction(ctx context.Context, cb slack.InteractionCallback) *bot.Reply {
	f.mu.Lock()
	f.clicks = append(f.clicks, cb)
	ts := f.ts
	f.mu.Unlock()
	if cb.Type == slack.InteractionTypeViewSubmission {
		reason := cb.View.State.Values["reason"]["reason_input"].Value
		go func() { _ = f.c.Update(context.Background(), f.c.Channel(), ts, f.request("cancelled: "+reason)) }()
		return nil
	}
	act := cb.ActionCallback.BlockActions[0]
	go func() {
		ctx := context.Background()
		switch act.ActionID {
		case "cancel":
			_ = f.c.OpenView(ctx, cb.TriggerID, cancelModal())
		case "choose", "choose_select":
			_ = f.c.Update(ctx, cb.Channel.ID, ts, f.request("ordering"))
			time.Sleep(120 * time.Millisecond) // a passing state outlasts the quiet period
			_ = f.c.Update(ctx, cb.Channel.ID, ts, f.request("awaiting approval"))
		case "approve":
			if cb.User.ID == f.cmds[0].UserID {
				_ = f.c.Ephemeral(ctx, bot.Target{Channel: cb.Channel.ID, User: cb.User.ID}, bot.Message{Text: "A teammate has to approve."})
				return
			}
			_ = f.c.Update(ctx, cb.Channel.ID, ts, f.request("paid by <@"+cb.User.ID+">"))
		}
	}()
	return nil
}

func TestRun(t *testing.T) {
	var out syncWriter
	c, err := New(Config{Out: &out, Echo: true, Quiet: 50 * time.Millisecond, Wait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBot{c: c}
	script := strings.Join([]string{
		"renew help",
		"/renew web-front",
		"9",
		"1", // choose
		"4", // approve, as alice
		"y", // confirm: refused
		"as bob",
		"4",
		"n", // not yet
		"4",
		"as carol", // another command closes the dialog
		"as @bob",  // as the prompt shows users
		"4",
		"yes",
		"bogus",
		"/status",
		"quit",
		"/renew never read",
	}, "\n")
	if err := c.Run(context.Background(), f, strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log(got)

	for _, want := range []string{
		"@alice> renew help\n\nrenewbot, only visible to @alice: Usage: /renew SERVICE\n",
		"renewbot, only visible to @alice: Looking up `web-front` on OVHcloud…",
		"renewbot · message 1\n│ web-front",
		"│   [1] Choose   1 year",
		"│ Choose a renewal:\n│   [2] 7.00 € (1 month)\n│ [3] Cancel",
		"There is no [9] on screen.",
		"renewbot · message 1, edited: Renewal of web-front: ordering…",
		"│ [4] Approve and pay   [5] Cancel", // numbered in the order shown
		"@alice> 4\nApprove and pay?\nPay 95.04 €?\n[y] Pay   [n] Not yet\ny/n> y\n",
		"renewbot, only visible to @alice: A teammate has to approve.",
		"You are now @bob (U0BOB0001).",
		"y/n> n\nNot yet: not clicked.\n@bob> ",
		"y/n> as carol\nNot yet: not clicked.\nYou are now @carol (U0CAROL01).",
		"@carol> as @bob\nYou are now @bob (U0BOB0001).\n@bob> ",
		"renewbot · message 1, edited\n│ web-front\n│ ─────────\n│ paid by @bob\n@bob> bogus",
		"I don't know \"bogus\"",
		"Only /renew works here.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, "never read") {
		t.Error("a line after quit was read")
	}

	// What Slack would have sent.
	if len(f.cmds) != 2 {
		t.Fatalf("%d commands, want 2", len(f.cmds))
	}
	sc := f.cmds[1]
	if sc.Command != "/renew" || sc.Text != "web-front" || sc.UserID != "U0ALICE01" || sc.UserName != "alice" || sc.ChannelID != "C0CONSOLE1" || sc.ChannelName != "console" {
		t.Errorf("slash command = %+v", sc)
	}
	if len(f.clicks) != 3 {
		t.Fatalf("%d clicks, want choose, alice's approve and bob's", len(f.clicks))
	}
	cb := f.clicks[0]
	act := cb.ActionCallback.BlockActions[0]
	if cb.Type != slack.InteractionTypeBlockActions || act.ActionID != "choose" || act.Value != "R1:0" || cb.User.ID != "U0ALICE01" ||
		cb.Channel.ID != "C0CONSOLE1" || cb.Container.ChannelID != "C0CONSOLE1" || cb.Container.MessageTs != f.ts || cb.Message.Timestamp != f.ts {
		t.Errorf("choose click = %+v, action %+v", cb, act)
	}
	if u := f.clicks[2].User.ID; u != "U0BOB0001" || f.clicks[2].ActionCallback.BlockActions[0].ActionID != "approve" {
		t.Errorf("last click by %s on %s, want bob's approve", u, f.clicks[2].ActionCallback.BlockActions[0].ActionID)
	}
}

// Numbers read in the order shown, and a button keeps its number while
// that order holds; a number no longer shown clicks nothing.
func TestNumbersFollowDisplayOrder(t *testing.T) {
	var out syncWriter
	c, _ := New(Config{Out: &out})
	f := &fakeBot{c: c}
	ctx := context.Background()
	ts, _ := c.Post(ctx, c.Channel(), f.request("proposed"))
	if got := out.String(); !strings.Contains(got, "[1] Choose") || !strings.Contains(got, "[2] 7.00 €") || !strings.Contains(got, "[3] Cancel") {
		t.Fatalf("proposed:\n%s", got)
	}
	_ = c.Update(ctx, c.Channel(), ts, f.request("awaiting approval"))
	if got := out.String(); !strings.Contains(got, "│ [4] Approve and pay   [5] Cancel\n") {
		t.Fatalf("awaiting approval, want Approve [4] before Cancel [5]:\n%s", got)
	}
	_ = c.Update(ctx, c.Channel(), ts, f.request("awaiting approval, 1 of 2"))
	c.showAll()
	if got := out.String(); strings.Count(got, "[4] Approve and pay   [5] Cancel") != 2 || strings.Contains(got, "[6]") {
		t.Fatalf("an edit with the same buttons renumbered them:\n%s", got)
	}
	for n, want := range map[int]string{4: "approve", 5: "cancel"} {
		if cl, ok := c.clickable(n); !ok || cl.elem.ActionID != want {
			t.Errorf("[%d] clicks %+v, %v; want %s", n, cl.elem, ok, want)
		}
	}
	for _, n := range []int{1, 2, 3, 6} {
		if cl, ok := c.clickable(n); ok {
			t.Errorf("[%d] clicks %s, a button no longer shown or never given", n, cl.elem.ActionID)
		}
	}
}

// Cancel asks what Slack's dialog asks: a confirmation, then an optional
// reason, and sends the view_submission Slack would.
func TestCancelAsksLikeTheDialog(t *testing.T) {
	var out syncWriter
	c, _ := New(Config{Out: &out, Echo: true, Quiet: 50 * time.Millisecond, Wait: 5 * time.Second})
	f := &fakeBot{c: c}
	script := "/renew web-front\n3\nmaybe\nn\n3\ny\nmoved to another host\n"
	if err := c.Run(context.Background(), f, strings.NewReader(script)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log(got)
	for _, want := range []string{
		"@alice> 3\nCancel the renewal\nCancel the renewal of web-front? Nothing will be paid.\n[y] Cancel renewal   [n] Keep it\ny/n> maybe\n" +
			"Type y for Cancel renewal, or n for Keep it.\ny/n> n\nKeep it: nothing changed.\n@alice> 3\n",
		"y/n> y\nWhy? (optional, shown to the channel) Press Enter for none.\nreason> moved to another host\n",
		"│ cancelled: moved to another host",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	var subs []slack.InteractionCallback
	for _, cb := range f.clicks {
		if cb.Type == slack.InteractionTypeViewSubmission {
			subs = append(subs, cb)
		}
	}
	if len(subs) != 1 {
		t.Fatalf("%d view submissions, want 1: the first dialog was kept", len(subs))
	}
	v := subs[0].View
	if v.CallbackID != "cancel_request" || v.PrivateMetadata != "R1" || subs[0].User.ID != "U0ALICE01" ||
		v.State == nil || v.State.Values["reason"]["reason_input"].Value != "moved to another host" {
		t.Errorf("submission = %+v by %s", v, subs[0].User.ID)
	}
}

// A wrong answer to a confirm dialog is answered once, and the dialog
// waits on.
func TestWrongAnswerAnsweredOnce(t *testing.T) {
	var out syncWriter
	c, _ := New(Config{Out: &out, Echo: true, Quiet: 50 * time.Millisecond, Wait: 5 * time.Second})
	f := &fakeBot{c: c}
	if err := c.Run(context.Background(), f, strings.NewReader("/renew web-front\n1\n4\nmaybe\nn\n4\n\n")); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if want := "y/n> maybe\nType y for Pay, or n for Not yet.\ny/n> n\nNot yet: not clicked.\n@alice> "; !strings.Contains(got, want) {
		t.Errorf("output lacks %q:\n%s", want, got)
	}
	if want := "y/n> \nNot yet: not clicked.\n@alice> "; !strings.Contains(got, want) {
		t.Errorf("Enter at y/n> is not the safe answer, no:\n%s", got)
	}
	if strings.Contains(got, "I don't know") {
		t.Errorf("a wrong answer at y/n> was answered twice:\n%s", got)
	}
}

// A button number typed at a confirm dialog clicks nothing: the dialog
// asks again, and a slip cannot click the button behind it.
func TestANumberAtADialogClicksNothing(t *testing.T) {
	var out syncWriter
	c, _ := New(Config{Out: &out, Echo: true, Quiet: 50 * time.Millisecond, Wait: 5 * time.Second})
	f := &fakeBot{c: c}
	if err := c.Run(context.Background(), f, strings.NewReader("/renew web-front\n1\n4\n5\nn\n")); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if want := "y/n> 5\nType y for Pay, or n for Not yet: answer this dialog before clicking [5].\ny/n> n\nNot yet: not clicked.\n"; !strings.Contains(got, want) {
		t.Errorf("output lacks %q:\n%s", want, got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clicks) != 1 {
		t.Errorf("%d clicks, want only the choice: a number at y/n> clicked a button", len(f.clicks))
	}
}

func TestRunSelectOption(t *testing.T) {
	var out syncWriter
	c, _ := New(Config{Out: &out, Quiet: 20 * time.Millisecond, Wait: 5 * time.Second})
	f := &fakeBot{c: c}
	if err := c.Run(context.Background(), f, strings.NewReader("/renew web-front\n2\n")); err != nil {
		t.Fatal(err)
	}
	act := f.clicks[0].ActionCallback.BlockActions[0]
	if act.ActionID != "choose_select" || act.SelectedOption.Value != "R1:1" || act.Type != "static_select" {
		t.Errorf("select click = %+v", act)
	}
}

func TestUpdateUnknownMessage(t *testing.T) {
	c, _ := New(Config{Out: &syncWriter{}})
	err := c.Update(context.Background(), c.Channel(), "1.000001", bot.Message{Text: "x"})
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "message_not_found" {
		t.Fatalf("Update of an unknown message = %v, want message_not_found", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	c, _ := New(Config{Out: &syncWriter{}})
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, &fakeBot{c: c}, r) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestChanges(t *testing.T) {
	for _, c := range []struct {
		before, now string
		changed     []string
		small       bool
	}{
		{"", "a\nb", nil, false},
		{"a\nb\nc", "a\nB\nc", []string{"B"}, true},
		{"a\nb\nc", "a\nb\nc", nil, true},
		{"a\nb\nc", "A\nB\nC", []string{"A", "B", "C"}, false},
		{"a\nb", "a\nb\nc", nil, false},
	} {
		changed, small := changes(c.before, c.now)
		if strings.Join(changed, "|") != strings.Join(c.changed, "|") || small != c.small {
			t.Errorf("changes(%q, %q) = %q, %v; want %q, %v", c.before, c.now, changed, small, c.changed, c.small)
		}
	}
}
