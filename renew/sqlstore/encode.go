package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// Times are stored as nanoseconds since the Unix epoch: exact round trips
// of Go times on both databases (PostgreSQL's timestamptz keeps only
// microseconds), the same integer comparisons in both dialects, and no
// time zone to get wrong. The zero time is NULL.

// minTime and maxTime bound what an int64 of nanoseconds can hold.
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// nanos encodes t for a nullable time column.
func nanos(t time.Time) (sql.NullInt64, error) {
	if t.IsZero() {
		return sql.NullInt64{}, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return sql.NullInt64{}, fmt.Errorf("sqlstore: time %s out of range", t.Format(time.RFC3339))
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}, nil
}

// fromNanos decodes a time column; NULL is the zero time.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// The JSON documents below are sqlstore's storage format, decoupled from
// the domain types: renaming a field in package renew must not silently
// turn stored values into zeros. Add fields freely; never rename a tag.

type serviceDoc struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	Product     string    `json:"product,omitempty"`
	State       string    `json:"state,omitempty"`
	Route       string    `json:"route,omitempty"`
	Expiration  time.Time `json:"expiration"`
	RenewMode   string    `json:"renew_mode,omitempty"`
	RenewPeriod string    `json:"renew_period,omitempty"`
	Billing     string    `json:"billing,omitempty"`
}

type moneyDoc struct {
	Ucents   int64  `json:"ucents"`
	Currency string `json:"currency,omitempty"`
	Text     string `json:"text,omitempty"`
}

type detailDoc struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name,omitempty"`
	Type       string    `json:"type,omitempty"`
	Expiration time.Time `json:"expiration,omitzero"`
}

type strategyDoc struct {
	Months   int         `json:"months,omitempty"`
	Days     int         `json:"days,omitempty"`
	Services []int64     `json:"services,omitempty"`
	Details  []detailDoc `json:"details,omitempty"`
	Price    moneyDoc    `json:"price"`
}

type orderDoc struct {
	Date            time.Time `json:"date"`
	Expiration      time.Time `json:"expiration"`
	PriceWithoutTax moneyDoc  `json:"price_without_tax"`
	Tax             moneyDoc  `json:"tax"`
	PriceWithTax    moneyDoc  `json:"price_with_tax"`
}

func toServiceDoc(s renew.Service) serviceDoc {
	return serviceDoc{
		ID: s.ID, Name: s.Name, DisplayName: s.DisplayName, Product: s.Product,
		State: s.State, Route: s.Route, Expiration: s.Expiration,
		RenewMode: s.RenewMode, RenewPeriod: s.RenewPeriod, Billing: s.Billing,
	}
}

func (d serviceDoc) service() renew.Service {
	return renew.Service{
		ID: d.ID, Name: d.Name, DisplayName: d.DisplayName, Product: d.Product,
		State: d.State, Route: d.Route, Expiration: d.Expiration,
		RenewMode: d.RenewMode, RenewPeriod: d.RenewPeriod, Billing: d.Billing,
	}
}

func toMoneyDoc(m renew.Money) moneyDoc {
	return moneyDoc{Ucents: m.Ucents, Currency: m.Currency, Text: m.Text}
}

func (d moneyDoc) money() renew.Money {
	return renew.Money{Ucents: d.Ucents, Currency: d.Currency, Text: d.Text}
}

func toStrategyDoc(s renew.Strategy) strategyDoc {
	d := strategyDoc{
		Months: s.Period.Months, Days: s.Period.Days,
		Services: s.Services, Price: toMoneyDoc(s.Price),
	}
	for _, x := range s.Details {
		d.Details = append(d.Details, detailDoc(x))
	}
	return d
}

func (d strategyDoc) strategy() renew.Strategy {
	s := renew.Strategy{
		Period:   renew.Period{Months: d.Months, Days: d.Days},
		Services: d.Services,
		Price:    d.Price.money(),
	}
	for _, x := range d.Details {
		s.Details = append(s.Details, renew.ServiceDetail(x))
	}
	return s
}

func toOrderDoc(o renew.Order) orderDoc {
	return orderDoc{
		Date: o.Date, Expiration: o.Expiration,
		PriceWithoutTax: toMoneyDoc(o.PriceWithoutTax),
		Tax:             toMoneyDoc(o.Tax),
		PriceWithTax:    toMoneyDoc(o.PriceWithTax),
	}
}

