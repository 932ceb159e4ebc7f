package renew

import (
	"context"
	"time"
)

// Service is an OVHcloud service as the bot shows it (GET /services/{id}).
type Service struct {
	ID          int64
	Name        string // resource.name, e.g. vps-1.example.net
	DisplayName string // resource.displayName, e.g. web-front
	Product     string // resource.product.description (or name)
	State       string // resource.state: active, suspended, deleted...
	Route       string // route.path, e.g. /vps/{serviceName}
	Expiration  time.Time
	RenewMode   string // billing.renew.current.mode: automatic or manual
	RenewPeriod string // billing.renew.current.period, e.g. P1M
	Billing     string // billing.lifecycle.current.state
}

// DaysLeft counts whole days from now to the expiry, negative once expired.
func (s Service) DaysLeft(now time.Time) int {
	return DaysBetween(now, s.Expiration)
}

// DaysBetween counts calendar days from a to b in b's time zone, so an
// expiry "2026-12-20T00:00:00+01:00" is 24 days after 2026-11-26 wherever
// the bot runs.
func DaysBetween(a, b time.Time) int {
	loc := b.Location()
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// ServiceDetail is one service renewed by a strategy.
type ServiceDetail struct {
	ID   int64
	Name string
	Type string // e.g. "Domain .ovh", "Hosting Perso 2014"
	// Expiration is the service's expiry when the strategy was chosen
	// (zero when not read): paying checks it has not moved since.
	Expiration time.Time
}

// Strategy is one combination of services renewed together for a period,
// with its price without tax.
type Strategy struct {
	Period   Period
	Services []int64
	Details  []ServiceDetail
	Price    Money
}

// SameAs reports whether two strategies renew the same services for the
// same period, whatever their order or price.
func (s Strategy) SameAs(o Strategy) bool {
	if s.Period != o.Period || len(s.Services) != len(o.Services) {
		return false
	}
	seen := make(map[int64]int, len(s.Services))
	for _, id := range s.Services {
		seen[id]++
	}
	for _, id := range o.Services {
		if seen[id] == 0 {
			return false
		}
		seen[id]--
	}
	return true
}

// Order is a renew order created by POST /service/{id}/renew. Its
// password, url and pdfUrl grant access to the order document: the adapter
// does not even keep them.
type Order struct {
	ID              int64
	Date            time.Time
	Expiration      time.Time
	PriceWithoutTax Money
	Tax             Money
	PriceWithTax    Money
}

// OrderStatus is GET /me/order/{id}/status.
type OrderStatus string

const (
	OrderNotPaid            OrderStatus = "notPaid"
	OrderChecking           OrderStatus = "checking"
	OrderDelivering         OrderStatus = "delivering"
	OrderDelivered          OrderStatus = "delivered"
	OrderCancelled          OrderStatus = "cancelled"
	OrderCancelling         OrderStatus = "cancelling"
	OrderDocumentsRequested OrderStatus = "documentsRequested"
	OrderUnknown            OrderStatus = "unknown"
)

// Paid reports whether OVHcloud has taken the payment.
func (s OrderStatus) Paid() bool {
	return s == OrderChecking || s == OrderDelivering || s == OrderDelivered
}

// OrderInput is the body of POST /service/{id}/renew.
type OrderInput struct {
	Period   Period
	Services []int64
	DryRun   bool
}

// Payment says how orders are paid (RENEWBOT_PAYMENT).
type Payment struct {
	// Mean is empty for the account's default payment method
	// (POST /me/order/{id}/pay), else a registered payment mean
	// (POST /me/order/{id}/payWithRegisteredPaymentMean).
	Mean   string
	MeanID int64 // 0 when not given
}

// OVHcloud is what the domain calls on OVHcloud's API. renew/ovhcloud
// implements it over go-ovh.
type OVHcloud interface {
	// ServiceIDs lists service ids, all of them when resourceName is "".
	ServiceIDs(ctx context.Context, resourceName string) ([]int64, error)
	Service(ctx context.Context, id int64) (Service, error)
	Strategies(ctx context.Context, id int64) ([]Strategy, error)
	CreateOrder(ctx context.Context, serviceID int64, in OrderInput) (Order, error)
	OrderStatus(ctx context.Context, orderID int64) (OrderStatus, error)
	DefaultPaymentMethod(ctx context.Context) (int64, error)
	PayOrder(ctx context.Context, orderID, paymentMethodID int64) error
	PayWithMean(ctx context.Context, orderID int64, mean string, meanID int64) error
}
