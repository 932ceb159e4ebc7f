package blocks

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// render marshals blocks as the goldens hold them: indented by two, and
// with Go's HTML-safe escapes (\u003c) undone, so that what Slack reads
// (and our own &lt; escaping) shows plainly. The result is the same JSON.
func render(t *testing.T, bs []slack.Block) []byte {
	t.Helper()
	b, err := json.MarshalIndent(bs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(htmlSafe.Replace(string(b)) + "\n")
}

var htmlSafe = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

func golden(t *testing.T, name string, bs []slack.Block) {
	t.Helper()
	goldenWith(t, name, bs, Validate)
}

// goldenWith is golden for a surface validate checks (a message, a Home
// view).
func goldenWith(t *testing.T, name string, bs []slack.Block, validate func([]slack.Block) error) {
	t.Helper()
	if err := validate(bs); err != nil {
		t.Errorf("%s: Validate: %v", name, err)
	}
	got := render(t, bs)
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/blocks -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test ./bot/blocks -update and review the diff):\n%s", name, path, got)
	}
}

// goldenCases are the messages kept as goldens: one per state and the
// cases that stress the layout.
func goldenCases() map[string]func() ([]slack.Block, View) {
	v := view()
	two := View{Now: now, NeedApprovals: 2, Approvers: []string{"U0CCCCCCC03", "U0DDDDDDD04", "S0EEEEEEE05"}}
	return map[string]func() ([]slack.Block, View){
		"proposed":          func() ([]slack.Block, View) { return Request(proposedRequest(), v), v },
		"ordering":          func() ([]slack.Block, View) { return Request(chosen(renew.StateOrdering), v), v },
		"awaiting_approval": func() ([]slack.Block, View) { return Request(chosen(renew.StateAwaitingApproval), v), v },
		"payment_failed": func() ([]slack.Block, View) {
			r := chosen(renew.StatePaymentFailed)
			r.Error = "ovhcloud: 402 The bank refused the payment (query id EU.ext-1.7c2f.42)"
			return Request(r, v), v
		},
		"paying": func() ([]slack.Block, View) {
			return Request(approved(chosen(renew.StatePaying), "U0CCCCCCC03"), v), v
		},
		"paid": func() ([]slack.Block, View) { return Request(paidRequest(renew.StatePaid, renew.OrderChecking), v), v },
		"delivered": func() ([]slack.Block, View) {
			return Request(paidRequest(renew.StateDelivered, renew.OrderDelivered), v), v
		},
		"failed": func() ([]slack.Block, View) {
			r := chosen(renew.StateFailed)
			r.Order = nil
			r.Error = "ovhcloud: 403 This service cannot be renewed (query id EU.ext-3.6512a.1234)"
			return Request(r, v), v
		},
		"cancelled": func() ([]slack.Block, View) {
			r := chosen(renew.StateCancelled)
			r.CancelledBy, r.CancelReason = "U0DDDDDDD04", "we move to a bigger VPS"
			return Request(r, v), v
		},
		"expired": func() ([]slack.Block, View) {
			r := chosen(renew.StateExpired)
			r.Error = "nobody approved within 24 hours"
			return Request(r, v), v
		},
		"unknown": func() ([]slack.Block, View) {
			return Request(approved(chosen(renew.StateUnknown), "U0CCCCCCC03"), v), v
		},
		"two_services":      func() ([]slack.Block, View) { return Request(domainRequest(), v), v },
		"thirty_strategies": func() ([]slack.Block, View) { return Request(thirtyRequest(), v), v },
		"escaping":          func() ([]slack.Block, View) { return Request(hostile(), v), v },
		"dry_run": func() ([]slack.Block, View) {
			d := v
			d.DryRun = true
			r := chosen(renew.StateAwaitingApproval)
			r.DryRun = true
			return Request(r, d), d
		},
		"sandbox": func() ([]slack.Block, View) {
			s := v
			s.Sandbox = true
			return Request(proposedRequest(), s), s
		},
		"approvals_in_progress": func() ([]slack.Block, View) {
			return Request(approved(chosen(renew.StateAwaitingApproval), "U0CCCCCCC03"), two), two
		},
		"over_limit": func() ([]slack.Block, View) {
			l := v
			l.MaxAmount = renew.Money{Ucents: 30 * renew.UcentsPerUnit}
			return Request(domainRequest(), l), l
		},
		"help": func() ([]slack.Block, View) { return Help(), v },
		"paid_unconfirmed": func() ([]slack.Block, View) {
			return Request(paidRequest(renew.StatePaidUnconfirmed, renew.OrderDelivering), v), v
		},
		"price_drift": func() ([]slack.Block, View) {
			r := chosen(renew.StateAwaitingApproval)
			r.Chosen.Price = eur(3500) // shown at 35.00 €, ordered at 37.87 €
			return Request(r, v), v
		},
		"second_attempt": func() ([]slack.Block, View) {
			r := chosen(renew.StatePaymentFailed)
			r.Attempt = 2
			r.Error = "ovhcloud: 403 This order can't be paid with 'bankAccount' (query id EU.ext-1.7c2f.43)"
			return Request(r, v), v
		},
		"history": func() ([]slack.Block, View) {
			events, reqs := history()
			return History(events, reqs, v), v
		},
	}
}

