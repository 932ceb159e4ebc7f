package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on any machine

	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// The monthly budget end to end: exactly at the budget pays, a cent over
// does not and says what is left; /renew spend, the gauge and the export
// tell what was spent.
func TestMonthlyBudget(t *testing.T) {
	h := newHarness(t, map[string]string{
		"RENEWBOT_MONTHLY_BUDGET": "95.03", "RENEWBOT_TIMEZONE": "Europe/Paris", "RENEWBOT_SWEEP_EVERY": "100ms",
	})
	m := h.orderFor(alice, "web-front", "1 year") // 95.04 € with tax
	txt := blockText(m.Raw)
	for _, want := range []string{"Budget left in ", "*95.03 €* of 95.03 € with tax", "This order, 95.04 € with tax, is above it"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the approval message lacks %q:\n%s", want, txt)
		}
	}
	approve := h.find(m, "approve", "")
	h.click(bob, m.TS, "approve", approve.Value)
	refusal := h.ephemeral(bob, "over the monthly budget")
	if !strings.Contains(refusal.Text, "95.03 € is left of 95.03 €") || !strings.Contains(refusal.Text, "Nothing was paid") {
		t.Errorf("the refusal does not say what is left: %q", refusal.Text)
	}
	settle()
	if n := h.payCalls(); n != 0 {
		t.Fatalf("%d pay calls one cent over the budget", n)
	}
	if !hasAction(h.message(1, "Waiting for approval"), "approve") {
		t.Fatal("a refused approval changed the request")
	}

	// A budget of exactly the order's price: it pays.
	h.env["RENEWBOT_MONTHLY_BUDGET"] = "95.04"
	h.restart()
	h.click(bob, m.TS, "approve", approve.Value)
	h.message(1, "Paid", bob)
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls exactly at the budget, want 1", n)
	}

	h.eventually("the gauge at zero", func() bool {
		_, body := get(t, h.admin+"/metrics")
		return strings.Contains(body, "renewbot_budget_remaining 0\n")
	})

	h.command(carol, "spend")
	spend := h.ephemeral(carol, "Spent in ")
	for _, want := range []string{"95.04 €", "By product", "VPS Value 1-2-40: 95.04 € (1 renewal)", "<@" + alice + ">: 95.04 €", "<@" + bob + ">: 95.04 €", "*Left*\n0.00 €"} {
		if !strings.Contains(blockText(spend.Raw), want) {
			t.Errorf("/renew spend lacks %q:\n%s", want, blockText(spend.Raw))
		}
	}
	if got := h.command(carol, "spend 2026-13"); !strings.Contains(got, "`2026-13` is not a month") || strings.Count(got, "\n") != 1 {
		t.Errorf("/renew spend 2026-13: %q", got)
	}

	// The export, over three months around now: whatever the calendar
	// says, the payment is in it, once.
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	var out, errOut bytes.Buffer
	from, to := now.AddDate(0, -1, -now.Day()+1).Format("2006-01"), now.AddDate(0, 1, -now.Day()+1).Format("2006-01")
	if err := run(context.Background(), []string{"export", "--from", from, "--to", to}, &out, &errOut); err != nil {
		t.Fatalf("export: %v\n%s", err, errOut.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("export: %v, %d rows:\n%s", err, len(rows), out.String())
	}
	if !reflect.DeepEqual(rows[0], exportHeader) {
		t.Fatalf("header %q", rows[0])
	}
	row := rows[1]
	paidAt, err := time.Parse(time.RFC3339, row[0])
	if err != nil || paidAt.Location().String() == "UTC" && paidAt.Format("-07:00") != "+00:00" {
		t.Errorf("paid at %q: %v", row[0], err)
	}
	if want := []string{"vps-1.example.net", "VPS Value 1-2-40", "P1Y", "123456789", "79.20", "15.84", "95.04", "EUR", alice, bob}; !reflect.DeepEqual(row[1:], want) {
		t.Errorf("row %q, want %q", row[1:], want)
	}
}

