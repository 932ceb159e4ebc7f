package slackfake

import (
	"fmt"
	"strings"
	"time"
)

// Slack's short-lived handles: a trigger_id opens one modal within 3 s; a
// response_url takes 5 posts within 30 minutes.
const (
	TriggerLife      = 3 * time.Second
	ResponseURLLife  = 30 * time.Minute
	ResponseURLPosts = 5
)

// handle is a trigger_id or response_url the fake gave out.
type handle struct {
	issued time.Time
	uses   int
}

// SetClock sets the fake's clock for trigger_id and response_url
// lifetimes (default time.Now), so tests can move past them without
// waiting.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// now reads the fake's clock; s.mu must be held.
func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// newTrigger gives out a trigger_id, in Slack's format, valid once within
// TriggerLife on the fake's clock.
func (s *Server) newTrigger() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("%d.%d.%x", s.seq, 98765, s.seq*2654435761)
	s.triggers[id] = &handle{issued: s.now()}
	return id
}

// useTrigger exchanges a trigger_id, as views.open does: Slack's error
// code, or "". s.mu must be held.
func (s *Server) useTrigger(id string) string {
	h, ok := s.triggers[id]
	switch {
	case !ok:
		return "invalid_trigger_id"
	case h.uses > 0:
		return "exchanged_trigger_id"
	case s.now().Sub(h.issued) > TriggerLife:
		return "expired_trigger_id"
	}
	h.uses++
	return ""
}

// ResponseURL returns a response_url for user, as Slack puts in payloads.
// It takes ResponseURLPosts posts within ResponseURLLife on the fake's
// clock; after that it answers 404.
func (s *Server) ResponseURL(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	key := user + "/" + fmt.Sprintf("T0001/%d/%x", s.seq, s.seq*40503)
	s.responseURLs[key] = &handle{issued: s.now()}
	return strings.TrimSuffix(s.GetAPIURL(), "/api/") + "/response/" + key
}

// useResponseURL counts a post to a response_url: "" when it is taken,
// else why not ("expired_url", "used_url", "invalid_url"). s.mu must be
// held.
func (s *Server) useResponseURL(key string) string {
	h, ok := s.responseURLs[key]
	switch {
	case !ok:
		return "invalid_url"
	case s.now().Sub(h.issued) > ResponseURLLife:
		return "expired_url"
	case h.uses >= ResponseURLPosts:
		return "used_url"
	}
	h.uses++
	return ""
}
