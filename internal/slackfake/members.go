package slackfake

import (
	"net/url"
	"strconv"
)

// Join adds the bot to channels, as /invite @renewbot does. A channel the
// bot has not joined refuses its messages: chat.postMessage and
// chat.postEphemeral answer not_in_channel (channel_not_found for a
// private channel, which the bot cannot even see), as Slack does for an
// app with chat:write and without chat:write.public.
func (s *Server) Join(channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range channels {
		s.members[c] = true
		s.exists[c] = true
	}
}

// AddChannels creates channels the bot is not in. Only channels a test
// created (here, or by Join, SetMembers, SetPrivate or Archive) exist:
// any other id is channel_not_found, as a mistyped one is in Slack.
func (s *Server) AddChannels(channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range channels {
		s.exists[c] = true
	}
}

// Leave removes the bot from a channel, as /kick or /remove would.
func (s *Server) Leave(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.members, channel)
}

// SetPrivate makes a channel private: unseen by the bot unless it is a
// member.
func (s *Server) SetPrivate(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.private[channel] = true
	s.exists[channel] = true
}

// Archive archives a channel: nothing can be posted or edited in it any
// more (is_archived, is_inactive), and conversations.info says so.
func (s *Server) Archive(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archived[channel] = true
	s.exists[channel] = true
}

// visible says whether the bot can see channel at all: it exists and is
// public, or the bot is in it. s.mu must be held.
func (s *Server) visible(channel string) bool {
	return s.exists[channel] && (!s.private[channel] || s.members[channel])
}

// canPost says why the bot may not post in channel, as Slack's error
// code, or "" when it may. s.mu must be held.
func (s *Server) canPost(channel string) string {
	switch {
	case !s.visible(channel):
		return "channel_not_found"
	case s.archived[channel]:
		return "is_archived"
	case !s.members[channel]:
		return "not_in_channel"
	}
	return ""
}

// conversationsInfo serves conversations.info (scopes channels:read,
// groups:read): is_member says whether the bot is in the channel.
func (s *Server) conversationsInfo(form url.Values, _ string) (any, error) {
	ch := form.Get("channel")
	s.mu.Lock()
	member, private, archived, visible := s.members[ch], s.private[ch], s.archived[ch], s.visible(ch)
	s.mu.Unlock()
	if !visible {
		return nil, apiError{code: "channel_not_found"}
	}
	return map[string]any{"ok": true, "channel": map[string]any{
		"id": ch, "name": "ops-" + ch, "is_channel": !private, "is_group": false, "is_im": false,
		"is_private": private, "is_archived": archived, "is_member": member,
	}}, nil
}

// SetMembers sets who is in a channel, as conversations.members tells
// (the bot aside).
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.people[channel] = append([]string(nil), users...)
	s.exists[channel] = true
}

// conversationsMembers serves conversations.members (scopes
// channels:read, groups:read), two users a page so that the bot's
// paging is exercised: a private channel the bot is not in is not found.
func (s *Server) conversationsMembers(form url.Values, _ string) (any, error) {
	ch := form.Get("channel")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.visible(ch) {
		return nil, apiError{code: "channel_not_found"}
	}
	users := s.people[ch]
	if s.members[ch] {
		users = append([]string{BotUser}, users...)
	}
	from, _ := strconv.Atoi(form.Get("cursor"))
	from = min(max(from, 0), len(users))
	to := min(from+2, len(users))
	next := ""
	if to < len(users) {
		next = strconv.Itoa(to)
	}
	return map[string]any{"ok": true, "members": users[from:to], "response_metadata": map[string]any{"next_cursor": next}}, nil
}
