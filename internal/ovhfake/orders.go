package ovhfake

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// roundCents rounds micro-cents to whole cents, half up.
func roundCents(u int64) int64 {
	return (u + 500_000) / 1_000_000 * 1_000_000
}

func (s *Server) createOrder(w http.ResponseWriter, _ *http.Request, id int64, body []byte) {
	var in struct {
		DryRun   *bool   `json:"dryRun"`
		Duration *string `json:"duration"`
		Services []int64 `json:"services"`
	}
	if !decodeBody(w, body, &in) {
		return
	}
	switch {
	case in.Duration == nil || *in.Duration == "":
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "[duration] Property is mandatory")
		return
	case len(in.Services) == 0:
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "[services] Property is mandatory")
		return
	}
	if _, ok := s.lookupService(w, id); !ok {
		return
	}
	if !slices.Contains(in.Services, id) {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("Service %d is not part of the services to renew", id))
		return
	}
	var chosen *Strategy
	offered := false
	for _, st := range s.Strategies(id) {
		if st.Period != *in.Duration {
			continue
		}
		offered = true
		if sameSet(st.Services, in.Services) {
			chosen = &st
			break
		}
	}
	if !offered {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("No renew strategy for duration %s", *in.Duration))
		return
	}
	if chosen == nil {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("No renew strategy for duration %s with these services", *in.Duration))
		return
	}

	now := s.now()
	o := &Order{
		ServiceID:       id,
		Duration:        *in.Duration,
		Services:        slices.Clone(in.Services),
		Date:            now,
		Expiration:      now.Add(cmp.Or(s.OrderLife, 24*time.Hour)),
		PriceWithoutTax: roundCents(chosen.Price),
		Currency:        chosen.Currency,
	}
	o.Tax = roundCents(o.PriceWithoutTax * s.TaxPercent / 100)
	o.PriceWithTax = o.PriceWithoutTax + o.Tax
	if in.DryRun != nil && *in.DryRun {
		// Priced, not created: no id, nothing to pay.
		writeJSON(w, http.StatusOK, s.orderJSON(o))
		return
	}
	o.Password = rand.Text()[:8]
	s.mu.Lock()
	o.ID = s.nextOrderID
	s.nextOrderID++
	s.orders[o.ID] = o
	out := s.orderJSON(o)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func sameSet(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

type orderOut struct {
	OrderID         int64   `json:"orderId"`
	Date            *string `json:"date"`
	ExpirationDate  *string `json:"expirationDate"`
	PriceWithoutTax price   `json:"priceWithoutTax"`
	Tax             price   `json:"tax"`
	PriceWithTax    price   `json:"priceWithTax"`
	URL             string  `json:"url"`
	PDFURL          string  `json:"pdfUrl"`
	Password        string  `json:"password"`
	RetractionDate  *string `json:"retractionDate"`
}

func (s *Server) orderJSON(o *Order) orderOut {
	out := orderOut{
		OrderID:         o.ID,
		Date:            date(o.Date),
		ExpirationDate:  date(o.Expiration),
		PriceWithoutTax: s.price(o.PriceWithoutTax, o.Currency, true),
		Tax:             s.price(o.Tax, o.Currency, true),
		PriceWithTax:    s.price(o.PriceWithTax, o.Currency, true),
		Password:        o.Password,
	}
	if o.ID != 0 {
		out.URL = fmt.Sprintf("https://www.ovh.com/cgi-bin/order/displayOrder.cgi?orderId=%d&orderPassword=%s", o.ID, o.Password)
		out.PDFURL = out.URL
	}
	return out
}

// lookupOrder finds an order OVHcloud still knows; s.mu must be held.
func (s *Server) lookupOrder(w http.ResponseWriter, id int64) *Order {
	o, ok := s.orders[id]
	if ok && s.forgotten(o) {
		ok = false
	}
	if !ok {
		writeError(w, http.StatusNotFound, "Client::NotFound", fmt.Sprintf("The requested object (orderId = %d) does not exist", id))
		return nil
	}
	return o
}

// forgotten reports whether OVHcloud no longer knows an order: unpaid,
// not cancelled, and past its expirationDate by more than
// KeepExpiredOrders. s.mu must be held.
func (s *Server) forgotten(o *Order) bool {
	return !o.Paid() && (o.forced == "" || o.forced == "notPaid") &&
		!s.now().Before(o.Expiration.Add(s.KeepExpiredOrders))
}

func (s *Server) getOrder(w http.ResponseWriter, _ *http.Request, id int64, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.lookupOrder(w, id); o != nil {
		writeJSON(w, http.StatusOK, s.orderJSON(o))
	}
}

func (s *Server) getOrderStatus(w http.ResponseWriter, _ *http.Request, id int64, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.lookupOrder(w, id); o != nil {
		writeJSON(w, http.StatusOK, s.statusOf(o, true))
	}
}

func (s *Server) availableMeans(w http.ResponseWriter, _ *http.Request, id int64, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.lookupOrder(w, id); o == nil {
		return
	}
	type mean struct {
		PaymentMean string `json:"paymentMean"`
	}
	out := []mean{}
	for _, m := range s.means {
		out = append(out, mean{m})
	}
	writeJSON(w, http.StatusOK, out)
}
