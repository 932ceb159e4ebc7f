package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot/blocks"
)

// MaxBody is the largest request body accepted from Slack. Slack's own
// payloads are far smaller; reading stops there, and a body announced
// bigger is refused before it is read.
const MaxBody = 1 << 20

// Routes lists, in one place, every route Slack reaches: they are served
// on the address given to Slack (RENEWBOT_ADDR), and nothing else is.
// The operator's routes are in AdminRoutes.
func Routes(mux *http.ServeMux, b *Bot, secret string) {
	mux.Handle("POST /slack/commands", observed("command", b, verified(secret, b, handleCommand(b))))
	mux.Handle("POST /slack/interactions", observed("interaction", b, verified(secret, b, handleInteraction(b))))
	mux.Handle("POST /slack/events", observed("event", b, handleEvents(b, secret))) // events.go
}

// observed reports each request's outcome and ack time, and counts it
// for the flood meter.
func observed(kind string, b *Bot, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		b.flood.hit()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		b.obs.SlackRequest(kind, outcome(sw.status), time.Since(start))
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

// formHandler handles a request whose signature was verified, with its
// parsed form.
type formHandler func(w http.ResponseWriter, r *http.Request, form url.Values)

// verified checks Slack's signature over the raw body before anything in
// it is parsed: a forged or stale request (more than five minutes old) gets
// a 401 and nothing else happens. What costs nothing is checked first:
// the signature headers and the timestamp before a byte of the body is
// read, the announced length before reading, and reading stops at
// MaxBody. Refusals are counted by the caller's metrics and logged
// sampled, never one line each.
func verified(secret string, b *Bot, next formHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSigned(w, r, secret, b)
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		next(w, r, form)
	})
}

// readSigned reads a request's body and checks Slack's signature over it
// (verified's and the Events API's), what costs nothing first: the
// headers and the timestamp before a byte of the body is read, the
// announced length before reading, and reading stops at MaxBody. It
// answers a refused request itself and logs it, sampled.
func readSigned(w http.ResponseWriter, r *http.Request, secret string, b *Bot) ([]byte, bool) {
	refuse := func(status int, reason, why string) ([]byte, bool) {
		if b.sampled.admit(reason) {
			b.log.Warn("request refused", "reason", reason, "path", r.URL.Path, "why", why, "remote", r.RemoteAddr)
		}
		http.Error(w, refusalText[status], status)
		return nil, false
	}
	if why := checkHeaders(r.Header, b.clock.Now()); why != "" {
		return refuse(http.StatusUnauthorized, reasonUnauthorized, why)
	}
	if r.ContentLength > MaxBody {
		return refuse(http.StatusRequestEntityTooLarge, reasonTooLarge, "body announced over 1 MiB")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return refuse(http.StatusRequestEntityTooLarge, reasonTooLarge, "body over 1 MiB")
		}
		return refuse(http.StatusBadRequest, reasonBadRequest, "body not read: "+err.Error())
	}
	sv, err := slack.NewSecretsVerifier(r.Header, secret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		return refuse(http.StatusUnauthorized, reasonUnauthorized, err.Error())
	}
	return body, true
}

// refusalText is what a refused request is answered: nothing about why.
var refusalText = map[int]string{
	http.StatusUnauthorized:          "invalid Slack signature",
	http.StatusRequestEntityTooLarge: "request body too large",
	http.StatusBadRequest:            "cannot read body",
}

// signatureWindow is how old (or how far ahead) a request's timestamp
// may be: Slack's recommendation, and what slack-go's verifier allows.
const signatureWindow = 5 * time.Minute

// checkHeaders says why a request cannot be from Slack by its headers
// alone ("" when it may be): no signature, a malformed one, or a
// timestamp out of the window around now.
func checkHeaders(h http.Header, now time.Time) string {
	ts, sig := h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return "no Slack signature headers"
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok || len(hexSig) != sha256.Size*2 {
		return "malformed signature"
	}
	if _, err := hex.DecodeString(hexSig); err != nil {
		return "malformed signature"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "malformed timestamp"
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		return "timestamp outside the 5-minute window"
	}
	return ""
}

func handleCommand(b *Bot) formHandler {
	return func(w http.ResponseWriter, r *http.Request, f url.Values) {
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

func handleInteraction(b *Bot) formHandler {
	return func(w http.ResponseWriter, r *http.Request, f url.Values) {
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(f.Get("payload")), &cb); err != nil {
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

// helpReply answers /renew help: the same for everyone, so it is built
// once, and encoded once (helpJSON).
var helpReply = sync.OnceValue(func() *Reply {
	return &Reply{ResponseType: slack.ResponseTypeEphemeral, Text: blocks.HelpText(), Blocks: blocks.Help()}
})

var helpJSON = sync.OnceValues(func() ([]byte, error) { return json.Marshal(helpReply()) })

func writeReply(w http.ResponseWriter, reply *Reply) {
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	var body []byte
	var err error
	if reply == helpReply() {
		body, err = helpJSON()
	} else {
		body, err = json.Marshal(reply)
	}
	if err != nil {
		http.Error(w, "reply not encodable", http.StatusInternalServerError)
		return
	}
	// A known length: one write, not a chunked body.
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