// history is a paid renewal of one option, step by step, newest first,
// with the details the renewer records, and an event whose request is
// gone.
func history() ([]renew.Event, map[string]*renew.Request) {
	r := paidRequest(renew.StatePaid, renew.OrderChecking)
	r.Options = r.Options[2:]
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	events := []renew.Event{
		{RequestID: "0000000000000000gone", At: at(9), Action: "expired", Detail: "nobody approved within 24 hours"},
		{RequestID: reqID, At: at(6), Actor: "U0CCCCCCC03", Action: "paid", Detail: "order 240012345, 45.44 €"},
		{RequestID: reqID, At: at(5), Actor: "U0CCCCCCC03", Action: "approved", Detail: "1 of 1"},
		{RequestID: reqID, At: at(2), Actor: "U0BBBBBBB02", Action: "ordered", Detail: "order 240012345, 45.44 € with tax"},
		{RequestID: reqID, At: at(1), Actor: "U0BBBBBBB02", Action: "chose", Detail: "P1Y, 1 services, 37.87 €"},
		{RequestID: reqID, At: at(0), Actor: "U0AAAAAAA01", Action: "proposed", Detail: "vps-1.example.net: 1 strategies"},
	}
	return events, map[string]*renew.Request{reqID: r}
}

// History says what happened in words, with periods and counts as
// everywhere else.
func TestHistoryWording(t *testing.T) {
	events, reqs := history()
	text := History(events, reqs, view())[0].(*slack.SectionBlock).Text.Text
	for _, want := range []string{
		"web-front  requested by <@U0AAAAAAA01>: 1 way to renew it\n",
		"web-front  chosen by <@U0BBBBBBB02>: 1 year, 1 service, 37.87 € without tax\n",
		"web-front  ordered by <@U0BBBBBBB02>: order 240012345, 45.44 € with tax\n",
		"web-front  approved by <@U0CCCCCCC03>: 1 of 1 approval\n",
		"web-front  paid by <@U0CCCCCCC03>: order 240012345, 45.44 € with tax\n",
		"request 00000000  expired: nobody approved within 24 hours\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("history lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"P1Y", "1 services", "1 strategies", "chose by", "proposed by"} {
		if strings.Contains(text, bad) {
			t.Errorf("history says %q:\n%s", bad, text)
		}
	}
	r := reqs[reqID]
	for detail, want := range map[string]string{"1 of 1": "(1 of 1 approval)", "1 of 2": "(1 of 2 approvals)"} {
		ev := renew.Event{RequestID: reqID, Actor: "U0CCCCCCC03", Action: "approved", Detail: detail}
		if got := EventLine(r, ev); got != "<@U0CCCCCCC03> approved "+want+"." {
			t.Errorf("thread reply for an approval %s: %q", detail, got)
		}
	}
}

func TestGoldens(t *testing.T) {
	for name, c := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			bs, _ := c()
			golden(t, name, bs)
		})
	}
}

// hostile is a service whose OVHcloud strings try to notify the channel.
func hostile() *renew.Request {
	r := domainRequest()
	r.Service.DisplayName = "<!channel> & <b>"
	r.Service.Product = "<https://evil.example|click> <@U0AAAAAAA01>"
	r.Options[1].Details[1].Type = "Hosting <!here>"
	return r
}

