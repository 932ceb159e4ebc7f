// Package slackfake is a fake Slack for tests: slack-go's slacktest server
// with the methods it lacks (chat.update, usergroups.users.list,
// chat.getPermalink, views.open, views.publish, conversations.info,
// response_url endpoints) and a record of every message and Home view, so
// tests can assert what a channel and a user would see. It also signs
// requests the way Slack signs them, and builds the events and Home tab
// clicks Slack sends.
//
// It refuses what Slack refuses: messages in a channel the bot has not
// joined (not_in_channel; see Join), a trigger_id used twice or after 3 s,
// a response_url used more than 5 times or after 30 minutes (on its own
// clock, SetClock), and blocks that break Block Kit's limits (invalid_blocks;
// a Home view takes 100 blocks, a message 50).
package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Message is a channel message as it stands now.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	Blocks   slack.Blocks
	Raw      string // the blocks JSON as the bot sent it
	Updates  int    // how many chat.update calls it received
}

// Response is one post to a response_url.
type Response struct {
	User            string // the user the response_url was made for
	ResponseType    string // ephemeral or in_channel
	ReplaceOriginal bool
	Text            string
	Blocks          slack.Blocks
	Raw             string
}

// Call is one Web API call the bot made.
type Call struct {
	Method string // e.g. chat.update
	Form   url.Values
	Body   string
}

// Fault makes a Web API method fail: Error is Slack's error code (e.g.
// "ratelimited", "internal_error"); RetryAfter sends a 429. Times is how
// many calls fail (0: all).
//
// Delay and Hang make it slow instead (see delay.go): Delay waits before
// answering, Hang holds the call until the client gives up or the server
// closes. With either and no Error, the call is then answered normally.
// Match, when set, limits the fault to calls whose body contains it.
type Fault struct {
	Error      string
	RetryAfter time.Duration
	Times      int

	Delay time.Duration
	Hang  bool
	Match string
}

// Server is the fake Slack.
type Server struct {
	*slacktest.Server

	mu           sync.Mutex
	clock        func() time.Time // see SetClock
	exists       map[string]bool  // channels created (AddChannels and the like)
	members      map[string]bool  // channels the bot is in
	archived     map[string]bool
	revoked      map[string]bool     // tokens (Revoke)
	people       map[string][]string // channel -> the users in it (SetMembers)
	private      map[string]bool
	triggers     map[string]*handle
	responseURLs map[string]*handle
	refusals     []Refusal
	seq          int64
	messages     map[string]*Message // channel/ts
	order        []string
	responses    []Response
	calls        []Call
	groups       map[string][]string
	views        []string
	homes        map[string][]string // user -> Home views published
	scopes       string              // the bot token's, as auth.test's X-OAuth-Scopes says
	faults       map[string]*Fault

	done    chan struct{} // closed by Close: releases hung calls
	closing sync.Once
}

// New starts a fake Slack. Stop it with Close.
func New() *Server {
	s := &Server{
		exists:       map[string]bool{},
		members:      map[string]bool{},
		archived:     map[string]bool{},
		revoked:      map[string]bool{},
		people:       map[string][]string{},
		private:      map[string]bool{},
		triggers:     map[string]*handle{},
		responseURLs: map[string]*handle{},
		messages:     map[string]*Message{},
		groups:       map[string][]string{},
		homes:        map[string][]string{},
		scopes:       strings.Join(DefaultScopes, ","),
		faults:       map[string]*Fault{},
		seq:          1764147600, // a fixed epoch: ts values are deterministic
		done:         make(chan struct{}),
	}
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", s.api("chat.postMessage", s.postMessage))
		c.Handle("/chat.update", s.api("chat.update", s.update))
		c.Handle("/chat.postEphemeral", s.api("chat.postEphemeral", s.postEphemeral))
		c.Handle("/chat.getPermalink", s.api("chat.getPermalink", s.permalink))
		c.Handle("/usergroups.users.list", s.api("usergroups.users.list", s.groupUsers))
		c.Handle("/views.open", s.api("views.open", s.viewsOpen))
		c.Handle("/views.publish", s.api("views.publish", s.viewsPublish))
		c.Handle("/conversations.info", s.api("conversations.info", s.conversationsInfo))
		c.Handle("/conversations.members", s.api("conversations.members", s.conversationsMembers))
		c.Handle("/response/", s.response)
		c.Handle("/auth.test", s.api("auth.test", s.authTest))
		c.Handle("/bots.info", s.api("bots.info", s.botsInfo))
	})
	s.Server.Start()
	return s
}

