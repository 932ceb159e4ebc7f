package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
)

// stubSlack is the Slack Web API of a flood: it answers ok to every
// method and to every response_url at once, and keeps only counters and
// the first request message it is shown, so it costs the machine as
// little as possible and grows with nothing.
type stubSlack struct {
	srv *httptest.Server
	seq atomic.Int64

	mu      sync.Mutex
	calls   map[string]int // by method, "response_url" for answers to users
	busy    int            // answers saying "busy"
	message string         // blocks of the first chat.postMessage with a "Choose"
	ts      string         // and its ts
}

func startStub() *stubSlack {
	s := &stubSlack{calls: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *stubSlack) Close() { s.srv.Close() }

// APIURL is SLACK_API_URL for the bot.
func (s *stubSlack) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL is a response_url for the forms of a flood.
func (s *stubSlack) ResponseURL(user string) string { return s.srv.URL + "/response/" + user }

func (s *stubSlack) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/response/") {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		s.calls["response_url"]++
		if strings.Contains(strings.ToLower(string(body)), "busy") {
			s.busy++
		}
		s.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	_ = r.ParseForm()
	ts := fmt.Sprintf("1700000000.%06d", s.seq.Add(1))
	s.mu.Lock()
	s.calls[method]++
	if method == "chat.postMessage" && s.message == "" && r.Form.Get("thread_ts") == "" {
		if _, ok := findChoice(r.Form.Get("blocks")); ok {
			s.message, s.ts = r.Form.Get("blocks"), ts
		}
	}
	s.mu.Unlock()
	answer := map[string]any{"ok": true}
	switch method {
	case "auth.test":
		answer = map[string]any{"ok": true, "url": "https://example.slack.com/", "team": "Example", "user": "renewbot",
			"team_id": floodTeam, "user_id": "U0RENEWBOT", "bot_id": "B0RENEWBOT"}
	case "bots.info":
		answer = map[string]any{"ok": true, "bot": map[string]any{"id": "B0RENEWBOT", "app_id": floodApp, "name": "renewbot"}}
	case "chat.postMessage", "chat.update":
		answer = map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": ts}
	case "chat.postEphemeral":
		answer = map[string]any{"ok": true, "message_ts": ts}
	case "chat.getPermalink":
		answer = map[string]any{"ok": true, "channel": r.Form.Get("channel"), "permalink": "https://example.slack.com/archives/C0/p1"}
	case "usergroups.users.list":
		answer = map[string]any{"ok": true, "users": []string{}}
	case "views.open":
		answer = map[string]any{"ok": true, "view": map[string]any{"id": "V0FLOOD"}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

// stubCounts is what the stub received.
type stubCounts struct {
	calls map[string]int
	busy  int
}

func (s *stubSlack) counts() stubCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := stubCounts{calls: make(map[string]int, len(s.calls)), busy: s.busy}
	for k, v := range s.calls {
		c.calls[k] = v
	}
	return c
}

// reset forgets what was received, before a new server is flooded.
func (s *stubSlack) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.busy, s.message, s.ts = map[string]int{}, 0, "", ""
}

// request is the first request message posted, with its ts.
func (s *stubSlack) request() (blocks, ts string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.message, s.ts
}
