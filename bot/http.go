package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
)

// MaxBody is the largest request body accepted from Slack. Slack's own
// payloads are far smaller; anything bigger is refused before it is read.
const MaxBody = 1 << 20

// Routes lists, in one place, every route Slack reaches: they are served
// on the address given to Slack (RENEWBOT_ADDR), and nothing else is.
// The operator's routes are in AdminRoutes.
func Routes(mux *http.ServeMux, b *Bot, secret string) {
	mux.Handle("POST /slack/commands", observed("command", b.obs, verified(secret, b.log, handleCommand(b))))
	mux.Handle("POST /slack/interactions", observed("interaction", b.obs, verified(secret, b.log, handleInteraction(b))))
	mux.Handle("POST /slack/events", observed("event", b.obs, handleEvents(b, secret))) // events.go
}

// observed reports each request's outcome and ack time.
func observed(kind string, obs Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		obs.SlackRequest(kind, outcome(sw.status), time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func outcome(status int) string {
	switch status {
	case http.StatusOK:
		return "ok"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusServiceUnavailable:
		return "busy"
	}
	return "bad_request"
}

// formKey carries the verified, parsed form to the handler.
type formKey struct{}

// verified checks Slack's signature over the raw body before anything in
// it is parsed: a forged or stale request (more than five minutes old) gets
// a 401 and nothing else happens.
func verified(secret string, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			log.Warn("request refused: bad Slack signature", "path", r.URL.Path, "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, "invalid Slack signature", http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), formKey{}, form)))
	})
}

func formOf(r *http.Request) url.Values {
	f, _ := r.Context().Value(formKey{}).(url.Values)
	return f
}

func handleCommand(b *Bot) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := formOf(r)
		sc := slack.SlashCommand{
			TeamID: f.Get("team_id"), ChannelID: f.Get("channel_id"), ChannelName: f.Get("channel_name"),
			UserID: f.Get("user_id"), UserName: f.Get("user_name"), Command: f.Get("command"),
			Text: f.Get("text"), ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id"),
			APIAppID: f.Get("api_app_id"), EnterpriseID: f.Get("enterprise_id"),
			IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		}
		if sc.UserID == "" || sc.ChannelID == "" {
			http.Error(w, "missing user_id or channel_id", http.StatusBadRequest)
			return
		}
		writeReply(w, b.Command(r.Context(), sc))
	}
}

func handleInteraction(b *Bot) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(formOf(r).Get("payload")), &cb); err != nil {
			http.Error(w, "malformed interaction payload", http.StatusBadRequest)
			return
		}
		if cb.User.ID == "" {
			http.Error(w, "interaction without a user", http.StatusBadRequest)
			return
		}
		writeReply(w, b.Interaction(r.Context(), cb))
	}
}

func writeReply(w http.ResponseWriter, reply *Reply) {
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}
