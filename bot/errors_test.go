package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// The refusal of a second payment for one renewal says where the first
// stands: being paid, paid and awaiting delivery, or delivered since (the
// expiry moved), never that OVHcloud has not moved an expiry it moved.
func TestAlreadyRenewedSaysWhereTheFirstPaymentStands(t *testing.T) {
	from := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	paidAt := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		state     renew.State
		want, not []string
	}{
		{renew.StatePaying, []string{"is being renewed", "being paid", "does not go through"}, []string{"already renewed", "has not moved"}},
		{renew.StateUnknown, []string{"is being renewed", "does not go through"}, []string{"already renewed", "has not moved"}},
		{renew.StatePaid, []string{"already renewed", "has not moved the expiry yet", "2026-12-01 09:30 UTC"}, []string{"cancels"}},
		{renew.StatePaidUnconfirmed, []string{"already renewed", "delivery not confirmed", "cancels that order"}, nil},
		{renew.StateDelivered, []string{"paid and delivered", "since this renewal was asked", "further period"}, []string{"has not moved", "already renewed"}},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			h := &renew.Request{ID: "r1", State: tc.state, Channel: "C0OPS", PaidBy: "U0BOB"}
			if tc.state != renew.StatePaying && tc.state != renew.StateUnknown {
				h.PaidAt = paidAt
			}
			err := fmt.Errorf("approve: %w", &renew.AlreadyRenewedError{Renewal: renew.Renewal{ServiceID: 1, Name: "web-front", From: from}, By: h})
			got := errText(err, &renew.Policy{}, nil)
			for _, w := range append(tc.want, "web-front", "2027-01-15", "<#C0OPS>", "<@U0BOB>") {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in %q", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("says %q: %q", w, got)
				}
			}
		})
	}
}

// A period missing from what OVHcloud offers is written as an adjective:
// "no 2-year renewal", not "no 2 years renewal".
func TestNoStrategyNamesThePeriodAsAnAdjective(t *testing.T) {
	for months, want := range map[int]string{1: "no 1-month renewal", 3: "no 3-month renewal", 12: "no 1-year renewal", 24: "no 2-year renewal"} {
		err := &renew.NoStrategiesError{Service: renew.Service{Name: "web-front"}, Period: renew.Period{Months: months},
			Offered: []renew.Period{{Months: 1}, {Months: 12}}}
		if got := errText(err, &renew.Policy{}, nil); !strings.Contains(got, "OVHcloud offers "+want+" for web-front. Offered: 1 month (`P1M`), 1 year (`P1Y`).") {
			t.Errorf("%d months: %q, want %q", months, got, want)
		}
	}
}

// The refusals that name when another request was made or paid write it
// with Slack's date formatting (each reader's own zone), falling back to
// RENEWBOT_TIMEZONE where Slack cannot format it.
func TestRefusalTimesInTheConfiguredZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database")
	}
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	h := &renew.Request{ID: "r1", State: renew.StatePaid, Channel: "C0OPS", RequestedBy: "U0ALICE", PaidBy: "U0BOB", CreatedAt: at, PaidAt: at,
		Service: renew.Service{ID: 1, Name: "vps-1.example.net"}}
	for name, err := range map[string]error{
		"held":    &renew.BusyError{ServiceID: 1, Holder: h},
		"renewed": &renew.AlreadyRenewedError{Renewal: renew.Renewal{ServiceID: 1, Name: "vps-1.example.net", From: at}, By: h},
	} {
		got := errText(err, &renew.Policy{}, paris)
		if !strings.Contains(got, fmt.Sprintf("<!date^%d^", at.Unix())) || !strings.Contains(got, "|2026-12-01 10:30 CET>") || strings.Contains(got, "UTC") {
			t.Errorf("%s: %s\nwant Slack's date formatting, falling back to 2026-12-01 10:30 CET", name, got)
		}
	}
}