// elements lists the interactive elements of a message.
func elements(bs []slack.Block) (buttons []*slack.ButtonBlockElement, selects []*slack.SelectBlockElement) {
	add := func(e slack.BlockElement) {
		switch e := e.(type) {
		case *slack.ButtonBlockElement:
			buttons = append(buttons, e)
		case *slack.SelectBlockElement:
			selects = append(selects, e)
		}
	}
	for _, b := range bs {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if a := b.Accessory; a != nil {
				if a.ButtonElement != nil {
					add(a.ButtonElement)
				}
				if a.SelectElement != nil {
					add(a.SelectElement)
				}
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				add(e)
			}
		}
	}
	return buttons, selects
}

func findButton(bs []slack.Block, action string) *slack.ButtonBlockElement {
	buttons, _ := elements(bs)
	for _, b := range buttons {
		if b.ActionID == action {
			return b
		}
	}
	return nil
}

func jsonText(t *testing.T, bs []slack.Block) string {
	t.Helper()
	return string(render(t, bs))
}

func TestEveryStateValidates(t *testing.T) {
	for _, sandbox := range []bool{false, true} {
		for _, dry := range []bool{false, true} {
			v := View{Now: now, NeedApprovals: 2, Approvers: []string{"U0CCCCCCC03", "S0EEEEEEE05"}, Sandbox: sandbox, DryRun: dry}
			for _, st := range allStates {
				r := approved(chosen(st), "U0CCCCCCC03")
				if st == renew.StateProposed {
					r = proposedRequest()
				}
				bs := Request(r, v)
				if err := Validate(bs); err != nil {
					t.Errorf("%s sandbox=%v dry=%v: %v", st, sandbox, dry, err)
				}
				s := jsonText(t, bs)
				if sandbox && !strings.Contains(s, "*Sandbox*") {
					t.Errorf("%s: sandbox message does not say so", st)
				}
				if dry && !strings.Contains(s, "Dry run") {
					t.Errorf("%s: dry-run message does not say so", st)
				}
				if Text(r) == "" {
					t.Errorf("%s: empty notification text", st)
				}
			}
		}
	}
}

var allStates = []renew.State{
	renew.StateProposed, renew.StateOrdering, renew.StateAwaitingApproval, renew.StatePaying,
	renew.StatePaid, renew.StateDelivered, renew.StateFailed, renew.StateCancelled,
	renew.StateExpired, renew.StatePaymentFailed, renew.StateUnknown,
}

func TestNoButtonsUnlessSomeoneMustAct(t *testing.T) {
	for _, st := range allStates {
		r := approved(chosen(st), "U0CCCCCCC03")
		if st == renew.StateProposed {
			r = proposedRequest()
		}
		buttons, selects := elements(Request(r, view()))
		if st.Open() {
			if len(buttons) == 0 {
				t.Errorf("%s: no buttons", st)
			}
			continue
		}
		if len(buttons) > 0 || len(selects) > 0 {
			t.Errorf("%s: %d buttons and %d selects on a message where nobody can act", st, len(buttons), len(selects))
		}
	}
}

func TestProposedButtons(t *testing.T) {
	r := proposedRequest()
	bs := Request(r, view())
	buttons, selects := elements(bs)
	if len(selects) != 0 {
		t.Fatalf("%d selects for 3 options", len(selects))
	}
	var values []string
	for _, b := range buttons {
		if b.ActionID == ActionChoose {
			if b.Style != slack.StylePrimary || b.Text.Text != "Choose" {
				t.Errorf("choose button %+v", b)
			}
			values = append(values, b.Value)
		}
	}
	want := []string{reqID + ":0", reqID + ":1", reqID + ":2"}
	if !slices.Equal(values, want) {
		t.Errorf("choose values %q, want %q", values, want)
	}
	if c := findButton(bs, ActionCancel); c == nil || c.Value != reqID {
		t.Errorf("cancel button %+v", c)
	}
	s := jsonText(t, bs)
	for _, want := range []string{
		`"text": "web-front"`, "vps-1.example.net", "VPS Value 1-2-40",
		"2026-12-20 (in 24 days)", "manual, every 1 month",
		"*Renew for 1 month*", "*Renew for 3 months*", "*Renew for 1 year*",
		"*37.87 €* without tax", "Requested by <@U0AAAAAAA01>", reqID,
		"This request expires <!date^1795770000^{date_short_pretty} at {time}|2026-11-27 09:00 UTC>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("proposed message lacks %q", want)
		}
	}
}

