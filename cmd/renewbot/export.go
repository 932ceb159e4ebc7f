package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// exportHeader names the columns of `renewbot export`, one row per
// payment.
var exportHeader = []string{"paid at", "service", "product", "period", "order id",
	"price without tax", "tax", "price with tax", "currency", "requester", "approvers"}

// maxExportMonths bounds one export: ten years.
const maxExportMonths = 120

const exportUsage = "usage: renewbot export --from YYYY-MM [--to YYYY-MM]"

// export is `renewbot export --from YYYY-MM --to YYYY-MM`: the payments of
// those months (both included) as CSV on stdout, for accounting. A payment
// belongs to the month it was approved in, in RENEWBOT_TIMEZONE, as for
// the budget; payments whose outcome is not known yet are left out, and
// counted on stderr.
func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fromFlag := fs.String("from", "", "first month, YYYY-MM")
	toFlag := fs.String("to", "", "last month, YYYY-MM (default: --from)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *fromFlag == "" {
		return errors.New(exportUsage)
	}
	c, err := loadEnv()
	if err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	zone := c.TimeZone.Location
	from, err := renew.ParseMonth(*fromFlag, zone)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to := from
	if *toFlag != "" {
		if to, err = renew.ParseMonth(*toFlag, zone); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	months := (to.Year-from.Year)*12 + int(to.Month-from.Month) + 1
	switch {
	case months < 1:
		return fmt.Errorf("--to %s is before --from %s", to, from)
	case months > maxExportMonths:
		return fmt.Errorf("%d months from %s to %s: export at most %d at once", months, from, to, maxExportMonths)
	}
	store, err := sqlstore.Open(ctx, c.DatabaseURL, sqlstore.Existing()) // a wrong path creates nothing
	if err != nil {
		return fmt.Errorf("RENEWBOT_DATABASE_URL: %w", err)
	}
	defer store.Close()
	rn := &renew.Renewer{Store: store, Policy: &renew.Policy{}, Budget: c.budget(), Now: store.Now}
	w := newExportWriter(stdout, zone)
	unsettled := 0
	for m := from; months > 0; m, months = m.Next(), months-1 {
		s, err := rn.Spending(ctx, m)
		if err != nil {
			return err
		}
		// Oldest first, as a ledger reads.
		for _, r := range slices.Backward(s.Payments) {
			if !paid(r.State) {
				unsettled++
				continue
			}
			if err := w.payment(r); err != nil {
				return err
			}
		}
	}
	if err := w.flush(); err != nil {
		return fmt.Errorf("write the CSV: %w", err)
	}
	if unsettled > 0 {
		fmt.Fprintf(stderr, "renewbot export: %d payments being made or of unknown outcome left out; they count against the budget until OVHcloud says whether they were paid.\n", unsettled)
	}
	return nil
}

// paid reports whether OVHcloud took the payment of a request in state s.
func paid(s renew.State) bool {
	return s == renew.StatePaid || s == renew.StateDelivered || s == renew.StatePaidUnconfirmed
}

// exportWriter writes payments as CSV rows (encoding/csv quotes what
// needs quoting), times in zone.
type exportWriter struct {
	w      *csv.Writer
	zone   *time.Location
	header bool
}

func newExportWriter(out io.Writer, zone *time.Location) *exportWriter {
	if zone == nil {
		zone = time.UTC
	}
	return &exportWriter{w: csv.NewWriter(out), zone: zone}
}

func (e *exportWriter) payment(r *renew.Request) error {
	if !e.header {
		if err := e.w.Write(exportHeader); err != nil {
			return err
		}
		e.header = true
	}
	var o renew.Order
	if r.Order != nil {
		o = *r.Order
	}
	period := ""
	if r.Chosen != nil {
		period = r.Chosen.Period.ISO()
	}
	var approvers []string
	for _, a := range r.Approvals {
		approvers = append(approvers, a.User)
	}
	paidAt := ""
	if !r.PaidAt.IsZero() {
		paidAt = r.PaidAt.In(e.zone).Format(time.RFC3339)
	}
	return e.w.Write([]string{
		paidAt,
		cell(r.Service.Name),
		cell(r.Service.Product),
		period,
		fmt.Sprint(o.ID),
		renew.FormatUcents(o.PriceWithoutTax.Ucents),
		renew.FormatUcents(o.Tax.Ucents),
		renew.FormatUcents(o.PriceWithTax.Ucents),
		cell(o.PriceWithTax.Currency),
		cell(r.RequestedBy),
		cell(strings.Join(approvers, " ")),
	})
}

// flush writes the header even when there is no payment, and flushes.
func (e *exportWriter) flush() error {
	if !e.header {
		if err := e.w.Write(exportHeader); err != nil {
			return err
		}
		e.header = true
	}
	e.w.Flush()
	return e.w.Error()
}

// cell keeps a text from OVHcloud or Slack from being read as a formula
// by a spreadsheet (CSV injection): one starting with =, +, -, @, a tab
// or a carriage return gets a leading apostrophe, as OWASP advises.
// encoding/csv quotes the rest (commas, quotes, line breaks).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