// Two orders that each fit the month's budget, not both, approved at the
// same moment on two replicas: one is paid, never both.
func TestBudgetRaceOnTwoReplicas(t *testing.T) {
	url := postgresURL(t)
	h := newHarness(t, map[string]string{"RENEWBOT_DATABASE_URL": url, "RENEWBOT_MONTHLY_BUDGET": "200"})
	second := h.replica(t)
	web := h.orderFor(alice, "web-front", "1 year") // 95.04 €
	api := h.orderFor(alice, "api-back", "1 year")  // 165.60 €
	webApprove, apiApprove := h.find(web, "approve", "").Value, h.find(api, "approve", "").Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 10 {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				h.post("/slack/interactions", h.slack.Click(channel, web.TS, bob, "approve", webApprove))
			} else {
				second.post("/slack/interactions", h.slack.Click(channel, api.TS, carol, "approve", apiApprove))
			}
		})
	}
	close(start)
	wg.Wait()
	h.eventually("one payment and one refusal", func() bool {
		return h.payCalls() == 1 && (len(h.slack.Responses(bob))+len(h.slack.Responses(carol))) > 0
	})
	settle()
	if n := h.payCalls(); n != 1 {
		t.Fatalf("%d pay calls for two orders of 95.04 and 165.60 under a 200 budget, want 1", n)
	}
	refused := false
	for _, u := range []string{bob, carol} {
		for _, r := range h.slack.Responses(u) {
			refused = refused || strings.Contains(r.Text, "over the monthly budget")
		}
	}
	if !refused {
		t.Fatal("nobody was told the budget refused their approval")
	}
}

// What RENEWBOT_MONTHLY_BUDGET, RENEWBOT_TIMEZONE and
// RENEWBOT_HOME_CHANNEL refuse, in one line naming the variable.
func TestBudgetConfigErrors(t *testing.T) {
	for env, want := range map[string]string{
		"RENEWBOT_MONTHLY_BUDGET=lots":    `RENEWBOT_MONTHLY_BUDGET: "lots" is not a positive amount`,
		"RENEWBOT_MONTHLY_BUDGET=-5":      `RENEWBOT_MONTHLY_BUDGET: "-5" is not a positive amount`,
		"RENEWBOT_TIMEZONE=Mars/Olympus":  `RENEWBOT_TIMEZONE: "Mars/Olympus" is not a time zone like Europe/Paris or UTC`,
		"RENEWBOT_TIMEZONE=Local":         `RENEWBOT_TIMEZONE: "Local" is not a time zone`,
		"RENEWBOT_HOME_CHANNEL=#ops":      `RENEWBOT_HOME_CHANNEL: "#ops" is not a channel id`,
		"RENEWBOT_HOME_CHANNEL=C0OTHER01": "RENEWBOT_HOME_CHANNEL: C0OTHER01 is not one of RENEWBOT_CHANNELS",
	} {
		t.Run(env, func(t *testing.T) {
			base := map[string]string{
				"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "OVH_ENDPOINT": "ovh-eu",
				"OVH_APPLICATION_KEY": "k", "OVH_APPLICATION_SECRET": "s", "OVH_CONSUMER_KEY": "c",
				"RENEWBOT_DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db", "RENEWBOT_ADDR": "127.0.0.1:0",
				"RENEWBOT_CHANNELS": "C0OPS0001",
			}
			k, v, _ := strings.Cut(env, "=")
			base[k] = v
			for k, v := range base {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("run = %v; want one line with %q", err, want)
			}
		})
	}
}

