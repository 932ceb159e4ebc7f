package bot

import (
	"context"
	"testing"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// Requests whose messages were redrawn here and that then end on another
// replica (so this one never redraws them as final), and a request with
// no message yet, leave no redraw lock behind: what the bot holds does not
// grow with the requests it has seen.
func TestRedrawLocksAreForgotten(t *testing.T) {
	r := newPacedRig(t, 200, "")
	ctx := context.Background()
	for _, id := range r.ids {
		r.bot.refresh(ctx, id)
	}
	if got := len(r.out.sent(methodUpdate)); got != 200 {
		t.Fatalf("%d messages redrawn, want 200", got)
	}
	for _, id := range r.ids { // another replica cancels them
		if _, err := r.store.Transition(ctx, id, []renew.State{renew.StateAwaitingApproval}, renew.StateCancelled,
			renew.Event{At: r.clock.Now(), Actor: "U0BOB0001", Action: "cancelled"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := r.clock.Now()
	unposted := &renew.Request{ID: "00000000000000000999", State: renew.StateProposed, Channel: "C0OPS0001",
		InitiatedBy: "U0ALICE01", Service: renew.Service{ID: 99999, Name: "vps-999.example.net"}, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := r.store.Create(ctx, unposted, renew.Event{At: now, Actor: "U0ALICE01", Action: "proposed"}); err != nil {
		t.Fatal(err)
	}
	r.bot.refresh(ctx, unposted.ID)
	r.bot.refresh(ctx, "no-such-request")
	if n := r.bot.redrawsHeld(); n != 0 {
		t.Errorf("%d redraw locks held after every refresh returned, want 0", n)
	}
}