func TestTwoServices(t *testing.T) {
	s := jsonText(t, Request(domainRequest(), view()))
	if !strings.Contains(s, "example.com (Domain .ovh) + example.com (Hosting Perso 2014)") {
		t.Errorf("the two services renewed together are not named with their types:\n%s", s)
	}
	if !strings.Contains(s, "expired 3 days ago") {
		t.Errorf("expired domain does not say so")
	}
}

func TestDaysLeft(t *testing.T) {
	for _, c := range []struct {
		exp  time.Time
		want string
	}{
		{time.Date(2026, 12, 20, 0, 0, 0, 0, cet), "in 24 days"},
		{time.Date(2026, 11, 27, 0, 0, 0, 0, cet), "tomorrow"},
		{time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC), "today"},
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), "expired yesterday"},
		{time.Date(2026, 11, 23, 0, 0, 0, 0, cet), "expired 3 days ago"},
	} {
		if got := daysLeft(now, c.exp); got != c.want {
			t.Errorf("daysLeft(%s) = %q, want %q", c.exp, got, c.want)
		}
	}
}

// allChoices parses every choice a message offers, buttons and menus.
func allChoices(t *testing.T, bs []slack.Block) []int {
	t.Helper()
	buttons, selects := elements(bs)
	var got []int
	add := func(v string) {
		id, i, err := ParseValue(v)
		if err != nil || id != reqID {
			t.Fatalf("choice value %q: %q %v", v, id, err)
		}
		got = append(got, i)
	}
	for _, b := range buttons {
		if b.ActionID == ActionChoose {
			add(b.Value)
		}
	}
	for _, s := range selects {
		if s.ActionID != ActionChooseSelect {
			t.Errorf("select action id %q", s.ActionID)
		}
		for _, o := range s.Options {
			add(o.Value)
		}
		for _, g := range s.OptionGroups {
			for _, o := range g.Options {
				add(o.Value)
			}
		}
	}
	slices.Sort(got)
	return got
}

func TestManyStrategiesAllSelectable(t *testing.T) {
	for _, n := range []int{11, 30, 100, 101, 250, 2000} {
		bs := Request(manyRequest(n), view())
		if err := Validate(bs); err != nil {
			t.Fatalf("%d strategies: %v", n, err)
		}
		buttons, selects := elements(bs)
		if len(buttons) != 1 || buttons[0].ActionID != ActionCancel {
			t.Errorf("%d strategies: want only the cancel button, got %d buttons", n, len(buttons))
		}
		if want := (n + maxOptions - 1) / maxOptions; len(selects) != want {
			t.Errorf("%d strategies: %d selects, want %d", n, len(selects), want)
		}
		got := allChoices(t, bs)
		if len(got) != n {
			t.Fatalf("%d strategies: %d choices", n, len(got))
		}
		for i, g := range got {
			if g != i {
				t.Fatalf("%d strategies: choice %d missing", n, i)
			}
		}
	}
}

func TestTooManyStrategiesStillRenders(t *testing.T) {
	bs := Request(manyRequest(maxOptions*maxSelects+5), view())
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	if got := len(allChoices(t, bs)); got != maxOptions*maxSelects {
		t.Errorf("%d choices shown", got)
	}
	if !strings.Contains(jsonText(t, bs), "5 options are not shown") {
		t.Error("hidden options not mentioned")
	}
}

func TestThirtyStrategiesMenu(t *testing.T) {
	bs := Request(thirtyRequest(), view())
	_, selects := elements(bs)
	if len(selects) != 1 {
		t.Fatalf("%d selects", len(selects))
	}
	s := selects[0]
	if len(s.OptionGroups) != 3 || s.OptionGroups[0].Label.Text != "1 month" || s.OptionGroups[2].Label.Text != "1 year" {
		t.Errorf("options not grouped by period: %+v", s.OptionGroups)
	}
	o := s.OptionGroups[0].Options[1]
	if !strings.HasPrefix(o.Text.Text, "8.00 € · vps-1.example.net") {
		t.Errorf("option text %q does not start with its price", o.Text.Text)
	}
	if o.Description.Text != "1 month · 2 services" {
		t.Errorf("option description %q", o.Description.Text)
	}
}

