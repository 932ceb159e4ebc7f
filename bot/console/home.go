package console

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot"
)

// The Home tab in the console: `home` sends the app_home_opened event
// Slack sends when someone opens the bot's Home tab, and the Home view
// the bot publishes (views.publish) shows like a message, its buttons
// numbered. While the user looks at it (until they type a command or
// click elsewhere), the bot's republications show too, as edits; the
// others are kept silently, as Slack keeps a Home tab nobody looks at.

var _ bot.HomePublisher = (*Console)(nil)

// EventHandler is a Handler that takes Events API events, as *bot.Bot
// does; the console needs it for `home`.
type EventHandler interface {
	Event(ctx context.Context, e bot.Event) bool
}

// homeTS is the key of user's Home view among the console's messages.
func homeTS(user string) string { return "home:" + user }

// PublishHome keeps user's Home view, and shows it when user is looking
// at their Home tab.
func (c *Console) PublishHome(ctx context.Context, user string, view slack.HomeTabViewRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := homeTS(user)
	msg, seen := c.msgs[ts]
	if !seen {
		msg = &message{ts: ts, home: user}
		c.msgs[ts] = msg
	}
	m := bot.Message{Text: "Home", Blocks: view.Blocks.BlockSet}
	if c.homeLive != user || c.user != user {
		msg.blocks, msg.elems, msg.body = m.Blocks, nil, "" // kept, not shown: its numbers are not on screen
		return nil
	}
	c.show(msg, "renewbot · Home of "+c.userName(user), m, msg.body != "")
	c.heard(msg)
	return nil
}

// home opens the current user's Home tab, as Slack does: an
// app_home_opened event to the bot, which publishes the tab.
func (c *Console) home(ctx context.Context, h Handler) {
	eh, ok := h.(EventHandler)
	if !ok {
		c.note("The Home tab is not available here.")
		return
	}
	c.mu.Lock()
	user := c.user
	c.homeLive = user
	c.events++
	if m, ok := c.msgs[homeTS(user)]; ok {
		m.body = "" // show it whole, as opening the tab does
	}
	e := bot.Event{
		Type: "event_callback", TeamID: TeamID, APIAppID: "",
		EventID: fmt.Sprintf("Ev%d%04d", c.start, c.events), EventTime: time.Now().Unix(),
		Inner: bot.InnerEvent{Type: "app_home_opened", User: user, Channel: "D" + user, Tab: "home"},
	}
	c.mu.Unlock()

	since, began := c.mark(), time.Now()
	if !eh.Event(ctx, e) {
		c.note("renewbot is busy; type home again in a minute.")
		return
	}
	c.settle(ctx, since, began, true)
}

// homeClick builds the block_actions callback of a click on a Home view:
// Slack sends it without a channel, from a view container.
func (c *Console) homeClick(msg *message, cb *slack.InteractionCallback) {
	cb.Container = slack.Container{Type: "view", ViewID: "VHOME" + msg.home}
	cb.View = slack.View{ID: "VHOME" + msg.home, Type: slack.VTHomeTab, TeamID: TeamID}
	cb.Channel = slack.Channel{}
	cb.Message = slack.Message{}
	cb.ResponseURL = ""
}
