package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/internal/fakeclock"
)

func client(s *Server) *slack.Client { return slack.New("xoxb-fake", slack.OptionAPIURL(s.APIURL())) }

// newTrigger is the trigger_id of a fresh click, as Slack sends one.
func newTrigger(s *Server) string {
	var p struct {
		TriggerID string `json:"trigger_id"`
	}
	_ = json.Unmarshal([]byte(s.Click("C1", "1.1", "U1", "cancel", "v").Get("payload")), &p)
	return p.TriggerID
}

func code(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// Without chat:write.public, the bot posts only where it was invited.
func TestMembership(t *testing.T) {
	s := New()
	defer s.Close()
	api := client(s)
	ctx := context.Background()
	// A channel nobody created is not found, whatever the call.
	if _, _, err := api.PostMessageContext(ctx, "C0NOSUCH0", slack.MsgOptionText("hi", false)); code(err) != "channel_not_found" {
		t.Fatalf("post in a channel that does not exist: %v, want channel_not_found", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C0NOSUCH0"}); code(err) != "channel_not_found" {
		t.Fatalf("conversations.info of a channel that does not exist: %v, want channel_not_found", err)
	}
	if _, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C0NOSUCH0", Ts: "1.1"}); code(err) != "channel_not_found" {
		t.Fatalf("permalink in a channel that does not exist: %v, want channel_not_found", err)
	}
	s.AddChannels("C1")
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); code(err) != "not_in_channel" {
		t.Fatalf("post in a channel the bot is not in: %v, want not_in_channel", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("hi", false)); code(err) != "not_in_channel" {
		t.Fatalf("ephemeral in a channel the bot is not in: %v, want not_in_channel", err)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
	if err != nil || info.IsMember || info.ID != "C1" {
		t.Fatalf("conversations.info = %+v, %v", info, err)
	}
	s.Join("C1")
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	if info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"}); err != nil || !info.IsMember {
		t.Fatalf("conversations.info after joining = %+v, %v", info, err)
	}
	s.SetPrivate("G1")
	if _, _, err := api.PostMessageContext(ctx, "G1", slack.MsgOptionText("hi", false)); code(err) != "channel_not_found" {
		t.Fatalf("post in a private channel the bot is not in: %v, want channel_not_found", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "G1"}); code(err) != "channel_not_found" {
		t.Fatalf("conversations.info of a private channel the bot is not in: %v", err)
	}
	// An archived channel takes no message and no edit, member or not.
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
	if err != nil {
		t.Fatal(err)
	}
	s.Archive("C1")
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); code(err) != "is_archived" {
		t.Fatalf("post in an archived channel: %v, want is_archived", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("edited", false)); code(err) != "is_inactive" {
		t.Fatalf("edit in an archived channel: %v, want is_inactive", err)
	}
	if info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"}); err != nil || !info.IsArchived {
		t.Fatalf("conversations.info of an archived channel = %+v, %v", info, err)
	}
	// response_url works wherever the user typed.
	if err := slack.PostWebhookContext(ctx, s.ResponseURL("U1"), &slack.WebhookMessage{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
}

func modal() slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Cancel", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
}

// A trigger_id opens one modal, within 3 s.
func TestTriggerIDs(t *testing.T) {
	s := New()
	defer s.Close()
	clk := fakeclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	s.SetClock(clk.Now)
	api := client(s)
	ctx := context.Background()
	trigger := func() string { return newTrigger(s) }
	a, b := trigger(), trigger()
	if a == b || a == "" || s.Command("C1", "U1", "x").Get("trigger_id") == a {
		t.Fatalf("trigger ids %q, %q are not unique", a, b)
	}
	if _, err := api.OpenViewContext(ctx, a, modal()); err != nil {
		t.Fatal(err)
	}
	if _, err := api.OpenViewContext(ctx, a, modal()); code(err) != "exchanged_trigger_id" {
		t.Fatalf("second use: %v, want exchanged_trigger_id", err)
	}
	clk.Advance(TriggerLife + time.Millisecond)
	if _, err := api.OpenViewContext(ctx, b, modal()); code(err) != "expired_trigger_id" {
		t.Fatalf("after 3 s: %v, want expired_trigger_id", err)
	}
	if _, err := api.OpenViewContext(ctx, "12345.98765.abcd", modal()); code(err) != "invalid_trigger_id" {
		t.Fatalf("unknown trigger: %v, want invalid_trigger_id", err)
	}
	bad := modal()
	bad.Title = slack.NewTextBlockObject("plain_text", strings.Repeat("x", 25), false, false)
	if _, err := api.OpenViewContext(ctx, trigger(), bad); code(err) != "invalid_arguments" {
		t.Fatalf("a 25-character title: %v, want invalid_arguments", err)
	}
}

// A response_url takes 5 posts within 30 minutes, then answers 404.
func TestResponseURLs(t *testing.T) {
	s := New()
	defer s.Close()
	clk := fakeclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	s.SetClock(clk.Now)
	post := func(u string) int {
		resp, err := http.Post(u, "application/json", bytes.NewReader([]byte(`{"text":"hi"}`)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u := s.ResponseURL("U1")
	for i := range ResponseURLPosts {
		if st := post(u); st != 200 {
			t.Fatalf("post %d: %d", i+1, st)
		}
	}
	if st := post(u); st != 404 {
		t.Fatalf("sixth post: %d, want 404", st)
	}
	if n := len(s.Responses("U1")); n != ResponseURLPosts {
		t.Fatalf("%d responses shown, want %d", n, ResponseURLPosts)
	}
	late := s.ResponseURL("U1")
	clk.Advance(ResponseURLLife + time.Second)
	if st := post(late); st != 404 {
		t.Fatalf("after 30 minutes: %d, want 404", st)
	}
}

func section(text string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}
}

func button(text, value string) map[string]any {
	return map[string]any{"type": "button", "action_id": "a", "text": map[string]any{"type": "plain_text", "text": text}, "value": value}
}

// Blocks beyond Block Kit's limits are refused with invalid_blocks, each
// limit counted in UTF-16 code units (an emoji outside the BMP counts
// twice): a margin where Slack does not say how it counts.
func TestBlockKitLimits(t *testing.T) {
	emoji := "🚧" // U+1F6A7: one rune, two UTF-16 code units
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"type": "divider"}
	}
	for _, tc := range []struct {
		name   string
		blocks any
		want   string
	}{
		{"ok", []any{section("hi"), map[string]any{"type": "actions", "elements": []any{button("Choose", "v")}}}, ""},
		{"51 blocks", many, "invalid_blocks"},
		{"section text 3001", []any{section(strings.Repeat("x", 3001))}, "invalid_blocks"},
		{"section text 3000", []any{section(strings.Repeat("x", 3000))}, ""},
		{"empty text", []any{section("")}, "invalid_blocks"},
		{"header 150", []any{map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("x", 150)}}}, ""},
		{"header 75 emoji", []any{map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat(emoji, 75)}}}, ""},
		{"header 76 emoji", []any{map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat(emoji, 76)}}}, "invalid_blocks"},
		{"mrkdwn header", []any{map[string]any{"type": "header", "text": map[string]any{"type": "mrkdwn", "text": "x"}}}, "invalid_blocks"},
		{"button text 76", []any{map[string]any{"type": "actions", "elements": []any{button(strings.Repeat("x", 76), "v")}}}, "invalid_blocks"},
		{"button value 2001", []any{map[string]any{"type": "actions", "elements": []any{button("x", strings.Repeat("v", 2001))}}}, "invalid_blocks"},
		{"same action_id twice", []any{map[string]any{"type": "actions", "elements": []any{button("x", "1"), button("y", "2")}}}, "invalid_blocks"},
		{"same block_id twice", []any{map[string]any{"type": "divider", "block_id": "b"}, map[string]any{"type": "divider", "block_id": "b"}}, "invalid_blocks"},
		{"11 fields", []any{map[string]any{"type": "section", "fields": func() []any {
			f := make([]any, 11)
			for i := range f {
				f[i] = map[string]any{"type": "mrkdwn", "text": "x"}
			}
			return f
		}()}}, "invalid_blocks"},
		{"select of 101 options", []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "x"},
			"accessory": map[string]any{"type": "static_select", "action_id": "s", "options": func() []any {
				o := make([]any, 101)
				for i := range o {
					o[i] = map[string]any{"text": map[string]any{"type": "plain_text", "text": "x"}, "value": strings.Repeat("v", i%3+1)}
				}
				return o
			}()}}}, "invalid_blocks"},
		{"input in a message", []any{map[string]any{"type": "input", "label": map[string]any{"type": "plain_text", "text": "x"},
			"element": map[string]any{"type": "plain_text_input", "action_id": "r"}}}, "invalid_blocks"},
		{"12,001 characters of text", func() []any {
			var b []any
			for range 4 {
				b = append(b, section(strings.Repeat("x", 3000)))
			}
			return append(b, section("x"))
		}(), "msg_blocks_too_long"},
	} {
		raw, _ := json.Marshal(tc.blocks)
		got, errs := checkBlocks(raw, false)
		if got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.name, got, errs, tc.want)
		}
		if got == "invalid_blocks" && (len(errs) == 0 || !strings.Contains(errs[0], "[json-pointer:/blocks")) {
			t.Errorf("%s: errors %v name no JSON pointer", tc.name, errs)
		}
	}
}

