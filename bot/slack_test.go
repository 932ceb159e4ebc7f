package bot

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/slackfake"
)

// A response_url Slack no longer takes (five posts made, or thirty
// minutes gone) does not lose the answer: it goes through
// chat.postEphemeral in the channel instead.
func TestEphemeralFallsBackWhenTheResponseURLIsSpent(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	fake.Join("C1")
	clk := fakeclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	fake.SetClock(clk.Now)
	p := &SlackPoster{API: slack.New("xoxb-fake", slack.OptionAPIURL(fake.APIURL())), Attempts: 1}
	ctx := context.Background()

	used := fake.ResponseURL("U1")
	for range slackfake.ResponseURLPosts {
		resp, err := http.Post(used, "application/json", bytes.NewReader([]byte(`{"text":"earlier"}`)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	expired := fake.ResponseURL("U1")
	clk.Advance(slackfake.ResponseURLLife + time.Minute)
	for name, u := range map[string]string{"used five times": used, "expired": expired} {
		before := len(fake.Calls("chat.postEphemeral"))
		if err := p.Ephemeral(ctx, Target{Channel: "C1", User: "U1", ResponseURL: u}, Message{Text: "answer " + name}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := fake.Responses("U1")
		if last := got[len(got)-1]; last.Text != "answer "+name || len(fake.Calls("chat.postEphemeral")) != before+1 {
			t.Fatalf("%s: last answer %+v, want it through chat.postEphemeral", name, last)
		}
	}
	// A fresh response_url is used as is.
	before := len(fake.Calls("chat.postEphemeral"))
	if err := p.Ephemeral(ctx, Target{Channel: "C1", User: "U1", ResponseURL: fake.ResponseURL("U1")}, Message{Text: "fresh"}); err != nil || len(fake.Calls("chat.postEphemeral")) != before {
		t.Fatalf("fresh response_url: %v, chat.postEphemeral calls %d → %d", err, before, len(fake.Calls("chat.postEphemeral")))
	}
}

// Whatever 4xx Slack answers a response_url it no longer takes with, the
// answer goes through chat.postEphemeral; a malformed message, a rate
// limit or a server error does not count as a spent response_url.
func TestSpentResponseURLCodes(t *testing.T) {
	for code, want := range map[int]bool{401: true, 403: true, 404: true, 410: true, 400: false, 429: false, 500: false, 503: false} {
		if got := spentResponseURL(slack.StatusCodeError{Code: code, Status: http.StatusText(code)}); got != want {
			t.Errorf("HTTP %d: spent %v, want %v", code, got, want)
		}
	}
}
