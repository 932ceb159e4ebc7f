package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

const appToken = "xapp-1-A0001-1-fake"

// socketClient runs slack-go's Socket Mode client against the fake and
// returns its events, skipping the connection chatter.
func socketClient(t *testing.T, s *Server) (*socketmode.Client, <-chan socketmode.Event) {
	t.Helper()
	api := slack.New("xoxb-fake", slack.OptionAppLevelToken(appToken), slack.OptionAPIURL(s.APIURL()))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- client.RunContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ran
	})
	out := make(chan socketmode.Event, 16)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-client.Events:
				switch ev.Type {
				case socketmode.EventTypeConnecting, socketmode.EventTypeConnected, socketmode.EventTypeIncomingError:
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return client, out
}

func next(t *testing.T, events <-chan socketmode.Event, want socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case ev := <-events:
			if ev.Type == want {
				return ev
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event within 5s", want)
		}
	}
}

func TestSocketModeEnvelopesAndAcks(t *testing.T) {
	s := New()
	defer s.Close()
	sm := s.SocketMode()
	if s.SocketMode() != sm {
		t.Fatal("SocketMode is not idempotent")
	}
	client, events := socketClient(t, s)

	hello := next(t, events, socketmode.EventTypeHello)
	if hello.Request.NumConnections != 1 || hello.Request.ConnectionInfo.AppID != AppID {
		t.Errorf("hello = %+v, want one connection of app %s", hello.Request, AppID)
	}
	if n := sm.Connections(); n != 1 {
		t.Errorf("Connections() = %d, want 1", n)
	}

	id := sm.SendSlashCommand(s.Command("C1", "U1", "help"))
	ev := next(t, events, socketmode.EventTypeSlashCommand)
	sc := ev.Data.(slack.SlashCommand)
	if ev.Request.EnvelopeID != id || !ev.Request.AcceptsResponsePayload || sc.Command != "/renew" || sc.Text != "help" || sc.UserID != "U1" || sc.ChannelID != "C1" || sc.ResponseURL == "" {
		t.Fatalf("slash command envelope %+v carries %+v", ev.Request, sc)
	}
	if err := client.Ack(*ev.Request, map[string]string{"text": "usage"}); err != nil {
		t.Fatal(err)
	}
	ack, err := sm.WaitAck(id, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(ack.Payload) != `{"text":"usage"}` || ack.Conn != 1 || ack.Delay <= 0 {
		t.Errorf("ack = %+v, want the payload on connection 1 with a delay", ack)
	}

	sm.Redeliver(id)
	if ev := next(t, events, socketmode.EventTypeSlashCommand); ev.Request.EnvelopeID != id || ev.Request.RetryAttempt != 1 || ev.Request.RetryReason != "timeout" {
		t.Errorf("redelivered envelope %+v, want %s, retry 1 for timeout", ev.Request, id)
	}

	click := s.Click("C1", "1.000100", "U1", "choose", "R1:0").Get("payload")
	id = sm.SendInteractive([]byte(click))
	ev = next(t, events, socketmode.EventTypeInteractive)
	cb := ev.Data.(slack.InteractionCallback)
	if ev.Request.EnvelopeID != id || ev.Request.AcceptsResponsePayload || cb.User.ID != "U1" || cb.ActionCallback.BlockActions[0].Value != "R1:0" {
		t.Fatalf("interactive envelope %+v carries %+v", ev.Request, cb)
	}
	if err := client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}
	if ack, err := sm.WaitAck(id, 5*time.Second); err != nil || ack.Payload != nil {
		t.Fatalf("plain ack = %+v, %v", ack, err)
	}

	sub := s.ViewSubmission("U1", "cancel", "R1", nil).Get("payload")
	id = sm.SendInteractive([]byte(sub))
	if ev = next(t, events, socketmode.EventTypeInteractive); ev.Request.EnvelopeID != id || !ev.Request.AcceptsResponsePayload {
		t.Errorf("view submission envelope %+v should accept a response payload", ev.Request)
	}

	if n := len(sm.Acks()); n != 2 {
		t.Errorf("%d acks, want 2", n)
	}
	if n := len(s.Calls("apps.connections.open")); n != 1 {
		t.Errorf("%d apps.connections.open calls recorded, want 1", n)
	}

	// The rest of the fake still answers on the same URL.
	s.Join("C1")
	if _, _, err := client.PostMessage("C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages("C1"); len(m) != 1 || m[0].Text != "hi" {
		t.Errorf("messages = %+v", m)
	}
}

func TestSocketModeReconnects(t *testing.T) {
	s := New()
	defer s.Close()
	sm := s.SocketMode()
	sm.SetPingInterval(50 * time.Millisecond)
	_, events := socketClient(t, s)
	next(t, events, socketmode.EventTypeHello)

	if n := sm.Drop(); n != 1 {
		t.Fatalf("Drop cut %d connections, want 1", n)
	}
	// An envelope sent while the app is away waits for its return.
	id := sm.SendSlashCommand(s.Command("C1", "U1", "list"))
	if err := sm.WaitConnections(2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	next(t, events, socketmode.EventTypeHello)
	if ev := next(t, events, socketmode.EventTypeSlashCommand); ev.Request.EnvelopeID != id {
		t.Errorf("got envelope %s, want %s", ev.Request.EnvelopeID, id)
	}

	sm.Disconnect("refresh_requested")
	if err := sm.WaitConnections(3, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, events, socketmode.EventTypeHello); ev.Request == nil {
		t.Fatal("hello without a request")
	}
}

func TestSocketModeAuth(t *testing.T) {
	s := New()
	defer s.Close()
	sm := s.SocketMode()
	ctx := context.Background()
	open := func(token string) error {
		opts := []slack.Option{slack.OptionAPIURL(s.APIURL())}
		if token != "" {
			opts = append(opts, slack.OptionAppLevelToken(token))
		}
		_, _, err := slack.New("xoxb-fake", opts...).StartSocketModeContext(ctx)
		return err
	}
	code := func(err error) string {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			return se.Err
		}
		return fmt.Sprintf("<%v>", err)
	}
	if err := open("xoxb-a-bot-token"); code(err) != "not_allowed_token_type" {
		t.Errorf("bot token: %v, want not_allowed_token_type", err)
	}
	if err := open(""); code(err) != "not_authed" {
		t.Errorf("no token: %v, want not_authed", err)
	}
	sm.Refuse("invalid_auth")
	if err := open(appToken); code(err) != "invalid_auth" {
		t.Errorf("refused: %v, want invalid_auth", err)
	}
	sm.Refuse("")

	// A ticket opens one connection only.
	_, u, err := slack.New("xoxb-fake", slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(appToken)).StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var hello struct{ Type string }
	if err := c.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("first message %+v, %v; want hello", hello, err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second dial with the same ticket: %v, want 401", err)
	}

	// Acks are read as Slack reads them.
	id := sm.Send("events_api", json.RawMessage(`{"type":"event_callback"}`), false)
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if err := c.ReadJSON(&env); err != nil || env.EnvelopeID != id || env.Type != "events_api" {
		t.Fatalf("envelope %+v, %v", env, err)
	}
	if err := c.WriteJSON(map[string]string{"envelope_id": id}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.WaitAck(id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.WaitAck("nope", 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("WaitAck of an unknown envelope: %v, want ErrTimeout", err)
	}
}