// chat.postMessage refuses invalid blocks with Slack's answer and posts
// nothing; the fake records why.
func TestInvalidBlocksRefused(t *testing.T) {
	s := New()
	defer s.Close()
	s.Join("C1")
	hdr := slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", strings.Repeat("x", 151), false, false))
	_, _, err := client(s).PostMessageContext(context.Background(), "C1", slack.MsgOptionBlocks(hdr))
	if code(err) != "invalid_blocks" || len(s.Messages("C1")) != 0 {
		t.Fatalf("err = %v, messages %d", err, len(s.Messages("C1")))
	}
	if r := s.Refusals(); len(r) != 1 || r[0].Method != "chat.postMessage" || !strings.Contains(r[0].Messages[0], "/blocks/0/text/text") {
		t.Fatalf("refusals = %+v", r)
	}
}

// A message must say something; an ephemeral message goes only to a
// member of the channel (when the fake knows its members); a permalink
// exists only for a message that was posted.
func TestRefusesWhatSlackRefuses(t *testing.T) {
	s := New()
	defer s.Close()
	api := client(s)
	ctx := context.Background()
	s.Join("C1")
	if _, _, err := api.PostMessageContext(ctx, "C1"); code(err) != "no_text" {
		t.Fatalf("a message with no text and no blocks: %v, want no_text", err)
	}
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts); code(err) != "no_text" {
		t.Fatalf("an update with no text and no blocks: %v, want no_text", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1"); code(err) != "no_text" {
		t.Fatalf("an ephemeral with no text: %v, want no_text", err)
	}

	s.SetMembers("C1", "U1")
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("ephemeral to a member: %v", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U2", slack.MsgOptionText("hi", false)); code(err) != "user_not_in_channel" {
		t.Fatalf("ephemeral to someone not in the channel: %v, want user_not_in_channel", err)
	}

	if link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C1", Ts: ts}); err != nil || !strings.Contains(link, "/archives/C1/p") {
		t.Fatalf("permalink of a posted message: %q, %v", link, err)
	}
	if _, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C1", Ts: "1.000001"}); code(err) != "message_not_found" {
		t.Fatalf("permalink of no message: %v, want message_not_found", err)
	}
	s.SetPrivate("G1")
	if _, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "G1", Ts: ts}); code(err) != "channel_not_found" {
		t.Fatalf("permalink in a private channel the bot is not in: %v, want channel_not_found", err)
	}
}

