package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sign sets the headers Slack adds to every request it sends an app:
// X-Slack-Request-Timestamp and X-Slack-Signature, an HMAC-SHA256 of
// "v0:timestamp:body" keyed with the signing secret.
func Sign(h http.Header, secret string, at time.Time, body string) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

// SignedRequest builds a POST to target with a form body signed now.
func SignedRequest(target, secret string, form url.Values) *http.Request {
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	Sign(req.Header, secret, time.Now(), body)
	return req
}

// Command is the form Slack posts for a slash command.
func (s *Server) Command(channel, user, text string) url.Values {
	s.AddChannels(channel) // someone typed in it: it exists
	return url.Values{
		"token":        {"deprecated"},
		"team_id":      {TeamID},
		"team_domain":  {"example"},
		"channel_id":   {channel},
		"channel_name": {"ops"},
		"user_id":      {user},
		"user_name":    {strings.ToLower(user)},
		"command":      {"/renew"},
		"text":         {text},
		"response_url": {s.ResponseURL(user)},
		"trigger_id":   {s.newTrigger()},
		"api_app_id":   {AppID},
	}
}

// Click is the form Slack posts when user clicks a button (actionID,
// value) on the message ts in channel.
func (s *Server) Click(channel, ts, user, actionID, value string) url.Values {
	return s.interaction(channel, ts, user, map[string]any{
		"type": "button", "action_id": actionID, "block_id": "b", "value": value,
		"action_ts": strconv.FormatInt(time.Now().Unix(), 10) + ".0001",
	})
}

// Select is the form Slack posts when user picks value in a static select.
func (s *Server) Select(channel, ts, user, actionID, value string) url.Values {
	return s.interaction(channel, ts, user, map[string]any{
		"type": "static_select", "action_id": actionID, "block_id": "b",
		"selected_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": value}, "value": value},
		"action_ts":       strconv.FormatInt(time.Now().Unix(), 10) + ".0001",
	})
}

func (s *Server) interaction(channel, ts, user string, action map[string]any) url.Values {
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": TeamID, "domain": "example"},
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id":   AppID,
		"token":        "deprecated",
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id":   s.newTrigger(),
		"channel":      map[string]any{"id": channel, "name": "ops"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": ""},
		"response_url": s.ResponseURL(user),
		"actions":      []any{action},
	}
	raw, _ := json.Marshal(payload)
	return url.Values{"payload": {string(raw)}}
}

// ViewSubmission is the form Slack posts when user submits a modal.
func (s *Server) ViewSubmission(user, callbackID, privateMetadata string, values map[string]map[string]string) url.Values {
	state := map[string]any{}
	for block, actions := range values {
		m := map[string]any{}
		for action, v := range actions {
			m[action] = map[string]any{"type": "plain_text_input", "value": v}
		}
		state[block] = m
	}
	payload := map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": TeamID, "domain": "example"},
		"user":       map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id": AppID,
		"view": map[string]any{
			"id": "V123", "type": "modal", "callback_id": callbackID,
			"private_metadata": privateMetadata,
			"state":            map[string]any{"values": state},
		},
	}
	raw, _ := json.Marshal(payload)
	return url.Values{"payload": {string(raw)}}
}