func TestOverLimit(t *testing.T) {
	v := view()
	v.MaxAmount = renew.Money{Ucents: 30 * renew.UcentsPerUnit}
	bs := Request(domainRequest(), v)
	if got := allChoices(t, bs); !slices.Equal(got, []int{0}) {
		t.Errorf("choices %v, want only the strategy under the limit", got)
	}
	if s := jsonText(t, bs); !strings.Contains(s, "Above the 30.00 € limit even before tax") {
		t.Errorf("over-limit strategy does not say so:\n%s", s)
	}

	// In a menu, over-limit strategies are left out and counted.
	v.MaxAmount = renew.Money{Ucents: 10 * renew.UcentsPerUnit}
	bs = Request(thirtyRequest(), v)
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	if got := allChoices(t, bs); len(got) != 6 {
		t.Errorf("%d choices under 10 €, want 6", len(got))
	}
	if s := jsonText(t, bs); !strings.Contains(s, "24 options are above the 10.00 € limit") {
		t.Errorf("menu does not count the options above the limit")
	}

	// Nothing choosable: no empty select.
	v.MaxAmount = renew.Money{Ucents: 1}
	bs = Request(thirtyRequest(), v)
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	if _, selects := elements(bs); len(selects) != 0 {
		t.Error("a select without options")
	}
}

func TestApproveConfirmNamesAmount(t *testing.T) {
	bs := Request(chosen(renew.StateAwaitingApproval), view())
	a := findButton(bs, ActionApprove)
	if a == nil {
		t.Fatal("no approve button")
	}
	if a.Value != reqID+":0" || a.Style != slack.StylePrimary || a.Text.Text != "Approve and pay" {
		t.Errorf("approve button %+v", a)
	}
	// After a failed payment the button is for the new round only.
	r := chosen(renew.StatePaymentFailed)
	r.Attempt = 3
	if a := findButton(Request(r, view()), ActionApprove); a == nil || a.Value != reqID+":3" {
		t.Errorf("approve button of attempt 3: %+v", a)
	}
	c := a.Confirm
	if c == nil {
		t.Fatal("approve button has no confirm dialog")
	}
	if !strings.Contains(c.Text.Text, "45.44 € with tax") || !strings.Contains(c.Text.Text, "web-front") {
		t.Errorf("confirm text %q names neither the amount nor the service", c.Text.Text)
	}
	if c.Confirm.Text != "Pay 45.44 €" || c.Deny.Text != "Not yet" {
		t.Errorf("confirm buttons %q / %q", c.Confirm.Text, c.Deny.Text)
	}
	if x := findButton(bs, ActionCancel); x == nil || x.Style != slack.StyleDanger || x.Value != reqID {
		t.Errorf("cancel button %+v", x)
	}
	s := jsonText(t, bs)
	for _, want := range []string{
		"240012345", "37.87 €", "7.57 €", "45.44 €", "Requested by <@U0BBBBBBB02>",
		"0 of 1 approval", "Who may approve: anyone, but not <@U0BBBBBBB02> who asked",
		"<!date^1796893260^", // order expiry
	} {
		if !strings.Contains(s, want) {
			t.Errorf("awaiting message lacks %q", want)
		}
	}
}

func TestApprovalsInProgress(t *testing.T) {
	v := View{Now: now, NeedApprovals: 2, Approvers: []string{"U0CCCCCCC03", "S0EEEEEEE05"}, SelfApproval: true}
	s := jsonText(t, Request(approved(chosen(renew.StateAwaitingApproval), "U0CCCCCCC03"), v))
	// Who approved is in the progress, no longer among who may approve.
	for _, want := range []string{"1 of 2 approvals: <@U0CCCCCCC03>", "Who may approve: <!subteam^S0EEEEEEE05>\""} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q:\n%s", want, s)
		}
	}
	s = jsonText(t, Request(approved(chosen(renew.StateAwaitingApproval), "U0CCCCCCC03"), View{Now: now, NeedApprovals: 2}))
	if want := "Who may approve: anyone else, but not <@U0BBBBBBB02> who asked"; !strings.Contains(s, want) {
		t.Errorf("lacks %q:\n%s", want, s)
	}
	// Without self-approval the requester is not among who may approve;
	// with nobody left, the message says what an admin must do.
	r := approved(chosen(renew.StateAwaitingApproval), "U0CCCCCCC03")
	s = jsonText(t, Request(r, View{Now: now, NeedApprovals: 2, Approvers: []string{r.RequestedBy, "U0CCCCCCC03", "U0DDDDDDD04"}}))
	if want := "Who may approve: <@U0DDDDDDD04>, but not <@U0BBBBBBB02> who asked"; !strings.Contains(s, want) {
		t.Errorf("lacks %q:\n%s", want, s)
	}
	s = jsonText(t, Request(r, View{Now: now, NeedApprovals: 2, Approvers: []string{r.RequestedBy, "U0CCCCCCC03"}}))
	if want := "Who may approve: nobody left: every approver in RENEWBOT_APPROVERS approved or asked for it"; !strings.Contains(s, want) {
		t.Errorf("lacks %q:\n%s", want, s)
	}
}