// The workspace the fake is: auth.test and bots.info say so, and the
// payloads it builds (Command, Click…) come from there.
const (
	TeamID  = "T0001"
	AppID   = "A0001"
	BotID   = "B0001"
	BotUser = "U0BOT0001"
)

func (s *Server) authTest(url.Values, string) (any, error) {
	return map[string]any{"ok": true, "url": "https://example.slack.com/", "team": "Example", "user": "renewbot",
		"team_id": TeamID, "user_id": BotUser, "bot_id": BotID}, nil
}

func (s *Server) botsInfo(form url.Values, _ string) (any, error) {
	if form.Get("bot") != BotID {
		return nil, fmt.Errorf("bot_not_found")
	}
	return map[string]any{"ok": true, "bot": map[string]any{"id": BotID, "app_id": AppID, "name": "renewbot", "deleted": false, "user_id": BotUser}}, nil
}

// DefaultScopes are the bot token's scopes unless SetScopes says
// otherwise: those manifest.yml asks for.
var DefaultScopes = []string{"commands", "chat:write", "usergroups:read", "channels:read", "groups:read", "users:read"}

// SetScopes sets the bot token's scopes, which every answer names in its
// X-OAuth-Scopes header.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = strings.Join(scopes, ",")
}

// Revoke revokes a bot token: every call made with it answers
// token_revoked from now on.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[token] = true
}

// needs names the scope a Web API method needs from a bot token, as
// Slack's method reference lists it; conversations.* need the one of the
// channel's kind.
var needs = map[string]string{
	"chat.postMessage":      "chat:write",
	"chat.postEphemeral":    "chat:write",
	"chat.update":           "chat:write",
	"usergroups.users.list": "usergroups:read",
	"bots.info":             "users:read",
}

// authorize refuses a call as Slack does before looking at it: no token
// (not_authed), a revoked one (token_revoked), an app-level token
// (not_allowed_token_type), anything but a bot token (invalid_auth), or a
// token without the scope the method needs (missing_scope, with needed
// and provided). It returns the answer, or nil to go on. s.mu must be
// held.
func (s *Server) authorize(method string, r *http.Request, form url.Values) map[string]any {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = form.Get("token")
	}
	refuse := func(code string) map[string]any { return map[string]any{"ok": false, "error": code} }
	switch {
	case token == "":
		return refuse("not_authed")
	case s.revoked[token]:
		return refuse("token_revoked")
	case strings.HasPrefix(token, "xapp-"):
		return refuse("not_allowed_token_type")
	case !strings.HasPrefix(token, "xoxb-"):
		return refuse("invalid_auth")
	}
	need := needs[method]
	if strings.HasPrefix(method, "conversations.") {
		need = "channels:read"
		if s.private[form.Get("channel")] {
			need = "groups:read"
		}
	}
	if need == "" || slices.Contains(strings.Split(s.scopes, ","), need) {
		return nil
	}
	out := refuse("missing_scope")
	out["needed"], out["provided"] = need, s.scopes
	return out
}

// Close stops the server.
func (s *Server) Close() {
	s.closing.Do(func() { close(s.done) })
	s.Server.Stop()
}

// APIURL is the Web API base to give slack.OptionAPIURL (ends with "/").
func (s *Server) APIURL() string { return s.GetAPIURL() }

// SetGroup sets a user group's members.
func (s *Server) SetGroup(id string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = users
}

// Fail makes method fail as f says.
func (s *Server) Fail(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Error == "" && f.Delay == 0 && !f.Hang {
		f.Error = "internal_error"
	}
	s.faults[method] = &f
}

// Heal removes every fault.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string]*Fault{}
}