// Slack looks at the token before anything else, then at its scopes.
func TestTokensAndScopes(t *testing.T) {
	s := New()
	defer s.Close()
	s.Join("C1")
	ctx := context.Background()
	post := func(token string) error {
		_, _, err := slack.New(token, slack.OptionAPIURL(s.APIURL())).PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
		return err
	}
	for token, want := range map[string]string{
		"":                   "not_authed",
		"xapp-1-A0001-1-abc": "not_allowed_token_type",
		"garbage":            "invalid_auth",
		"xoxb-a-good-one":    "",
		"xoxb-revoked-later": "",
	} {
		if err := post(token); code(err) != want {
			t.Errorf("post with token %q: %v, want %q", token, err, want)
		}
	}
	s.Revoke("xoxb-revoked-later")
	if err := post("xoxb-revoked-later"); code(err) != "token_revoked" {
		t.Errorf("post with a revoked token: %v, want token_revoked", err)
	}
	if got := len(s.Messages("C1")); got != 2 {
		t.Errorf("%d messages posted, want the 2 with a good token", got)
	}

	s.SetScopes("commands", "chat:write")
	api := client(s)
	_, err := api.GetUserGroupMembersContext(ctx, "S1")
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "missing_scope" {
		t.Fatalf("usergroups.users.list without usergroups:read: %v, want missing_scope", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"}); code(err) != "missing_scope" {
		t.Errorf("conversations.info without channels:read: %v, want missing_scope", err)
	}
	if err := post("xoxb-a-good-one"); err != nil {
		t.Errorf("chat:write was granted, yet: %v", err)
	}
	s.SetScopes("commands")
	if err := post("xoxb-a-good-one"); code(err) != "missing_scope" {
		t.Errorf("post without chat:write: %v, want missing_scope", err)
	}
}

// A modal with an input needs a submit button; a response_url post must say
// something.
func TestModalSubmitAndEmptyResponses(t *testing.T) {
	s := New()
	defer s.Close()
	api := client(s)
	ctx := context.Background()
	trigger := func() string { return newTrigger(s) }
	m := modal()
	m.Blocks.BlockSet = append(m.Blocks.BlockSet, slack.NewInputBlock("reason", slack.NewTextBlockObject("plain_text", "Reason", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "reason")))
	if _, err := api.OpenViewContext(ctx, trigger(), m); code(err) != "invalid_arguments" {
		t.Fatalf("a modal with an input and no submit: %v, want invalid_arguments", err)
	}
	m.Submit = slack.NewTextBlockObject("plain_text", "Send", false, false)
	if _, err := api.OpenViewContext(ctx, trigger(), m); err != nil {
		t.Fatalf("the same modal with a submit button: %v", err)
	}
	for body, want := range map[string]int{
		`{"response_type":"ephemeral"}`:             http.StatusBadRequest,
		`{"response_type":"ephemeral","blocks":[]}`: http.StatusBadRequest,
		`{"delete_original":true}`:                  http.StatusOK,
		`{"text":"hi"}`:                             http.StatusOK,
	} {
		resp, err := http.Post(s.ResponseURL("U1"), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("response_url post %s: HTTP %d, want %d", body, resp.StatusCode, want)
		}
	}
}
