package ovhfake

import (
	"slices"
	"strconv"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
)

// Service is one service of the account, as GET /services/{id} shows it.
type Service struct {
	ID       int64
	ParentID int64 // parentServiceId; 0 is null

	Name        string // resource.name, e.g. vps-1.example.net
	DisplayName string // resource.displayName (defaults to Name)
	State       string // resource.state (default active)
	Product     string // resource.product.name, e.g. vps-value-1-2-40
	ProductText string // resource.product.description
	// Type is how a strategy's servicesDetails name the service, e.g.
	// "Domain .com", "Hosting Perso 2014", "VPS".
	Type string

	// RoutePath is route.path, e.g. /vps/{serviceName}; route.url and
	// route.vars are derived from it and Name.
	RoutePath string

	Expiration time.Time
	// RenewMode is billing.renew.current.mode: manual (default) or
	// automatic.
	RenewMode   string
	RenewPeriod string // billing.renew.current.period, e.g. P1M
	// Lifecycle is billing.lifecycle.current.state (default active).
	Lifecycle string
	Tags      []string
}

// Strategy is one way to renew a service: the services renewed together
// for a period, at a price without tax.
type Strategy struct {
	Period   string  // ISO 8601, e.g. P1Y
	Services []int64 // in OVHcloud's order; the first is not special
	Price    int64   // micro-cents (1 € = 100,000,000)
	Currency string  // default EUR
}

// PaymentMethod is one entry of /me/payment/method (me.payment.PaymentMethod).
type PaymentMethod struct {
	ID int64 // paymentMethodId: what POST /me/order/{id}/pay takes
	// MeanID is paymentMeanId, the legacy payment mean's id that
	// payWithRegisteredPaymentMean takes (mandatory for bankAccount,
	// creditCard and paypal); 0 is null.
	MeanID      int64
	Type        string // paymentType: CREDIT_CARD, BANK_ACCOUNT, PAYPAL...
	Label       string
	Description string
	Status      string // VALID (default), EXPIRED, ...
	Default     bool
	Expiration  time.Time // zero is null
}

// Order is a renew order the fake created.
type Order struct {
	ID         int64
	ServiceID  int64 // the service the renew call named
	Duration   string
	Services   []int64
	Date       time.Time
	Expiration time.Time
	// Amounts in micro-cents, rounded to the cent like OVHcloud's.
	PriceWithoutTax, Tax, PriceWithTax int64
	Currency                           string
	Password                           string

	// Set once paid.
	PaidAt time.Time
	// PaidWith says how: "method:42" for /pay, "mean:creditCard:42" for
	// payWithRegisteredPaymentMean.
	PaidWith string
	// PayAttempts counts pay calls for this order, refused ones included:
	// more than one means something tried to pay twice.
	PayAttempts int

	forced      string // status set by SetOrderStatus
	statusReads int
	delivered   bool // its services' expiry was moved
}

// Paid reports whether the order was paid.
func (o Order) Paid() bool { return !o.PaidAt.IsZero() }

// Credential is what GET /auth/currentCredential describes.
type Credential struct {
	ID            int64
	ApplicationID int64
	Status        string // validated, pendingValidation, expired, refused
	Rules         []Rule
	Creation      time.Time // zero: the fake's start
	Expiration    time.Time // zero is null (never)
	AllowedIPs    []string
}

// Rule is one access rule of a consumer key. A "*" in Path matches any
// text, slashes included, as in OVHcloud's rules ("/service/*/renew").
type Rule struct {
	Method string
	Path   string
}

// NeededRules are the access rules renewbot's consumer key needs
// (ovh-api.md).
func NeededRules() []Rule {
	return []Rule{
		{"GET", "/services"},
		{"GET", "/services/*"},
		{"GET", "/service/*"},
		{"POST", "/service/*/renew"},
		{"GET", "/me/payment/method"},
		{"GET", "/me/payment/method/*"},
		{"GET", "/me/order/*"},
		{"POST", "/me/order/*/pay"},
		{"POST", "/me/order/*/payWithRegisteredPaymentMean"},
	}
}

// AddService adds or replaces a service, filling defaults.
func (s *Server) AddService(svc Service) {
	if svc.DisplayName == "" {
		svc.DisplayName = svc.Name
	}
	if svc.State == "" {
		svc.State = "active"
	}
	if svc.RenewMode == "" {
		svc.RenewMode = "manual"
	}
	if svc.Lifecycle == "" {
		svc.Lifecycle = "active"
	}
	if svc.RoutePath == "" {
		svc.RoutePath = "/vps/{serviceName}"
	}
	svc.Tags = slices.Clone(svc.Tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.services[svc.ID]; !ok {
		s.serviceOrder = append(s.serviceOrder, svc.ID)
	}
	s.services[svc.ID] = &svc
}

// RemoveService deletes a service and its strategies.
func (s *Server) RemoveService(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.services, id)
	delete(s.strategies, id)
	s.serviceOrder = slices.DeleteFunc(s.serviceOrder, func(x int64) bool { return x == id })
}

// Service returns a service as the fake holds it.
func (s *Server) Service(id int64) (Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[id]
	if !ok {
		return Service{}, false
	}
	return *svc, true
}

