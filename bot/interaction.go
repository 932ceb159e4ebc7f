package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// Clicks on the bot's messages and the cancel dialog: each is acked at
// once and runs in the pool's urgent queue. (Home tab clicks: home.go.)

// Interaction handles a click on one of the bot's messages.
func (b *Bot) Interaction(ctx context.Context, cb slack.InteractionCallback) *Reply {
	if ok, why := b.ws.allows(interactionOrigin(cb)); !ok {
		b.refuseForeign(string(cb.Type), why, interactionOrigin(cb), cb.User.ID)
		if cb.Type == slack.InteractionTypeViewSubmission {
			return &Reply{ResponseAction: "errors", Errors: map[string]string{blocks.BlockReason: foreignText}}
		}
		// A click's ack carries no message: answer through its
		// response_url only (never the API, which acts as this
		// workspace), in the pool, or not at all when it is full.
		if cb.ResponseURL != "" {
			to := Target{User: cb.User.ID, ResponseURL: cb.ResponseURL}
			if !b.pool.Submit(func(ctx context.Context) { b.tell(ctx, to, foreignText) }) {
				b.obs.Busy()
			}
		}
		return nil
	}
	if cb.Type == slack.InteractionTypeViewSubmission && cb.View.CallbackID == blocks.CallbackCancel {
		return b.cancelSubmitted(ctx, cb)
	}
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return nil
	}
	act := cb.ActionCallback.BlockActions[0]
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	to := Target{Channel: channel, User: cb.User.ID, ResponseURL: cb.ResponseURL}
	log := b.log.With("user", clipID(cb.User.ID), "channel", clipID(channel), "action", clipID(act.ActionID)) // from the payload: kept short
	value := act.Value
	if act.SelectedOption.Value != "" {
		value = act.SelectedOption.Value
	}
	var job func(context.Context)
	if isHomeAction(act.ActionID) {
		job = b.homeActionJob(cb, act.ActionID, value, log) // home.go: no channel in a Home view
	} else {
		job = b.actionJob(act.ActionID, value, cb.Container.MessageTs, cb.TriggerID, to, log)
	}
	if !b.pool.SubmitUrgent(job) {
		// The ack of a click carries no message: answer on the side,
		// through a bounded queue.
		b.refuseClick(to, act.ActionID)
	}
	return nil
}

// actionJob returns the work a click asks for. The value only names a
// request (and an option), a service id or a page: everything else is
// read again from the store and OVHcloud.
func (b *Bot) actionJob(actionID, value, ts, trigger string, to Target, log *slog.Logger) func(context.Context) {
	unreadable := func(err error) func(context.Context) {
		b.noteMalformed(log, "unreadable action value", "error", err)
		return func(ctx context.Context) {
			b.tell(ctx, to, "I can't read that button. Type `/renew` again to get a fresh message.")
		}
	}
	switch actionID {
	case blocks.ActionRenew:
		id, err := blocks.ParseServiceID(value)
		if err != nil {
			return unreadable(err)
		}
		return func(ctx context.Context) {
			b.propose(ctx, to, Command{Kind: KindRenew, Service: strconv.FormatInt(id, 10)})
		}
	case blocks.ActionListPage, blocks.ActionListPrevious:
		days, page, err := blocks.ParseListPage(value)
		if err != nil {
			return unreadable(err)
		}
		return func(ctx context.Context) {
			to := to
			to.Replace = true
			b.list(ctx, to, days, page)
		}
	case blocks.ActionChoose, blocks.ActionChooseSelect, blocks.ActionApprove, blocks.ActionCancel:
	default:
		b.noteMalformed(log, "unknown action")
		return func(ctx context.Context) {
			b.tell(ctx, to, "I don't know that button. Type `/renew help` to see what I can do.")
		}
	}
	id, index, err := blocks.ParseValue(value)
	if err != nil {
		return unreadable(err)
	}
	switch actionID {
	case blocks.ActionChoose, blocks.ActionChooseSelect:
		return func(ctx context.Context) {
			b.act(ctx, to, ts, id, func(a renew.Action) error {
				a.Choice = index
				_, err := b.renewer.Choose(ctx, a)
				return err
			})
		}
	case blocks.ActionApprove:
		return func(ctx context.Context) {
			b.act(ctx, to, ts, id, func(a renew.Action) error {
				a.Attempt = max(index, 0) // a value without one is from before attempts: the first
				res, err := b.renewer.Approve(ctx, a)
				switch {
				case err == nil && res.Already && res.Missing > 0:
					b.tell(ctx, to, fmt.Sprintf("You already approved this renewal; it counts once. %d more needed, from someone else.", res.Missing))
				case err == nil && res.Missing > 0:
					b.tell(ctx, to, fmt.Sprintf("Your approval is recorded: %d more needed before the order is paid.", res.Missing))
				}
				return err
			})
		}
	}
	return func(ctx context.Context) {
		b.act(ctx, to, ts, id, func(a renew.Action) error {
			modals, ok := b.out.(Modals)
			if !ok || trigger == "" {
				_, err := b.renewer.Cancel(ctx, a)
				return err
			}
			// Refuse at once who may not cancel; the others say why.
			r, err := b.renewer.CheckCancel(ctx, a)
			if err != nil {
				return err
			}
			if err := modals.OpenView(ctx, trigger, blocks.CancelModal(r)); err != nil {
				b.log.Warn("cancel dialog not opened, cancelling without a reason", "request", id, "error", SlackErrorCode(err))
				_, err := b.renewer.Cancel(ctx, a)
				return err
			}
			return nil
		})
	}
}