// export refuses bad months in one line, and writes its header even for
// a month without payments.
func TestExportArguments(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	t.Setenv("RENEWBOT_DATABASE_URL", "sqlite:"+db)
	for args, want := range map[string]string{
		"":                            exportUsage,
		"--to 2026-11":                exportUsage,
		"--from 2026-13":              `--from: invalid month: "2026-13", want YYYY-MM like 2026-11`,
		"--from 2026-11 --to 2026-10": "--to 2026-10 is before --from 2026-11",
		"--from 2000-01 --to 2026-11": "323 months from 2000-01 to 2026-11: export at most 120 at once",
		"--from 2026-11 extra":        exportUsage,
	} {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"export"}, strings.Fields(args)...), &out, io.Discard)
		if err == nil || err.Error() != want || out.Len() > 0 {
			t.Errorf("export %s: %v (wrote %q), want %q", args, err, out.String(), want)
		}
	}
	// A database that is not there is a wrong path: said, and not created.
	var out bytes.Buffer
	err := run(context.Background(), []string{"export", "--from", "2026-11"}, &out, io.Discard)
	if want := "RENEWBOT_DATABASE_URL: no database at " + db; err == nil || err.Error() != want || !errors.Is(err, sqlstore.ErrNoDatabase) || out.Len() > 0 {
		t.Fatalf("export from a missing database: %v (wrote %q), want %q", err, out.String(), want)
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("export created %s: %v", db, err)
	}
	st, err := sqlstore.Open(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := run(context.Background(), []string{"export", "--from", "2026-11"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != strings.Join(exportHeader, ",")+"\n" {
		t.Fatalf("an empty month: %q", got)
	}
}

// The CSV has its header and quotes what OVHcloud and people write:
// commas, quotes, line breaks; a cell a spreadsheet would read as a
// formula is defused.
func TestExportCSVQuoting(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	money := func(cents int64) renew.Money {
		return renew.Money{Ucents: cents * renew.UcentsPerUnit / 100, Currency: "EUR"}
	}
	r := &renew.Request{
		State:       renew.StatePaid,
		Service:     renew.Service{Name: `web, "front"` + "\nline 2", Product: `=HYPERLINK("http://evil.example","x")`},
		Chosen:      &renew.Strategy{Period: renew.Period{Months: 12}},
		Order:       &renew.Order{ID: 42, PriceWithoutTax: money(7920), Tax: money(1584), PriceWithTax: money(9504)},
		RequestedBy: "U0ALICE01",
		Approvals:   []renew.Approval{{User: "U0BOB0001"}, {User: "U0CAROL01"}},
		PaidAt:      time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC),
	}
	var out bytes.Buffer
	w := newExportWriter(&out, paris)
	if err := w.payment(r); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	raw := out.String()
	wantLine := `2026-12-01T00:30:00+01:00,"web, ""front""` + "\nline 2" + `","'=HYPERLINK(""http://evil.example"",""x"")",P1Y,42,79.20,15.84,95.04,EUR,U0ALICE01,U0BOB0001 U0CAROL01` + "\n"
	if raw != strings.Join(exportHeader, ",")+"\n"+wantLine {
		t.Fatalf("CSV:\n%s\nwant the header and:\n%s", raw, wantLine)
	}
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != r.Service.Name || rows[1][2] != "'"+r.Service.Product {
		t.Fatalf("read back: %v %q", err, rows)
	}
}

// When a payment is claimed, the other requests' messages stop showing
// the budget left before it: they are redrawn with what is left now.
func TestBudgetLeftRedrawnOnOtherRequests(t *testing.T) {
	h := newHarness(t, map[string]string{"RENEWBOT_MONTHLY_BUDGET": "200"})
	web := h.orderFor(alice, "web-front", "1 year") // 95.04 €
	api := h.orderFor(alice, "api-back", "1 month") // 14.40 €
	if !strings.Contains(blockText(api.Raw), "*200.00 €* of 200.00 €") {
		t.Fatalf("api-back's message before any payment:\n%s", blockText(api.Raw))
	}
	h.click(bob, web.TS, "approve", h.find(web, "approve", "").Value)
	h.message(1, "Paid")
	h.message(2, "*104.96 €* of 200.00 €")
}