func (d orderDoc) order(id int64) *renew.Order {
	return &renew.Order{
		ID: id, Date: d.Date, Expiration: d.Expiration,
		PriceWithoutTax: d.PriceWithoutTax.money(),
		Tax:             d.Tax.money(),
		PriceWithTax:    d.PriceWithTax.money(),
	}
}

// row is a request as its columns hold it.
type row struct {
	ID           string
	Version      int64
	State        string
	Channel      string
	MessageTS    string
	InitiatedBy  string
	RequestedBy  string
	ServiceID    int64
	ServiceName  string
	Service      string
	Options      string
	Chosen       sql.NullString
	OrderID      sql.NullInt64
	Order        sql.NullString
	OrderStatus  string
	PaidBy       string
	PaidAt       sql.NullInt64
	CancelledBy  string
	CancelReason string
	Error        string
	DryRun       bool
	CreatedAt    sql.NullInt64
	UpdatedAt    sql.NullInt64
	ExpiresAt    sql.NullInt64
	Attempt      int64
	PaySentAt    sql.NullInt64
	ClaimedAt    sql.NullInt64
	// AmountUcents is the order's price with tax, for the budget's sums.
	AmountUcents sql.NullInt64
}

// requestColumns are the columns of the requests table, in the order of
// row's fields.
var requestColumns = []string{
	"id", "version", "state", "channel", "message_ts", "initiated_by", "requested_by",
	"service_id", "service_name", "service", "options", "chosen", "order_id", "order_json", "order_status",
	"paid_by", "paid_at", "cancelled_by", "cancel_reason", "error", "dry_run", "created_at", "updated_at", "expires_at",
	"attempt", "pay_sent_at", "claimed_at", "amount_ucents",
}

// columnList returns requestColumns as a select list, each qualified with
// alias when it is not empty.
func columnList(alias string) string {
	if alias == "" {
		return strings.Join(requestColumns, ", ")
	}
	return alias + "." + strings.Join(requestColumns, ", "+alias+".")
}

// dest returns pointers to the fields of r, in the order of requestColumns.
func (r *row) dest() []any {
	return []any{&r.ID, &r.Version, &r.State, &r.Channel, &r.MessageTS, &r.InitiatedBy, &r.RequestedBy,
		&r.ServiceID, &r.ServiceName, &r.Service, &r.Options, &r.Chosen, &r.OrderID, &r.Order, &r.OrderStatus,
		&r.PaidBy, &r.PaidAt, &r.CancelledBy, &r.CancelReason, &r.Error, &r.DryRun, &r.CreatedAt, &r.UpdatedAt, &r.ExpiresAt,
		&r.Attempt, &r.PaySentAt, &r.ClaimedAt, &r.AmountUcents}
}

// args returns the values of r, in the order of requestColumns.
func (r *row) args() []any {
	return []any{r.ID, r.Version, r.State, r.Channel, r.MessageTS, r.InitiatedBy, r.RequestedBy,
		r.ServiceID, r.ServiceName, r.Service, r.Options, r.Chosen, r.OrderID, r.Order, r.OrderStatus,
		r.PaidBy, r.PaidAt, r.CancelledBy, r.CancelReason, r.Error, r.DryRun, r.CreatedAt, r.UpdatedAt, r.ExpiresAt,
		r.Attempt, r.PaySentAt, r.ClaimedAt, r.AmountUcents}
}