func TestDryRunHasNoApprove(t *testing.T) {
	for _, r := range []*renew.Request{chosen(renew.StateAwaitingApproval), chosen(renew.StatePaymentFailed)} {
		r.DryRun = true
		bs := Request(r, view())
		if findButton(bs, ActionApprove) != nil {
			t.Errorf("%s: approve button in a dry run", r.State)
		}
		if findButton(bs, ActionCancel) == nil {
			t.Errorf("%s: no cancel button in a dry run", r.State)
		}
		if !strings.Contains(jsonText(t, bs), "Dry run: nothing will be paid") {
			t.Errorf("%s: dry run not said", r.State)
		}
		if !strings.HasPrefix(Text(r), "[dry run] ") {
			t.Errorf("%s: notification %q", r.State, Text(r))
		}
	}
}

func TestPaymentFailedShowsError(t *testing.T) {
	r := chosen(renew.StatePaymentFailed)
	r.Error = "card <declined> & expired"
	bs := Request(r, view())
	if findButton(bs, ActionApprove) == nil {
		t.Error("payment_failed cannot be approved again")
	}
	if !strings.Contains(jsonText(t, bs), "card &lt;declined&gt; &amp; expired") {
		t.Error("previous payment error missing or unescaped")
	}
}

func TestEscaping(t *testing.T) {
	if got, want := Escape("<!channel> & <b>"), "&lt;!channel&gt; &amp; &lt;b&gt;"; got != want {
		t.Errorf("Escape = %q, want %q", got, want)
	}
	if got := Escape("plain é"); got != "plain é" {
		t.Errorf("Escape changed %q", got)
	}
	r := hostile()
	s := jsonText(t, Request(r, view()))
	if !strings.Contains(s, "&lt;!channel&gt; &amp; &lt;b&gt;") {
		t.Errorf("display name not escaped:\n%s", s)
	}
	for _, raw := range []string{"<!channel>", "<!here>", "<https://evil", "<b>", "& <"} {
		if strings.Contains(s, raw) {
			t.Errorf("raw %q reached the message", raw)
		}
	}
	if strings.Contains(s, "<@U0AAAAAAA01> <@") || strings.Count(s, "<@U0AAAAAAA01>") != 1 {
		t.Errorf("a mention from OVHcloud's product text got through")
	}
	if txt := Text(r); strings.ContainsAny(txt, "<>") {
		t.Errorf("notification text %q carries markup", txt)
	}
}

func TestLongTextsAreClipped(t *testing.T) {
	r := proposedRequest()
	r.Service.DisplayName = strings.Repeat("é<", 1000)
	r.Service.Name = strings.Repeat("n", 5000)
	r.Service.Product = strings.Repeat("p\n", 3000)
	big := renew.Strategy{Period: year, Price: eur(100000)}
	for i := range 300 {
		id := int64(9000 + i)
		big.Services = append(big.Services, id)
		big.Details = append(big.Details, renew.ServiceDetail{ID: id, Name: strings.Repeat("x", 300), Type: strings.Repeat("&", 100)})
	}
	r.Options = append(r.Options, big)
	bs := Request(r, view())
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	h := bs[0].(*slack.HeaderBlock).Text.Text
	if !strings.HasSuffix(h, "…") || runes(h) > maxHeaderText || strings.HasSuffix(h, "&…") {
		t.Errorf("header %q", h)
	}

	for _, st := range allStates {
		c := approved(chosen(st), "U0CCCCCCC03")
		c.Service = r.Service
		c.Chosen = &big
		c.Error = strings.Repeat("<err>", 2000)
		c.CancelReason = strings.Repeat("why ", 2000)
		if err := Validate(Request(c, view())); err != nil {
			t.Errorf("%s: %v", st, err)
		}
		if n := runes(Text(c)); n > 1000 {
			t.Errorf("%s: notification text of %d characters", st, n)
		}
	}

	r = thirtyRequest()
	for i := range r.Options {
		r.Options[i].Details[0].Name = strings.Repeat("&", 200)
	}
	if err := Validate(Request(r, view())); err != nil {
		t.Fatal(err)
	}
}

