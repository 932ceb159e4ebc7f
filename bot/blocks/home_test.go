package blocks

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// The Home tab of three people: an approver with requests waiting, a
// requester whose request waits for someone else, and someone with
// nothing waiting.

const (
	requester = "U0BBBBBBB02"
	approverU = "U0CCCCCCC03"
	bystander = "U0DDDDDDD04"
)

func budgetOf(cents int64) renew.Budget { return renew.Budget{Limit: eur(cents).Ucents, Zone: cet} }

// month is November 2026 with two payments, under budget.
func month(b renew.Budget) renew.Spending {
	p1 := paidRequest(renew.StateDelivered, renew.OrderDelivered)
	p1.ID, p1.ClaimedAt = "p1", now.Add(-72*time.Hour)
	p2 := paidRequest(renew.StatePaid, renew.OrderChecking)
	p2.ID, p2.ClaimedAt = "p2", now.Add(-time.Hour)
	p2.Service = domainRequest().Service
	return renew.Spend(b.MonthOf(now), b, []*renew.Request{p1, p2})
}

func homeCases() map[string]func() ([]slack.Block, View) {
	v := view()
	v.Zone = cet // RENEWBOT_TIMEZONE, as the months' budgetOf
	empty := renew.Expiring(renew.Listing{At: now}, now, HomeDays)
	return map[string]func() ([]slack.Block, View){
		"home_approver": func() ([]slack.Block, View) {
			waiting := chosen(renew.StateAwaitingApproval)
			failed := chosen(renew.StatePaymentFailed)
			failed.ID, failed.Service, failed.Error = "1a2b3c4d5e6f70819203", domainRequest().Service, "ovhcloud: 402 The bank refused the payment"
			big := chosen(renew.StateAwaitingApproval)
			big.ID = "9f8e7d6c5b4a39281706"
			big.Order.PriceWithTax = eur(480_00)
			b := budgetOf(500_00)
			held := chosen(renew.StateAwaitingApproval)
			held.Channel = "C0123456789"
			marked := renew.Expiring(sampleListing(), now, HomeDays)
			for i, e := range marked.Manual {
				if e.Service.ID == 10001 {
					marked.Manual[i].Renewing = held
				}
			}
			h := HomeView{
				Home: renew.Home{User: approverU, Now: now, Waiting: []*renew.Request{waiting, failed, big},
					OverBudget: map[string]bool{big.ID: true}, Month: month(b)},
				Expiring: &marked, Channel: "C0123456789",
			}
			return HomeBlocks(h, v), v
		},
		"home_requester": func() ([]slack.Block, View) {
			mine := chosen(renew.StateAwaitingApproval)
			mine.InitiatedBy = requester
			paying := approved(chosen(renew.StatePaying), approverU)
			paying.ID, paying.Service = "1a2b3c4d5e6f70819203", domainRequest().Service
			h := HomeView{
				Home: renew.Home{User: requester, Now: now, Mine: []*renew.Request{mine, paying}, Month: month(renew.Budget{})},
				// The account is still being read.
				Channel: "C0123456789",
				Notice:  "You asked for this renewal, so a teammate has to approve it: nobody pays alone.",
			}
			return HomeBlocks(h, v), v
		},
		"home_nothing_waiting": func() ([]slack.Block, View) {
			b := budgetOf(500_00)
			h := HomeView{Home: renew.Home{User: bystander, Now: now, Month: renew.Spend(b.MonthOf(now), b, nil)}, Expiring: &empty}
			return HomeBlocks(h, v), v
		},
	}
}

// With RENEWBOT_TIMEZONE set, the times Slack cannot localise (the
// console, notifications) are written in that zone, with its
// abbreviation, as the month is counted: the Home tab's last payments and
// /renew history alike.
func TestTimesInTheConfiguredZone(t *testing.T) {
	v := view()
	v.Zone = cet
	h := HomeView{Home: renew.Home{User: approverU, Now: now, Month: month(budgetOf(500_00))}}
	home, _ := json.Marshal(HomeBlocks(h, v))
	events, reqs := history()
	hist, _ := json.Marshal(History(events, reqs, v))
	for what, c := range map[string]struct{ raw, want string }{
		"Home's last payment": {string(home), "2026-11-26 09:00 CET> · example.com"},
		"history":             {string(hist), "2026-11-26 10:00 CET>  web-front  requested by"},
	} {
		c.raw = strings.ReplaceAll(c.raw, `\u003e`, ">")
		if strings.Contains(c.raw, "UTC") || !strings.Contains(c.raw, c.want) {
			t.Errorf("%s: times not in CET with its abbreviation (want %q):\n%s", what, c.want, c.raw)
		}
	}
}

func TestHomeGoldens(t *testing.T) {
	for name, c := range homeCases() {
		t.Run(name, func(t *testing.T) {
			bs, _ := c()
			goldenWith(t, name, bs, ValidateHome)
		})
	}
}

