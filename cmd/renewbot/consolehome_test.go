package main

import (
	"strings"
	"testing"
	"time"
)

// The console's `home` shows the Home tab: what waits for bob, and his
// approval from there pays, as in the channel.
func TestConsoleHome(t *testing.T) {
	s := startConsole(t, nil)
	out := s.step("/renew web-front 1y", "Choose")
	s.step(button(t, out, "Renew for 1 year", "Choose"), "Approve and pay")

	out = s.step("home", "Home of @alice", "Your open requests (1)", "Waiting for your approval (0)", "Expiring in the next 30 days", "This month")
	if strings.Contains(out, "] Approve and pay") {
		t.Errorf("alice's Home offers to approve her own request:\n%s", out)
	}
	s.step("as bob", "You are now @bob")
	out = s.step("home", "Home of @bob", "Waiting for your approval (1)", "web-front", "95.04 € with tax")
	approve := button(t, out, "Waiting for your approval", "Approve and pay")
	s.step(approve, "Approve and pay?", "[y] Pay 95.04 €")
	s.step("y", "Paid 95.04 € by @bob")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.out.String(), "💬 You approved, and web-front is paid: 95.04 € with tax.") {
		if time.Now().After(deadline) {
			t.Fatalf("bob's Home does not say his approval paid:\n%s", s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
