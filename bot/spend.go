package bot

import (
	"context"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// spend answers /renew spend [YYYY-MM]: the month's payments with tax, by
// product, requester and approver. The month is counted in the budget's
// zone (RENEWBOT_TIMEZONE).
func (b *Bot) spend(ctx context.Context, cmd Command, to Target) {
	m := b.renewer.ThisMonth()
	if cmd.Month != "" {
		var err error
		if m, err = renew.ParseMonth(cmd.Month, b.renewer.Budget.Zone); err != nil {
			b.tell(ctx, to, usageText(err)) // the parser checked it already
			return
		}
	}
	s, err := b.renewer.Spending(ctx, m)
	if err != nil {
		b.log.Error("spending", "month", m.String(), "error", err)
		b.tell(ctx, to, b.errText(err))
		return
	}
	b.reply(ctx, to, Message{Text: blocks.SpendText(s), Blocks: blocks.Spend(s, b.view())})
}

// requestView is the view of a request's message: with the month's
// budget left while the request is chosen or approved, when there is a
// budget.
func (b *Bot) requestView(ctx context.Context, r *renew.Request) blocks.View {
	v := b.view()
	switch r.State {
	case renew.StateProposed, renew.StateAwaitingApproval, renew.StatePaymentFailed:
	default:
		return v
	}
	if !b.renewer.Budget.Set() || r.DryRun {
		return v
	}
	s, err := b.renewer.Spending(ctx, b.renewer.ThisMonth())
	if err != nil {
		b.log.Warn("budget left not shown", "request", r.ID, "error", err)
		return v
	}
	left, _ := s.Left()
	v.Budget = &blocks.MonthBudget{Month: s.Month.Name(), Limit: s.Money(s.Budget.Limit), Left: s.Money(left)}
	return v
}

// budgetMoved reports whether ev changed what the month spent: a payment
// claimed, or one that stopped counting (failed, not paid after all).
func (b *Bot) budgetMoved(r *renew.Request, ev renew.Event) bool {
	if !b.renewer.Budget.Set() || r.ClaimedAt.IsZero() || ev.Action == "" {
		return false
	}
	return ev.Action == "approved" && r.State.Counts() || !r.State.Counts()
}

// maxBudgetRedraws bounds the messages redrawn when the budget left
// changes.
const maxBudgetRedraws = 50

// redrawBudgetLines redraws, in the background, the messages of the
// other requests that show the budget left (being chosen or waiting for
// approval): after a payment is claimed or fails, what they say is left
// is no longer true.
func (b *Bot) redrawBudgetLines(except string) {
	ok := b.pool.Submit(func(ctx context.Context) {
		reqs, err := b.renewer.Store.List(ctx, renew.Filter{
			States: []renew.State{renew.StateProposed, renew.StateAwaitingApproval, renew.StatePaymentFailed}, Limit: maxBudgetRedraws})
		if err != nil {
			b.log.Warn("budget left: list the open requests", "error", err)
			return
		}
		for _, r := range reqs {
			if r.ID != except && !r.DryRun {
				// A burst of up to 50 updates: in their turn (pace.go).
				id := r.ID
				b.send(methodUpdate, r.Channel, "budget line", id, func(ctx context.Context) { b.refresh(ctx, id) })
			}
		}
	})
	if !ok {
		b.log.Warn("queue full: the budget left is not redrawn on open requests")
	}
}