// cancelSubmitted handles the cancel dialog's submission. The dialog
// closes at once; the cancel runs in the pool and a refusal is told in the
// request's channel.
func (b *Bot) cancelSubmitted(ctx context.Context, cb slack.InteractionCallback) *Reply {
	id := cb.View.PrivateMetadata
	reason := ""
	if cb.View.State != nil { // absent from a forged or truncated submission
		if v, ok := cb.View.State.Values[blocks.BlockReason][blocks.ActionReason]; ok {
			reason = v.Value
		}
	}
	job := func(ctx context.Context) {
		r, err := b.renewer.Get(ctx, id)
		if err != nil {
			b.log.Info("cancel dialog for an unknown request", "request", id)
			return
		}
		to := Target{Channel: r.Channel, User: cb.User.ID}
		b.act(ctx, to, "", id, func(a renew.Action) error {
			a.Reason = reason
			_, err := b.renewer.Cancel(ctx, a)
			return err
		})
	}
	if !b.pool.SubmitUrgent(job) {
		return &Reply{ResponseAction: "errors", Errors: map[string]string{blocks.BlockReason: busyText}}
	}
	return nil
}

// act runs a click on request id and tells the clicker when it failed.
func (b *Bot) act(ctx context.Context, to Target, ts, id string, do func(renew.Action) error) {
	log := b.log.With("user", to.User, "channel", to.Channel, "request", id)
	if ts != "" {
		b.adopt(ctx, id, to.Channel, ts)
	}
	err := do(renew.Action{RequestID: id, User: to.User, Channel: to.Channel})
	if err == nil {
		return
	}
	log.Info("action refused", "error", err)
	b.tell(ctx, to, b.explain(ctx, err))
	if errors.Is(err, renew.ErrConflict) || errors.Is(err, renew.ErrStaleApproval) {
		// The message may be stale (an update lost, another replica):
		// make it tell the truth again.
		b.refresh(ctx, id)
	}
}

// explain is errText, with a link to the request that holds a service
// when that is why the action was refused.
func (b *Bot) explain(ctx context.Context, err error) string {
	var busy *renew.BusyError
	if errors.As(err, &busy) && busy.Holder != nil && busy.Holder.MessageTS != "" {
		if pl, ok := b.out.(Permalinker); ok {
			link, lerr := pl.Permalink(ctx, busy.Holder.Channel, busy.Holder.MessageTS)
			if lerr == nil {
				return heldText(busy, link, b.renewer.Budget.Zone)
			}
			b.log.Warn("permalink", "request", busy.Holder.ID, "error", SlackErrorCode(lerr))
		}
	}
	return b.errText(err)
}

// adopt records the message ts of a request whose ts was never stored
// (the process died between posting and recording it).
func (b *Bot) adopt(ctx context.Context, id, channel, ts string) {
	r, err := b.renewer.Get(ctx, id)
	if err != nil || r.MessageTS != "" || r.Channel != channel {
		return
	}
	if _, err := b.renewer.Posted(ctx, id, ts); err != nil {
		b.log.Warn("adopt message ts", "request", id, "error", err)
	}
}