// SetStrategies replaces the renewal strategies offered for service id
// (what GET /service/{id}/renew lists and POST accepts). Periods are
// listed in the order of their first strategy.
func (s *Server) SetStrategies(id int64, strategies ...Strategy) {
	out := make([]Strategy, len(strategies))
	for i, st := range strategies {
		st.Services = slices.Clone(st.Services)
		if st.Currency == "" {
			st.Currency = "EUR"
		}
		out[i] = st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.strategies[id] = out
}

// Strategies returns the strategies offered for service id.
func (s *Server) Strategies(id int64) []Strategy {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.strategies[id])
	for i := range out {
		out[i].Services = slices.Clone(out[i].Services)
	}
	return out
}

// AddPaymentMethod adds or replaces a payment method. Making one the
// default unsets the others.
func (s *Server) AddPaymentMethod(m PaymentMethod) {
	if m.Status == "" {
		m.Status = "VALID"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Default {
		for _, o := range s.methods {
			o.Default = false
		}
	}
	if _, ok := s.methods[m.ID]; !ok {
		s.methodOrder = append(s.methodOrder, m.ID)
	}
	s.methods[m.ID] = &m
}

// RemovePaymentMethod deletes a payment method.
func (s *Server) RemovePaymentMethod(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.methods, id)
	s.methodOrder = slices.DeleteFunc(s.methodOrder, func(x int64) bool { return x == id })
}

// SetPaymentMeans sets the registered payment means an order may be paid
// with (GET /me/order/{id}/availableRegisteredPaymentMean), e.g.
// "creditCard", "ovhAccount", "fidelityAccount".
func (s *Server) SetPaymentMeans(means ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.means = slices.Clone(means)
}

// SetCredential replaces what GET /auth/currentCredential describes. Its
// rules are enforced: a call none of them grants gets 403 "This call has
// not been granted". A nil Rules grants everything.
func (s *Server) SetCredential(c Credential) {
	c.Rules = slices.Clone(c.Rules)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credential = c
}

// SetNextOrderID sets the id the next renew order gets; ids then increment.
func (s *Server) SetNextOrderID(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextOrderID = id
}

// Orders returns the orders created so far (dry runs create none), oldest
// first.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, s.copyOrder(o))
	}
	slices.SortFunc(out, func(a, b Order) int { return int(a.ID - b.ID) })
	return out
}

// Order returns one order.
func (s *Server) Order(id int64) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return s.copyOrder(o), true
}

func (s *Server) copyOrder(o *Order) Order {
	c := *o
	c.Services = slices.Clone(o.Services)
	return c
}

// SetOrderStatus forces an order's status (e.g. "cancelled"); "" returns
// to the normal lifecycle. A forced status other than notPaid makes the
// order unpayable.
func (s *Server) SetOrderStatus(id int64, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if ok {
		o.forced = status
	}
	return ok
}

// OrderStatus is the order's status now, without counting as a read.
func (s *Server) OrderStatus(id int64) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return "", false
	}
	return s.statusOf(o, false), true
}

// statusOf computes the lifecycle: notPaid until paid, then checking,
// delivering and delivered, one step per StatusStep of the clock or, with
// StatusStep zero, one step per counted read.
func (s *Server) statusOf(o *Order, read bool) string {
	if o.forced != "" {
		return o.forced
	}
	if !o.Paid() || s.now().Before(o.PaidAt.Add(s.PaymentVisibleAfter)) {
		return "notPaid"
	}
	var step int64
	if s.StatusStep > 0 {
		step = int64(s.now().Sub(o.PaidAt) / s.StatusStep)
	} else {
		step = int64(o.statusReads)
		if read {
			o.statusReads++
		}
	}
	switch {
	case step <= 0:
		return "checking"
	case step == 1:
		return "delivering"
	}
	return "delivered"
}

// deliverDue moves the expiry of the services of every order that reached
// delivered, once, by the order's period: as OVHcloud does, so a renewal
// shows on the service. s.mu must be held.
func (s *Server) deliverDue() {
	for _, o := range s.orders {
		if o.delivered || !o.Paid() || s.statusOf(o, false) != "delivered" {
			continue
		}
		o.delivered = true
		for _, id := range o.Services {
			if svc := s.services[id]; svc != nil {
				svc.Expiration = addPeriod(svc.Expiration, o.Duration)
			}
		}
	}
}

// RenewElsewhere renews service id by period (ISO 8601, e.g. P1Y) outside
// the bot, as the Control Panel or an automatic renewal would: its expiry
// moves, and an order made before for it is stale.
func (s *Server) RenewElsewhere(id int64, period string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[id]
	if ok {
		svc.Expiration = addPeriod(svc.Expiration, period)
	}
	return ok
}

// addPeriod adds an ISO 8601 period of whole months or years (P1M, P1Y).
func addPeriod(t time.Time, period string) time.Time {
	if t.IsZero() || len(period) < 3 || period[0] != 'P' {
		return t
	}
	n, err := strconv.Atoi(period[1 : len(period)-1])
	if err != nil {
		return t
	}
	switch period[len(period)-1] {
	case 'Y':
		return t.AddDate(n, 0, 0)
	case 'M':
		return t.AddDate(0, n, 0)
	}
	return t
}

// Clock is a manual clock for Server.Now: it moves only when told.
type Clock = fakeclock.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return fakeclock.New(t) }