// However much waits, expires and was paid, the Home tab stays within a
// Home view's 100 blocks and Block Kit's limits.
func TestHomeWithinLimits(t *testing.T) {
	var waiting, mine []*renew.Request
	for i := range 60 {
		r := chosen(renew.StateAwaitingApproval)
		r.ID = fmt.Sprintf("%020d", i)
		r.Service.DisplayName = strings.Repeat("very long display name ", 20)
		waiting = append(waiting, r)
		mine = append(mine, r)
	}
	l := renew.Expiring(fortyListing(), now, HomeDays)
	for _, n := range []int{0, 1, 19, 20, 21, 60} {
		h := HomeView{
			Home:     renew.Home{User: approverU, Now: now, Waiting: waiting[:n], Mine: mine[:n], Month: month(budgetOf(1))},
			Expiring: &l, Channel: "C0123456789", Notice: strings.Repeat("x", 5000),
		}
		bs := HomeBlocks(h, View{Now: now, NeedApprovals: 2, Sandbox: true, DryRun: true})
		if err := ValidateHome(bs); err != nil {
			t.Errorf("%d waiting: %v", n, err)
		}
		if n == 60 && len(bs) <= maxBlocks {
			t.Errorf("60 waiting fit in %d blocks: the test no longer checks the Home's 100", len(bs))
		}
		view := Home(h, View{Now: now})
		raw, _ := json.Marshal(view)
		if !strings.Contains(string(raw), `"type":"home"`) {
			t.Fatalf("not a home view: %s", raw[:80])
		}
	}
}

// A Home approve button is the message's: the same confirm dialog, the
// same value (request and attempt), only its action id differs.
func TestHomeApproveIsTheMessageButton(t *testing.T) {
	r := chosen(renew.StatePaymentFailed)
	r.Attempt = 3
	msg, home := approveButton(r), approveButtonAs(ActionHomeApprove, r)
	if home.ActionID != ActionHomeApprove || msg.ActionID != ActionApprove {
		t.Fatalf("action ids %q and %q", msg.ActionID, home.ActionID)
	}
	home.ActionID = msg.ActionID
	a, _ := json.Marshal(msg)
	b, _ := json.Marshal(home)
	if string(a) != string(b) || home.Value != r.ID+":3" {
		t.Fatalf("the Home button differs from the message's:\n%s\n%s", a, b)
	}
}

func TestSpendGoldens(t *testing.T) {
	v := view()
	b := budgetOf(500_00)
	for name, bs := range map[string][]slack.Block{
		"spend_month":   Spend(month(b), v),
		"spend_nothing": Spend(renew.Spend(b.MonthOf(now), renew.Budget{}, nil), v),
	} {
		golden(t, name, bs)
	}
	if got := SpendText(month(b)); got != "Spent in November 2026: 90.88 € with tax, 2 renewals. 409.12 € left of the 500.00 € budget." {
		t.Errorf("text: %s", got)
	}
}

// Nothing paid: the total is in the account's currency when an order
// gave it one, else "nothing yet", never an amount without a currency;
// and no budget reads the same on /renew spend and the Home tab.
func TestNothingSpentSaysItsCurrency(t *testing.T) {
	m := renew.Budget{Zone: cet}.MonthOf(now)
	known := renew.Spend(m, renew.Budget{}, nil)
	known.Currency = "EUR" // the account's latest orders
	unknown := renew.Spend(m, renew.Budget{}, nil)
	text := func(bs []slack.Block) string { raw, _ := json.Marshal(bs); return string(raw) }
	for name, c := range map[string]struct {
		raw  string
		want []string
	}{
		"spend, EUR known":  {text(Spend(known, view())), []string{`*Total with tax*\n0.00 €`, `*Monthly budget*\nnone set`}},
		"spend, none known": {text(Spend(unknown, view())), []string{`*Total with tax*\nnothing yet`, `*Monthly budget*\nnone set`}},
		"Home, EUR known":   {text(homeMonth(HomeView{Home: renew.Home{Month: known}}, view())), []string{`*Spent, with tax*\n0.00 €`, `*Monthly budget*\nnone set`}},
		"Home, none known":  {text(homeMonth(HomeView{Home: renew.Home{Month: unknown}}, view())), []string{`*Spent, with tax*\nnothing yet`, `*Monthly budget*\nnone set`}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.raw, w) {
				t.Errorf("%s: no %s in\n%s", name, w, c.raw)
			}
		}
	}
	if got := SpendText(unknown); got != "Spent in November 2026: nothing yet." {
		t.Errorf("text: %s", got)
	}
}

// A request's message shows the budget left while it is chosen and
// approved, and says when the order is above it.
func TestBudgetOnTheMessage(t *testing.T) {
	v := view()
	v.Budget = &MonthBudget{Month: "November 2026", Limit: renew.Money{Ucents: eur(500_00).Ucents}, Left: renew.Money{Ucents: eur(40_00).Ucents}}
	for name, bs := range map[string][]slack.Block{
		"budget_proposed": Request(proposedRequest(), v),
		"budget_over":     Request(chosen(renew.StateAwaitingApproval), v),
		"budget_paid":     Request(paidRequest(renew.StatePaid, renew.OrderChecking), v),
	} {
		golden(t, name, bs)
	}
}