func TestOrderSecretsNeverShown(t *testing.T) {
	// renew.Order holds no password or URL; nothing else may add one.
	for _, st := range allStates {
		s := jsonText(t, Request(paidRequest(st, renew.OrderDelivered), view()))
		for _, secret := range []string{"password", "http://", "https://", "pdf"} {
			if strings.Contains(strings.ToLower(s), secret) {
				t.Errorf("%s: message contains %q", st, secret)
			}
		}
	}
}

func TestFinalStatesSayWhatHappened(t *testing.T) {
	for st, want := range map[renew.State][]string{
		renew.StateOrdering:  {"Creating the order…", "chosen by <@U0BBBBBBB02>"},
		renew.StatePaying:    {"Paying…", "approved by <@U0CCCCCCC03>"},
		renew.StatePaid:      {"*Paid* 45.44 € by <@U0CCCCCCC03> on <!date^", "*checking*"},
		renew.StateDelivered: {"*Paid* 45.44 €", "*delivered*"},
		renew.StateUnknown:   {"Payment outcome unknown", "checking with OVHcloud"},
		renew.StateCancelled: {"*Cancelled* by someone", "Nothing was paid"},
		renew.StateExpired:   {"*Expired.*", "Nothing was paid"},
		renew.StateFailed:    {"The renewal failed"},
	} {
		r := paidRequest(st, renew.OrderChecking)
		if st == renew.StateDelivered {
			r.OrderStatus = renew.OrderDelivered
		}
		s := jsonText(t, Request(r, view()))
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("%s lacks %q", st, w)
			}
		}
	}
}

func TestText(t *testing.T) {
	for st, want := range map[renew.State]string{
		renew.StateProposed:         "Renew web-front (expires 2026-12-20): choose a renewal option.",
		renew.StateAwaitingApproval: "Renewal of web-front: order 240012345 (45.44 € with tax) waits for approval.",
		renew.StateDelivered:        "web-front is renewed: order 240012345 is delivered.",
		renew.StateUnknown:          "Renewal of web-front: payment outcome unknown, checking with OVHcloud.",
	} {
		r := chosen(st)
		if st == renew.StateProposed {
			r = proposedRequest()
		}
		if got := Text(r); got != want {
			t.Errorf("Text(%s) = %q, want %q", st, got, want)
		}
	}
	r := proposedRequest()
	r.Service.DisplayName = "<!channel> & co"
	if got := Text(r); !strings.Contains(got, "&lt;!channel&gt; &amp; co") {
		t.Errorf("Text = %q", got)
	}
}

func TestParseValue(t *testing.T) {
	for _, c := range []struct {
		in    string
		id    string
		index int
		ok    bool
	}{
		{reqID + ":0", reqID, 0, true},
		{reqID + ":29", reqID, 29, true},
		{reqID, reqID, -1, true},
		{"", "", -1, false},
		{":3", "", -1, false},
		{reqID + ":", "", -1, false},
		{reqID + ":-1", "", -1, false},
		{reqID + ":+1", "", -1, false},
		{reqID + ":01", "", -1, false},
		{reqID + ":1:2", "", -1, false},
		{reqID + ":99999", "", -1, false},
		{"id with space:1", "", -1, false},
		{strings.Repeat("a", 65), "", -1, false},
	} {
		id, index, err := ParseValue(c.in)
		if (err == nil) != c.ok || id != c.id || index != c.index {
			t.Errorf("ParseValue(%q) = %q, %d, %v", c.in, id, index, err)
		}
	}
	if id, i, err := ParseValue(choiceValue(reqID, 7)); err != nil || id != reqID || i != 7 {
		t.Errorf("choiceValue does not round-trip: %q %d %v", id, i, err)
	}
}

func TestHelp(t *testing.T) {
	if err := Validate(Help()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"`/renew SERVICE [PERIOD]`", "`/renew list [DAYS]`", "`/renew status`",
		"`/renew history [SERVICE]`", "`/renew help`", "`P1Y`", "`1y`", "`3m`", "`/renew \"example.com website\" 1y`",
	} {
		if !strings.Contains(HelpText(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}
