package ovhfake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) listPaymentMethods(w http.ResponseWriter, r *http.Request, _ int64, _ []byte) {
	q := r.URL.Query()
	def, byDefault, err := boolParam(q, "default")
	if err != nil {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "Invalid value for default: not a boolean")
		return
	}
	s.mu.Lock()
	ids := []int64{}
	for _, id := range s.methodOrder {
		m := s.methods[id]
		if byDefault && m.Default != def ||
			q.Get("paymentType") != "" && m.Type != q.Get("paymentType") ||
			q.Get("status") != "" && m.Status != q.Get("status") {
			continue
		}
		ids = append(ids, id)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, ids)
}

func (s *Server) getPaymentMethod(w http.ResponseWriter, _ *http.Request, id int64, _ []byte) {
	s.mu.Lock()
	m, ok := s.methods[id]
	var c PaymentMethod
	if ok {
		c = *m
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Client::NotFound", fmt.Sprintf("The requested object (paymentMethodId = %d) does not exist", id))
		return
	}
	type icon struct {
		Data *string `json:"data"`
		Name string  `json:"name"`
		URL  *string `json:"url"`
	}
	var meanID *int64
	if c.MeanID != 0 {
		meanID = &c.MeanID
	}
	created := time.Unix(s.started, 0).Add(-365 * 24 * time.Hour)
	iconURL := "https://www.ovh.com/images/payment/" + strings.ToLower(c.Type) + ".png"
	// me.payment.PaymentMethod, every property of the schema.
	writeJSON(w, http.StatusOK, struct {
		BillingContactID *int64  `json:"billingContactId"`
		CreationDate     *string `json:"creationDate"`
		Default          bool    `json:"default"`
		Description      string  `json:"description"`
		ExpirationDate   *string `json:"expirationDate"`
		Icon             icon    `json:"icon"`
		Label            string  `json:"label"`
		LastUpdate       *string `json:"lastUpdate"`
		PaymentMeanID    *int64  `json:"paymentMeanId"`
		PaymentMethodID  int64   `json:"paymentMethodId"`
		PaymentSubType   *string `json:"paymentSubType"`
		PaymentType      string  `json:"paymentType"`
		Status           string  `json:"status"`
	}{nil, date(created), c.Default, c.Description, date(c.Expiration), icon{Name: c.Type, URL: &iconURL}, c.Label,
		date(created), meanID, c.ID, nil, c.Type, c.Status})
}

// meanTypes are the paymentType of the payment methods a registered
// payment mean with an id designates.
var meanTypes = map[string]string{"creditCard": "CREDIT_CARD", "bankAccount": "BANK_ACCOUNT", "paypal": "PAYPAL"}

// methodByMean finds the payment method whose paymentMeanId is id; s.mu
// must be held.
func (s *Server) methodByMean(id int64) *PaymentMethod {
	for _, m := range s.methods {
		if m.MeanID != 0 && m.MeanID == id {
			return m
		}
	}
	return nil
}

// payable checks an order can take a payment; s.mu must be held.
func (s *Server) payable(w http.ResponseWriter, o *Order) bool {
	switch st := s.statusOf(o, false); {
	case o.Paid():
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order is already paid")
		return false
	case st != "notPaid":
		writeError(w, http.StatusForbidden, "Client::Forbidden", fmt.Sprintf("This order can't be paid: it is %s", st))
		return false
	case !s.now().Before(o.Expiration):
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order has expired and can't be paid")
		return false
	}
	return true
}

