package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// ChannelMembers tells whether a user is in a channel.
type ChannelMembers interface {
	Member(ctx context.Context, channel, user string) (bool, error)
}

// MemberAPI is the part of slack-go's client that reads a channel's
// members.
type MemberAPI interface {
	GetUsersInConversationContext(ctx context.Context, params *slack.GetUsersInConversationParameters) ([]string, string, error)
}

var _ MemberAPI = (*slack.Client)(nil)

// Channels tells who is in a channel with conversations.members (scopes
// channels:read and groups:read), caching each channel's members for
// TTL. The Home tab shows, and acts on, only the requests of channels the
// person is in: what the requests' messages show them, and where a click
// could come from. When Slack cannot answer, Member fails, and the Home
// tab refuses rather than guess.
type Channels struct {
	API MemberAPI
	TTL time.Duration // default 5 minutes
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]groupEntry
}

var _ ChannelMembers = (*Channels)(nil)

// Bounds of what Channels reads and keeps: pages of a channel's members
// (1,000 each), and channels cached.
const (
	maxMemberPages    = 50
	maxCachedChannels = 1000
)

// Member reports whether user is in channel.
func (c *Channels) Member(ctx context.Context, channel, user string) (bool, error) {
	members, err := c.members(ctx, channel)
	if err != nil {
		return false, err
	}
	return slices.Contains(members, user), nil
}

func (c *Channels) members(ctx context.Context, channel string) ([]string, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	c.mu.Lock()
	e, ok := c.cache[channel]
	c.mu.Unlock()
	if ok && now().Sub(e.at) < ttl {
		return e.members, nil
	}
	var (
		members []string
		cursor  string
	)
	for page := 0; ; page++ {
		if page == maxMemberPages {
			return nil, fmt.Errorf("conversations.members %s: more than %d members", channel, maxMemberPages*1000)
		}
		got, next, err := c.API.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: channel, Cursor: cursor, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("conversations.members %s: %s", channel, SlackErrorCode(err))
		}
		members = append(members, got...)
		if next == "" {
			break
		}
		cursor = next
	}
	c.mu.Lock()
	if c.cache == nil || len(c.cache) >= maxCachedChannels {
		c.cache = map[string]groupEntry{} // start afresh rather than grow
	}
	c.cache[channel] = groupEntry{members: members, at: now()}
	c.mu.Unlock()
	return members, nil
}