func (s *Server) api(method string, h func(url.Values, string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			form = url.Values{}
		}
		for k, v := range r.URL.Query() {
			form[k] = v
		}
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: method, Form: form, Body: string(body)})
		refused := s.authorize(method, r, form)
		s.mu.Unlock()
		if refused != nil {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(refused)
			return
		}
		s.mu.Lock()
		f := s.faults[method]
		if f != nil && !f.matches(form, string(body)) {
			f = nil
		}
		if f != nil {
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					delete(s.faults, method)
				}
			}
		}
		s.mu.Unlock()
		if f != nil && !s.slow(r, *f) {
			return // hung up: no answer at all
		}
		w.Header().Set("Content-Type", "application/json")
		s.mu.Lock()
		w.Header().Set("X-OAuth-Scopes", s.scopes) // as Slack answers every Web API call
		s.mu.Unlock()
		if f != nil && f.Error != "" {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds()+0.5)))
				w.WriteHeader(http.StatusTooManyRequests)
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": f.Error})
			return
		}
		out, err := h(form, string(body))
		if err != nil {
			resp := map[string]any{"ok": false, "error": err.Error()}
			var ae apiError
			if errors.As(err, &ae) && len(ae.messages) > 0 {
				resp["errors"] = ae.messages
				msgs := make([]string, len(ae.messages))
				for i, m := range ae.messages {
					msgs[i] = "[ERROR] " + m
				}
				resp["response_metadata"] = map[string]any{"messages": msgs}
				s.mu.Lock()
				s.refusals = append(s.refusals, Refusal{Method: method, Error: ae.code, Messages: ae.messages})
				s.mu.Unlock()
			}
			_ = json.NewEncoder(w).Encode(resp)
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

func decodeBlocks(raw string) (slack.Blocks, error) {
	var b slack.Blocks
	if raw == "" {
		return b, nil
	}
	err := json.Unmarshal([]byte(raw), &b)
	return b, err
}

// apiError is a Web API refusal: Slack's error code and, for blocks, what
// is wrong with them (the answer's errors and response_metadata).
type apiError struct {
	code     string
	messages []string
}

func (e apiError) Error() string { return e.code }

// Refusal is a call the fake refused for its content (blocks, a view):
// tests read why.
type Refusal struct {
	Method   string // e.g. chat.postMessage, response_url
	Error    string // e.g. invalid_blocks
	Messages []string
}

// Refusals returns the calls refused for their content, oldest first.
func (s *Server) Refusals() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refusals...)
}

// checkMessage refuses a message Slack would refuse: blocks beyond Block
// Kit's limits.
func checkMessage(form url.Values) error {
	if code, errs := checkBlocks([]byte(form.Get("blocks")), false); code != "" {
		return apiError{code, errs}
	}
	if b := strings.TrimSpace(form.Get("blocks")); form.Get("text") == "" && (b == "" || b == "[]") && form.Get("attachments") == "" {
		return apiError{code: "no_text"} // a message must say something
	}
	return nil
}

