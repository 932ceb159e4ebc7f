package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// isHomeAction reports whether a click comes from a Home tab button.
func isHomeAction(id string) bool {
	return id == blocks.ActionHomeApprove || id == blocks.ActionHomeCancel || id == blocks.ActionHomeRenew
}

// homeActionJob returns the work of a click on the Home tab. A Home view
// has no channel: the request's own channel comes from the store, never
// from the click, and the renewer then checks the click exactly as one on
// the request's message (the policy, the attempt, the state). The answer
// is shown on the Home tab.
func (b *Bot) homeActionJob(cb slack.InteractionCallback, actionID, value string, log *slog.Logger) func(context.Context) {
	user := cb.User.ID
	home := Target{User: user, Home: true}
	if cb.Container.Type != "view" || cb.View.Type != slack.VTHomeTab {
		b.noteMalformed(log, "home tab action outside the home tab refused", "container", clipID(cb.Container.Type))
		return func(ctx context.Context) { b.tellHomeRefusal(ctx, cb) }
	}
	unreadable := func(err error) func(context.Context) {
		b.noteMalformed(log, "unreadable action value", "error", err)
		return func(ctx context.Context) {
			b.tell(ctx, home, "I can't read that button. Open the Home tab again to get a fresh one.")
		}
	}
	if actionID == blocks.ActionHomeRenew {
		id, err := blocks.ParseServiceID(value)
		if err != nil {
			return unreadable(err)
		}
		return func(ctx context.Context) {
			if b.home.channel == "" {
				b.tell(ctx, home, "Renewals are approved in a channel, and none is set for the Home tab: type `/renew "+strconv.FormatInt(id, 10)+"` in the team's channel.")
				return
			}
			if !b.inChannel(ctx, b.home.channel, user) {
				return
			}
			to := Target{Channel: b.home.channel, User: user, Home: true}
			b.propose(ctx, to, Command{Kind: KindRenew, Service: strconv.FormatInt(id, 10)})
		}
	}
	id, index, err := blocks.ParseValue(value)
	if err != nil {
		return unreadable(err)
	}
	return func(ctx context.Context) {
		if b.home.log != nil {
			// A click on the Home tab is as good as opening it.
			_ = b.home.log.HomeOpened(ctx, user, homeRecent)
		}
		r, err := b.renewer.Get(ctx, id)
		if err != nil {
			log.Info("home action on an unknown request", "request", id, "error", err)
			b.tell(ctx, home, "That request no longer exists.")
			return
		}
		if !b.inChannel(ctx, r.Channel, user) {
			return
		}
		to := Target{Channel: r.Channel, User: user, Home: true}
		switch actionID {
		case blocks.ActionHomeApprove:
			b.act(ctx, to, "", id, func(a renew.Action) error {
				a.Attempt = max(index, 0)
				res, err := b.renewer.Approve(ctx, a)
				switch {
				case err == nil && res.Already && res.Missing > 0:
					b.tell(ctx, to, fmt.Sprintf("You already approved this renewal; it counts once. %d more needed, from someone else.", res.Missing))
				case err == nil && res.Missing > 0:
					b.tell(ctx, to, fmt.Sprintf("Your approval is recorded: %d more needed before the order is paid.", res.Missing))
				case err == nil && res.Request != nil && res.Request.State == renew.StatePaid:
					b.tell(ctx, to, fmt.Sprintf("You approved, and %s is paid: %s with tax. Its message in <#%s> follows the delivery.",
						blocks.Escape(blocks.Label(r.Service)), blocks.Escape(blocks.SumText(res.Request.Amount())), r.Channel))
				case err == nil:
					b.tell(ctx, to, fmt.Sprintf("You approved the renewal of %s; its message in <#%s> shows how the payment goes.", blocks.Escape(blocks.Label(r.Service)), r.Channel))
				}
				return err
			})
		case blocks.ActionHomeCancel:
			b.act(ctx, to, "", id, func(a renew.Action) error {
				_, err := b.renewer.Cancel(ctx, a)
				if err == nil {
					b.tell(ctx, to, fmt.Sprintf("Cancelled the renewal of %s. Nothing was paid.", blocks.Escape(blocks.Label(r.Service))))
				}
				return err
			})
		}
	}
}

// tellHomeRefusal answers a Home tab action that came from elsewhere
// (a message): through its response_url, never acting on anything.
func (b *Bot) tellHomeRefusal(ctx context.Context, cb slack.InteractionCallback) {
	if cb.ResponseURL != "" {
		b.tell(ctx, Target{User: cb.User.ID, ResponseURL: cb.ResponseURL}, "That button works on the Home tab only. Nothing was done.")
	}
}
