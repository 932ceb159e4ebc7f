package bot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// GroupAPI is the part of slack-go's client that reads user groups.
type GroupAPI interface {
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
}

// Groups expands Slack user groups with usergroups.users.list, caching
// each group's members for TTL. When Slack cannot answer, Members fails and
// the policy refuses: a stale or missing list never grants approval.
type Groups struct {
	API GroupAPI
	TTL time.Duration // default 5 minutes
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]groupEntry
}

type groupEntry struct {
	members []string
	at      time.Time
}

var _ renew.Directory = (*Groups)(nil)

// Members returns the user ids of group.
func (g *Groups) Members(ctx context.Context, group string) ([]string, error) {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	ttl := g.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	g.mu.Lock()
	e, ok := g.cache[group]
	g.mu.Unlock()
	if ok && now().Sub(e.at) < ttl {
		return e.members, nil
	}
	members, err := g.API.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("usergroups.users.list %s: %s", group, SlackErrorCode(err))
	}
	g.mu.Lock()
	if g.cache == nil {
		g.cache = map[string]groupEntry{}
	}
	g.cache[group] = groupEntry{members: members, at: now()}
	g.mu.Unlock()
	return members, nil
}

var _ GroupAPI = (*slack.Client)(nil)