func (s *Server) postMessage(form url.Values, _ string) (any, error) {
	ch := form.Get("channel")
	if err := checkMessage(form); err != nil {
		return nil, err
	}
	blocks, err := decodeBlocks(form.Get("blocks"))
	if err != nil {
		return nil, fmt.Errorf("invalid_blocks")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.canPost(ch); code != "" {
		return nil, apiError{code: code}
	}
	s.seq++
	ts := fmt.Sprintf("%d.%06d", s.seq, 100)
	m := &Message{Channel: ch, TS: ts, ThreadTS: form.Get("thread_ts"), Text: form.Get("text"), Blocks: blocks, Raw: form.Get("blocks")}
	s.messages[ch+"/"+ts] = m
	s.order = append(s.order, ch+"/"+ts)
	return map[string]any{"ok": true, "channel": ch, "ts": ts}, nil
}

func (s *Server) update(form url.Values, _ string) (any, error) {
	ch, ts := form.Get("channel"), form.Get("ts")
	if err := checkMessage(form); err != nil {
		return nil, err
	}
	blocks, err := decodeBlocks(form.Get("blocks"))
	if err != nil {
		return nil, fmt.Errorf("invalid_blocks")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.archived[ch] {
		return nil, apiError{code: "is_inactive"} // no edits in an archived channel
	}
	m, ok := s.messages[ch+"/"+ts]
	if !ok {
		return nil, fmt.Errorf("message_not_found")
	}
	m.Text, m.Blocks, m.Raw = form.Get("text"), blocks, form.Get("blocks")
	m.Updates++
	return map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text}, nil
}

func (s *Server) postEphemeral(form url.Values, _ string) (any, error) {
	if err := checkMessage(form); err != nil {
		return nil, err
	}
	blocks, _ := decodeBlocks(form.Get("blocks"))
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, user := form.Get("channel"), form.Get("user")
	if code := s.canPost(ch); code != "" {
		return nil, apiError{code: code}
	}
	if people, known := s.people[ch]; known && !slices.Contains(people, user) {
		// Slack shows an ephemeral message only to a member of the channel.
		return nil, apiError{code: "user_not_in_channel"}
	}
	s.responses = append(s.responses, Response{User: form.Get("user"), ResponseType: "ephemeral", Text: form.Get("text"), Blocks: blocks, Raw: form.Get("blocks")})
	s.seq++
	return map[string]any{"ok": true, "message_ts": fmt.Sprintf("%d.000200", s.seq)}, nil
}

func (s *Server) permalink(form url.Values, _ string) (any, error) {
	ch := form.Get("channel")
	s.mu.Lock()
	_, posted := s.messages[ch+"/"+form.Get("message_ts")]
	hidden := !s.visible(ch)
	s.mu.Unlock()
	switch {
	case hidden:
		return nil, apiError{code: "channel_not_found"}
	case !posted:
		return nil, apiError{code: "message_not_found"}
	}
	return map[string]any{"ok": true, "channel": form.Get("channel"),
		"permalink": "https://example.slack.com/archives/" + form.Get("channel") + "/p" + strings.ReplaceAll(form.Get("message_ts"), ".", "")}, nil
}

func (s *Server) groupUsers(form url.Values, _ string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users, ok := s.groups[form.Get("usergroup")]
	if !ok {
		return nil, fmt.Errorf("no_such_subteam")
	}
	return map[string]any{"ok": true, "users": users}, nil
}

// viewsOpen opens a modal: its trigger_id must be fresh and unused, its
// view within Block Kit's limits.
func (s *Server) viewsOpen(form url.Values, body string) (any, error) {
	var in struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		// A form post instead of JSON.
		in.TriggerID, in.View = form.Get("trigger_id"), json.RawMessage(form.Get("view"))
	}
	if code, errs := checkView(in.View); code != "" {
		return nil, apiError{code, errs}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.useTrigger(in.TriggerID); code != "" {
		return nil, apiError{code: code}
	}
	s.views = append(s.views, body)
	return map[string]any{"ok": true, "view": map[string]any{"id": "V123"}}, nil
}

// response serves posts to a response_url: at most ResponseURLPosts,
// within ResponseURLLife; after that Slack answers 404 (the body names
// why). Blocks are held to Block Kit's limits (400 invalid_blocks).
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/response/")
	parts := strings.Split(key, "/")
	var msg struct {
		Text            string          `json:"text"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		Blocks          json.RawMessage `json:"blocks"`
		DeleteOriginal  bool            `json:"delete_original"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if b := strings.TrimSpace(string(msg.Blocks)); msg.Text == "" && (b == "" || b == "[]" || b == "null") && !msg.DeleteOriginal {
		http.Error(w, "no_text", http.StatusBadRequest) // a message must say something
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: "response_url", Body: string(body)})
	s.mu.Unlock()
	if code, errs := checkBlocks(msg.Blocks, false); code != "" {
		s.mu.Lock()
		s.refusals = append(s.refusals, Refusal{Method: "response_url", Error: code, Messages: errs})
		s.mu.Unlock()
		http.Error(w, code, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if why := s.useResponseURL(key); why != "" {
		s.mu.Unlock()
		http.Error(w, why, http.StatusNotFound)
		return
	}
	s.mu.Unlock()
	blocks, _ := decodeBlocks(string(msg.Blocks))
	s.mu.Lock()
	s.responses = append(s.responses, Response{User: parts[0], ResponseType: msg.ResponseType, ReplaceOriginal: msg.ReplaceOriginal, Text: msg.Text, Blocks: blocks, Raw: string(msg.Blocks)})
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

// Messages returns the channel's top-level messages (not thread replies),
// oldest first, as they stand now.
func (s *Server) Messages(channel string) []Message {
	return s.filter(func(m *Message) bool { return m.Channel == channel && m.ThreadTS == "" })
}

// Replies returns the thread replies to the message ts.
func (s *Server) Replies(channel, ts string) []Message {
	return s.filter(func(m *Message) bool { return m.Channel == channel && m.ThreadTS == ts })
}

func (s *Server) filter(keep func(*Message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, k := range s.order {
		if m := s.messages[k]; keep(m) {
			out = append(out, *m)
		}
	}
	return out
}

// Responses returns what was posted for user through response_url or
// chat.postEphemeral, oldest first.
func (s *Server) Responses(user string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Response
	for _, r := range s.responses {
		if r.User == user {
			out = append(out, r)
		}
	}
	return out
}

// Calls returns the Web API calls to method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Views returns the bodies of views.open calls.
func (s *Server) Views() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.views...)
}