func (s *Server) pay(w http.ResponseWriter, _ *http.Request, id int64, body []byte) {
	var in struct {
		PaymentMethod *struct {
			ID *int64 `json:"id"`
		} `json:"paymentMethod"`
	}
	if !decodeBody(w, body, &in) {
		return
	}
	if in.PaymentMethod == nil || in.PaymentMethod.ID == nil {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "[paymentMethod] Property is mandatory")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookupOrder(w, id)
	if o == nil {
		return
	}
	o.PayAttempts++
	m, ok := s.methods[*in.PaymentMethod.ID]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "Client::NotFound", fmt.Sprintf("The requested object (paymentMethodId = %d) does not exist", *in.PaymentMethod.ID))
		return
	case m.Status != "VALID":
		writeError(w, http.StatusForbidden, "Client::Forbidden", fmt.Sprintf("Payment method %d is %s", m.ID, m.Status))
		return
	case m.Type == "BANK_ACCOUNT":
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order can't be paid with 'bankAccount'")
		return
	case m.Type == "PAYPAL":
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order can't be paid with paypal")
		return
	}
	if !s.payable(w, o) {
		return
	}
	o.PaidAt = s.now()
	o.PaidWith = fmt.Sprintf("method:%d", m.ID)
	w.WriteHeader(http.StatusOK) // void: an empty body, as OVHcloud's null
}

// registeredMeans are the values payWithRegisteredPaymentMean accepts.
var registeredMeans = []string{
	"CREDIT_CARD", "CURRENT_ACCOUNT", "DEFERRED_PAYMENT_ACCOUNT", "DOMESTIC_CARD", "ENTERPRISE",
	"INTERNAL_TRUSTED_ACCOUNT", "PAYPAL", "RUPAY", "SEPA_DIRECT_DEBIT", "bankAccount", "creditCard",
	"deferredPaymentAccount", "fidelityAccount", "ovhAccount", "paypal",
}

func (s *Server) payWithMean(w http.ResponseWriter, _ *http.Request, id int64, body []byte) {
	var in struct {
		PaymentMean   string `json:"paymentMean"`
		PaymentMeanID *int64 `json:"paymentMeanId"`
	}
	if !decodeBody(w, body, &in) {
		return
	}
	switch {
	case in.PaymentMean == "":
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "[paymentMean] Property is mandatory")
		return
	case !slices.Contains(registeredMeans, in.PaymentMean):
		writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("[paymentMean] Invalid value %q", in.PaymentMean))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookupOrder(w, id)
	if o == nil {
		return
	}
	o.PayAttempts++
	mean := in.PaymentMean
	switch {
	case meanTypes[mean] != "" && in.PaymentMeanID == nil:
		// "Id of registered payment mean, mandatory for bankAccount,
		// creditCard and paypal" (the schema).
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "[paymentMeanId] Property is mandatory for "+mean)
		return
	case mean == "paypal" || mean == "PAYPAL":
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order can't be paid with paypal")
		return
	case mean == "bankAccount":
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order can't be paid with 'bankAccount'")
		return
	case !slices.Contains(s.means, mean):
		writeError(w, http.StatusNotFound, "Client::NotFound", "paymentMean not found")
		return
	case mean == "creditCard" && (s.methodByMean(*in.PaymentMeanID) == nil || s.methodByMean(*in.PaymentMeanID).Type != meanTypes[mean]):
		// paymentMeanId, not paymentMethodId: the legacy mean's id.
		writeError(w, http.StatusNotFound, "Client::NotFound", "paymentMean not found")
		return
	case mean == "creditCard" && s.methodByMean(*in.PaymentMeanID).Status != "VALID":
		writeError(w, http.StatusForbidden, "Client::Forbidden", fmt.Sprintf("Payment mean %d is %s", *in.PaymentMeanID, s.methodByMean(*in.PaymentMeanID).Status))
		return
	case mean == "fidelityAccount" && o.PriceWithTax != 0:
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This order can't be paid with 'fidelityAccount'")
		return
	}
	if !s.payable(w, o) {
		return
	}
	o.PaidAt = s.now()
	o.PaidWith = "mean:" + mean
	if in.PaymentMeanID != nil {
		o.PaidWith += ":" + strconv.FormatInt(*in.PaymentMeanID, 10)
	}
	w.WriteHeader(http.StatusOK)
}
