package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The Home tab and the Events API: views.publish, held to a Home view's
// limits (100 blocks), and the events and clicks Slack sends an app about
// its Home tab.

// maxHomeBlocks is what a Home view holds.
const maxHomeBlocks = 100

// viewsPublish serves views.publish: a Home view for user_id within
// Block Kit's limits; it records every view published, by user.
func (s *Server) viewsPublish(form url.Values, body string) (any, error) {
	var in struct {
		UserID string          `json:"user_id"`
		View   json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		in.UserID, in.View = form.Get("user_id"), json.RawMessage(form.Get("view"))
	}
	if in.UserID == "" {
		return nil, apiError{code: "invalid_arguments", messages: []string{"user_id is required"}}
	}
	if code, errs := checkHomeView(in.View); code != "" {
		return nil, apiError{code, errs}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.homes[in.UserID] = append(s.homes[in.UserID], string(in.View))
	return map[string]any{"ok": true, "view": map[string]any{"id": "VHOME" + in.UserID, "type": "home"}}, nil
}

// checkHomeView checks a Home view for views.publish: "" when Slack would
// take it, else invalid_arguments and what is wrong.
func checkHomeView(raw []byte) (string, []string) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "invalid_arguments", []string{err.Error()}
	}
	c := &blockChecker{modal: true, blocks: map[string]bool{}}
	if v["type"] != "home" {
		c.fail("/view/type", "must be home")
	}
	c.optStr("/view/private_metadata", v, "private_metadata", 0, 3000)
	c.optStr("/view/callback_id", v, "callback_id", 0, 255)
	blocks, _ := v["blocks"].([]any)
	if len(blocks) > maxHomeBlocks {
		c.fail("/view/blocks", "no more than %d items allowed", maxHomeBlocks)
	}
	for i, b := range blocks {
		m, ok := b.(map[string]any)
		if !ok {
			c.fail(fmt.Sprintf("/view/blocks/%d", i), "must be an object")
			continue
		}
		if m["type"] == "input" {
			c.fail(fmt.Sprintf("/view/blocks/%d/type", i), "the fake takes no input block in a Home view")
			continue
		}
		c.block(fmt.Sprintf("/view/blocks/%d", i), m)
	}
	if len(c.errs) > 0 {
		return "invalid_arguments", c.errs
	}
	return "", nil
}

// Homes returns the Home views published for user, oldest first, as the
// JSON of each view.
func (s *Server) Homes(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.homes[user]...)
}

// Home returns the last Home view published for user, "" when none was.
func (s *Server) Home(user string) string {
	h := s.Homes(user)
	if len(h) == 0 {
		return ""
	}
	return h[len(h)-1]
}

// HomeOpened is the Events API body Slack posts when user opens the app's
// Home tab: an app_home_opened event_callback from the fake's workspace,
// with eventID (a fresh one when "").
func (s *Server) HomeOpened(user, eventID string) string {
	if eventID == "" {
		s.mu.Lock()
		s.seq++
		eventID = fmt.Sprintf("Ev%08X", s.seq)
		s.mu.Unlock()
	}
	now := time.Now().Unix()
	body, _ := json.Marshal(map[string]any{
		"token": "deprecated", "team_id": TeamID, "api_app_id": AppID, "type": "event_callback",
		"event_id": eventID, "event_time": now,
		"authorizations": []any{map[string]any{"team_id": TeamID, "user_id": BotUser, "is_bot": true, "is_enterprise_install": false}},
		"event": map[string]any{
			"type": "app_home_opened", "user": user, "channel": "D" + strings.TrimPrefix(user, "U"), "tab": "home",
			"event_ts": strconv.FormatInt(now, 10) + ".000100",
		},
	})
	return string(body)
}

// URLVerification is the body Slack posts to check an Events API request
// URL: the app must answer with the challenge.
func URLVerification(challenge string) string {
	body, _ := json.Marshal(map[string]any{"token": "deprecated", "challenge": challenge, "type": "url_verification"})
	return string(body)
}

// SignedJSON builds a POST to target with a JSON body signed now, and
// Slack's retry headers when retry > 0 (X-Slack-Retry-Num, as Slack sends
// a delivery again).
func SignedJSON(target, secret, body string, retry int) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	Sign(req.Header, secret, time.Now(), body)
	return req
}

// HomeClick is the form Slack posts when user clicks a button (actionID,
// value) on their Home tab: a block_actions from a view container, with
// no channel and no response_url.
func (s *Server) HomeClick(user, actionID, value string) url.Values {
	payload := map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": TeamID, "domain": "example"},
		"user":       map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id": AppID,
		"token":      "deprecated",
		"container":  map[string]any{"type": "view", "view_id": "VHOME" + user},
		"trigger_id": s.newTrigger(),
		"view":       map[string]any{"id": "VHOME" + user, "type": "home", "team_id": TeamID, "app_id": AppID},
		"actions": []any{map[string]any{
			"type": "button", "action_id": actionID, "block_id": "b", "value": value,
			"action_ts": strconv.FormatInt(time.Now().Unix(), 10) + ".0001",
		}},
	}
	raw, _ := json.Marshal(payload)
	return url.Values{"payload": {string(raw)}}
}