// encodeRequest turns a request into its columns. Approvals are rows of
// their own and are not part of it.
func encodeRequest(r *renew.Request) (*row, error) {
	if r.ID == "" {
		return nil, fmt.Errorf("sqlstore: request without an id")
	}
	if r.State == "" {
		return nil, fmt.Errorf("sqlstore: request %s without a state", r.ID)
	}
	w := &row{
		ID: r.ID, Version: r.Version, State: string(r.State),
		Channel: r.Channel, MessageTS: r.MessageTS,
		InitiatedBy: r.InitiatedBy, RequestedBy: r.RequestedBy,
		ServiceID: r.Service.ID, ServiceName: r.Service.Name,
		OrderStatus: string(r.OrderStatus), PaidBy: r.PaidBy,
		CancelledBy: r.CancelledBy, CancelReason: r.CancelReason, Error: r.Error,
		DryRun: r.DryRun, Attempt: int64(r.Attempt),
	}
	b, err := json.Marshal(toServiceDoc(r.Service))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode service: %w", err)
	}
	w.Service = string(b)
	opts := make([]strategyDoc, len(r.Options))
	for i, o := range r.Options {
		opts[i] = toStrategyDoc(o)
	}
	if b, err = json.Marshal(opts); err != nil {
		return nil, fmt.Errorf("sqlstore: encode options: %w", err)
	}
	w.Options = string(b)
	if r.Chosen != nil {
		if b, err = json.Marshal(toStrategyDoc(*r.Chosen)); err != nil {
			return nil, fmt.Errorf("sqlstore: encode chosen strategy: %w", err)
		}
		w.Chosen = sql.NullString{String: string(b), Valid: true}
	}
	if r.Order != nil {
		if b, err = json.Marshal(toOrderDoc(*r.Order)); err != nil {
			return nil, fmt.Errorf("sqlstore: encode order: %w", err)
		}
		w.OrderID = sql.NullInt64{Int64: r.Order.ID, Valid: true}
		w.Order = sql.NullString{String: string(b), Valid: true}
		w.AmountUcents = sql.NullInt64{Int64: r.Order.PriceWithTax.Ucents, Valid: true}
	}
	for _, t := range []struct {
		dst *sql.NullInt64
		src time.Time
	}{{&w.PaidAt, r.PaidAt}, {&w.CreatedAt, r.CreatedAt}, {&w.UpdatedAt, r.UpdatedAt}, {&w.ExpiresAt, r.ExpiresAt}, {&w.PaySentAt, r.PaySentAt}, {&w.ClaimedAt, r.ClaimedAt}} {
		if *t.dst, err = nanos(t.src); err != nil {
			return nil, fmt.Errorf("sqlstore: request %s: %w", r.ID, err)
		}
	}
	if !w.CreatedAt.Valid || !w.UpdatedAt.Valid {
		return nil, fmt.Errorf("sqlstore: request %s without CreatedAt or UpdatedAt", r.ID)
	}
	return w, nil
}

// decode turns columns back into a request, without its approvals.
func (w *row) decode() (*renew.Request, error) {
	r := &renew.Request{
		ID: w.ID, Version: w.Version, State: renew.State(w.State),
		Channel: w.Channel, MessageTS: w.MessageTS,
		InitiatedBy: w.InitiatedBy, RequestedBy: w.RequestedBy,
		OrderStatus: renew.OrderStatus(w.OrderStatus), PaidBy: w.PaidBy, PaidAt: fromNanos(w.PaidAt),
		CancelledBy: w.CancelledBy, CancelReason: w.CancelReason, Error: w.Error,
		DryRun:    w.DryRun,
		CreatedAt: fromNanos(w.CreatedAt), UpdatedAt: fromNanos(w.UpdatedAt), ExpiresAt: fromNanos(w.ExpiresAt),
		Attempt: int(w.Attempt), PaySentAt: fromNanos(w.PaySentAt), ClaimedAt: fromNanos(w.ClaimedAt),
	}
	var svc serviceDoc
	if err := json.Unmarshal([]byte(w.Service), &svc); err != nil {
		return nil, fmt.Errorf("sqlstore: request %s: decode service: %w", w.ID, err)
	}
	r.Service = svc.service()
	var opts []strategyDoc
	if err := json.Unmarshal([]byte(w.Options), &opts); err != nil {
		return nil, fmt.Errorf("sqlstore: request %s: decode options: %w", w.ID, err)
	}
	for _, o := range opts {
		r.Options = append(r.Options, o.strategy())
	}
	if w.Chosen.Valid {
		var c strategyDoc
		if err := json.Unmarshal([]byte(w.Chosen.String), &c); err != nil {
			return nil, fmt.Errorf("sqlstore: request %s: decode chosen strategy: %w", w.ID, err)
		}
		s := c.strategy()
		r.Chosen = &s
	}
	if w.Order.Valid {
		var o orderDoc
		if err := json.Unmarshal([]byte(w.Order.String), &o); err != nil {
			return nil, fmt.Errorf("sqlstore: request %s: decode order: %w", w.ID, err)
		}
		r.Order = o.order(w.OrderID.Int64)
	}
	return r, nil
}
