package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// Slack's Events API: POST /slack/events, and Socket Mode's events_api
// envelopes, take one path. The bot subscribes to app_home_opened only:
// it publishes the Home tab of whoever opens it.

// EventLog remembers the Events API deliveries already handled, in the
// store, so that an event Slack retries (X-Slack-Retry-Num), to this
// replica or another, before or after a restart, runs once.
type EventLog interface {
	// FirstDelivery records eventID and reports whether this is its first
	// delivery; ids older than keep are forgotten.
	FirstDelivery(ctx context.Context, eventID string, keep time.Duration) (bool, error)
}

// eventMemory is how long an event id is remembered. Slack retries a
// delivery three times, the last about five minutes after the first.
const eventMemory = time.Hour

// Event is an Events API delivery: the outer envelope and, for an
// event_callback, the inner event the bot reads.
type Event struct {
	Type      string `json:"type"` // url_verification, event_callback, app_rate_limited
	Challenge string `json:"challenge"`

	TeamID              string `json:"team_id"`
	EnterpriseID        string `json:"enterprise_id"`
	APIAppID            string `json:"api_app_id"`
	IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	EventID             string `json:"event_id"`
	EventTime           int64  `json:"event_time"`
	Authorizations      []struct {
		EnterpriseID        string `json:"enterprise_id"`
		TeamID              string `json:"team_id"`
		IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	} `json:"authorizations"`
	Inner InnerEvent `json:"event"`
}

// InnerEvent is the part of an event the bot reads.
type InnerEvent struct {
	Type    string `json:"type"` // app_home_opened
	User    string `json:"user"`
	Channel string `json:"channel"`
	Tab     string `json:"tab"` // home or messages
}

// eventOrigin is where an event comes from, as its envelope says.
func eventOrigin(e Event) origin {
	o := origin{team: e.TeamID, enterprise: e.EnterpriseID, app: e.APIAppID, orgWide: e.IsEnterpriseInstall}
	if len(e.Authorizations) > 0 {
		a := e.Authorizations[0]
		if o.enterprise == "" {
			o.enterprise = a.EnterpriseID
		}
		o.orgWide = o.orgWide || a.IsEnterpriseInstall
	}
	return o
}

// Event handles an event_callback: it returns at once, the work queued,
// and reports false when the queue is full, so that the transport makes
// Slack deliver it again later. Events from outside the workspace are
// refused (and reported handled: a retry would be refused too).
func (b *Bot) Event(ctx context.Context, e Event) bool {
	if ok, why := b.ws.allows(eventOrigin(e)); !ok {
		b.refuseForeign("event", why, eventOrigin(e), e.Inner.User)
		return true
	}
	if e.Inner.Type != "app_home_opened" || e.Inner.Tab != "home" || e.Inner.User == "" || e.EventID == "" {
		b.log.Debug("event ignored", "type", clipID(e.Inner.Type), "tab", clipID(e.Inner.Tab))
		return true
	}
	user, id := e.Inner.User, e.EventID
	job := func(ctx context.Context) {
		if b.events != nil {
			first, err := b.events.FirstDelivery(ctx, id, eventMemory)
			if err != nil {
				b.log.Warn("event not handled: its delivery could not be recorded", "event", clipID(id), "error", err)
				return
			}
			if !first {
				b.log.Info("event delivered again, not run again", "event", clipID(id), "user", user)
				return
			}
		}
		b.homeOpened(ctx, user)
	}
	if !b.pool.Submit(job) {
		b.obs.Busy()
		b.noteRefused(reasonBusyEvent, "queue full, event refused for now", "event", clipID(id))
		return false
	}
	return true
}

// handleEvents serves POST /slack/events: signed like the other routes,
// it answers Slack's url_verification challenge, and acks an event as
// soon as its work is queued (503 when the queue is full: Slack retries).
func handleEvents(b *Bot, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSigned(w, r, secret, b)
		if !ok {
			return
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "malformed event", http.StatusBadRequest)
			return
		}
		switch e.Type {
		case "url_verification":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": e.Challenge})
		case "event_callback":
			if retry := r.Header.Get("X-Slack-Retry-Num"); retry != "" {
				b.log.Info("event retried by Slack", "event", clipID(e.EventID), "retry", clipID(retry), "reason", clipID(r.Header.Get("X-Slack-Retry-Reason")))
			}
			if !b.Event(r.Context(), e) {
				http.Error(w, "busy, retry later", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		case "app_rate_limited":
			b.log.Warn("Slack rate-limits the app's events for a minute", "minute", e.EventTime)
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// event runs a Socket Mode events_api envelope through Event, the HTTP
// route's path, and acks it; a full queue leaves it unacked, so Slack
// sends it again.
func (s *socketServer) event(ctx context.Context, ev socketmode.Event) {
	start := time.Now()
	if s.redelivered(ctx, ev) {
		s.observe("event", "ok", start)
		return
	}
	var e Event
	if ev.Request == nil || json.Unmarshal(ev.Request.Payload, &e) != nil {
		s.bot.noteRefused(reasonBadRequest, "socket mode: unreadable event", "envelope", envelopeID(ev))
		s.done(ctx, ev, nil)
		s.observe("event", "bad_request", start)
		return
	}
	if !s.bot.Event(ctx, e) {
		s.observe("event", "busy", start)
		return
	}
	s.done(ctx, ev, nil)
	s.observe("event", "ok", start)
}
