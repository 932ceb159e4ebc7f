package ovhcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// ServiceIDs lists service ids (GET /services), only those whose
// resource name is resourceName unless it is "".
func (c *Client) ServiceIDs(ctx context.Context, resourceName string) ([]int64, error) {
	path := "/services"
	if resourceName != "" {
		path += "?resourceName=" + url.QueryEscape(resourceName)
	}
	var ids []int64
	if err := c.get(ctx, "/services", path, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// Service reads one service (GET /services/{id}).
func (c *Client) Service(ctx context.Context, id int64) (renew.Service, error) {
	var w struct {
		ServiceID int64 `json:"serviceId"`
		Resource  struct {
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
			State       string `json:"state"`
			Product     struct {
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"product"`
		} `json:"resource"`
		Route struct {
			Path string `json:"path"`
		} `json:"route"`
		Billing struct {
			ExpirationDate date `json:"expirationDate"`
			Renew          struct {
				Current struct {
					Mode   string `json:"mode"`
					Period string `json:"period"`
				} `json:"current"`
			} `json:"renew"`
			Lifecycle struct {
				Current struct {
					State string `json:"state"`
				} `json:"current"`
			} `json:"lifecycle"`
		} `json:"billing"`
	}
	if err := c.get(ctx, "/services/{id}", fmt.Sprintf("/services/%d", id), &w); err != nil {
		return renew.Service{}, err
	}
	product := w.Resource.Product.Description
	if product == "" {
		product = w.Resource.Product.Name
	}
	return renew.Service{
		ID:          w.ServiceID,
		Name:        w.Resource.Name,
		DisplayName: w.Resource.DisplayName,
		Product:     product,
		State:       w.Resource.State,
		Route:       w.Route.Path,
		Expiration:  time.Time(w.Billing.ExpirationDate),
		RenewMode:   w.Billing.Renew.Current.Mode,
		RenewPeriod: w.Billing.Renew.Current.Period,
		Billing:     w.Billing.Lifecycle.Current.State,
	}, nil
}

// Strategies lists the ways to renew a service
// (GET /service/{id}/renew?includeOptions=false), one per period and
// combination of services, priced with priceInUcents.
func (c *Client) Strategies(ctx context.Context, id int64) ([]renew.Strategy, error) {
	var descs []struct {
		RenewPeriod string `json:"renewPeriod"`
		Strategies  []struct {
			Services        []int64      `json:"services"`
			Price           price        `json:"price"`
			PriceInUcents   *json.Number `json:"priceInUcents"`
			ServicesDetails []struct {
				ServiceID   int64  `json:"serviceId"`
				ServiceName string `json:"serviceName"`
				ServiceType string `json:"serviceType"`
			} `json:"servicesDetails"`
		} `json:"strategies"`
	}
	path := fmt.Sprintf("/service/%d/renew?includeOptions=false", id)
	if err := c.get(ctx, "/service/{id}/renew", path, &descs); err != nil {
		return nil, err
	}
	var out []renew.Strategy
	for _, d := range descs {
		period, err := renew.ParsePeriod(d.RenewPeriod)
		if err != nil {
			return nil, fmt.Errorf("ovhcloud: service %d: renewPeriod: %w", id, err)
		}
		for _, s := range d.Strategies {
			p := s.Price
			if s.PriceInUcents != nil {
				// A strategy carries the exact amount beside its price.
				p.PriceInUcents = s.PriceInUcents
			}
			money, err := p.money(fmt.Sprintf("service %d: price", id))
			if err != nil {
				return nil, err
			}
			st := renew.Strategy{Period: period, Services: s.Services, Price: money}
			for _, sd := range s.ServicesDetails {
				st.Details = append(st.Details, renew.ServiceDetail{ID: sd.ServiceID, Name: sd.ServiceName, Type: sd.ServiceType})
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// order is OVHcloud's order.Order without password, url and pdfUrl: they
// grant access to the order document, so they are not even decoded.
type order struct {
	OrderID         int64 `json:"orderId"`
	Date            date  `json:"date"`
	ExpirationDate  date  `json:"expirationDate"`
	PriceWithoutTax price `json:"priceWithoutTax"`
	Tax             price `json:"tax"`
	PriceWithTax    price `json:"priceWithTax"`
}

// CreateOrder creates a renew order (POST /service/{id}/renew), or only
// prices it when in.DryRun. The call is never retried.
func (c *Client) CreateOrder(ctx context.Context, serviceID int64, in renew.OrderInput) (renew.Order, error) {
	if in.Period.IsZero() || len(in.Services) == 0 {
		return renew.Order{}, errors.New("ovhcloud: a renew order needs a period and services")
	}
	body := struct {
		DryRun   bool    `json:"dryRun"`
		Duration string  `json:"duration"`
		Services []int64 `json:"services"`
	}{in.DryRun, in.Period.ISO(), in.Services}
	var w order
	if err := c.post(ctx, "/service/{id}/renew", fmt.Sprintf("/service/%d/renew", serviceID), body, &w); err != nil {
		return renew.Order{}, err
	}
	o := renew.Order{ID: w.OrderID, Date: time.Time(w.Date), Expiration: time.Time(w.ExpirationDate)}
	var err1, err2, err3 error
	o.PriceWithoutTax, err1 = w.PriceWithoutTax.money("order priceWithoutTax")
	o.Tax, err2 = w.Tax.money("order tax")
	o.PriceWithTax, err3 = w.PriceWithTax.money("order priceWithTax")
	if err := errors.Join(err1, err2, err3); err != nil {
		return renew.Order{}, fmt.Errorf("order %d was created but cannot be read: %w", w.OrderID, err)
	}
	return o, nil
}

// OrderStatus reads GET /me/order/{id}/status.
func (c *Client) OrderStatus(ctx context.Context, orderID int64) (renew.OrderStatus, error) {
	var s string
	if err := c.get(ctx, "/me/order/{id}/status", fmt.Sprintf("/me/order/%d/status", orderID), &s); err != nil {
		return "", err
	}
	return renew.OrderStatus(s), nil
}

// DefaultPaymentMethod returns the id of the account's default payment
// method (GET /me/payment/method?default=true), or an error wrapping
// renew.ErrNotFound when there is none.
func (c *Client) DefaultPaymentMethod(ctx context.Context) (int64, error) {
	var ids []int64
	if err := c.get(ctx, "/me/payment/method", "/me/payment/method?default=true", &ids); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("ovhcloud: the account has no default payment method: %w", renew.ErrNotFound)
	}
	return ids[0], nil
}

// PayOrder pays an order with a payment method (POST /me/order/{id}/pay).
// The call is never retried: when it fails without an answer, only the
// order status tells whether OVHcloud took the money.
func (c *Client) PayOrder(ctx context.Context, orderID, paymentMethodID int64) error {
	type method struct {
		ID int64 `json:"id"`
	}
	body := struct {
		PaymentMethod method `json:"paymentMethod"`
	}{method{paymentMethodID}}
	return c.post(ctx, "/me/order/{id}/pay", fmt.Sprintf("/me/order/%d/pay", orderID), body, nil)
}

// PayWithMean pays an order with a registered payment mean
// (POST /me/order/{id}/payWithRegisteredPaymentMean); meanID 0 is left
// out. Never retried.
func (c *Client) PayWithMean(ctx context.Context, orderID int64, mean string, meanID int64) error {
	if mean == "" {
		return errors.New("ovhcloud: payWithRegisteredPaymentMean needs a payment mean")
	}
	body := struct {
		PaymentMean   string `json:"paymentMean"`
		PaymentMeanID int64  `json:"paymentMeanId,omitempty"`
	}{mean, meanID}
	return c.post(ctx, "/me/order/{id}/payWithRegisteredPaymentMean",
		fmt.Sprintf("/me/order/%d/payWithRegisteredPaymentMean", orderID), body, nil)
}

// Credential is the API credential in use (GET /auth/currentCredential).
type Credential struct {
	ID            string // credentialId, in decimal
	ApplicationID string // applicationId, in decimal
	Status        string // validated, pendingValidation, expired, refused
	Rules         []Rule
	Expiration    time.Time // zero when it never expires
}

// Rule is an access rule of a consumer key; "*" in Path matches anything.
type Rule struct {
	Method string
	Path   string
}

// CurrentCredential describes the credential in use, so a start-up check
// can compare its rules with what the bot needs.
func (c *Client) CurrentCredential(ctx context.Context) (Credential, error) {
	var w struct {
		CredentialID  json.Number `json:"credentialId"`
		ApplicationID json.Number `json:"applicationId"`
		Status        string      `json:"status"`
		Rules         []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"rules"`
		Expiration date `json:"expiration"`
	}
	if err := c.get(ctx, "/auth/currentCredential", "/auth/currentCredential", &w); err != nil {
		return Credential{}, err
	}
	cr := Credential{ID: w.CredentialID.String(), ApplicationID: w.ApplicationID.String(), Status: w.Status, Expiration: time.Time(w.Expiration)}
	for _, r := range w.Rules {
		cr.Rules = append(cr.Rules, Rule{Method: r.Method, Path: r.Path})
	}
	return cr, nil
}

// PaymentMethod is one of the account's payment methods
// (me.payment.PaymentMethod).
type PaymentMethod struct {
	ID int64 // paymentMethodId: what POST /me/order/{id}/pay takes
	// MeanID is paymentMeanId, the legacy payment mean id that
	// payWithRegisteredPaymentMean takes (RENEWBOT_PAYMENT=creditCard:ID);
	// 0 when the method has none.
	MeanID      int64
	Type        string // paymentType: CREDIT_CARD, BANK_ACCOUNT, PAYPAL...
	Label       string
	Description string
	Status      string // VALID, EXPIRED...
	Default     bool
	Expiration  time.Time // zero when none
}

// PaymentMethod reads GET /me/payment/method/{id}.
func (c *Client) PaymentMethod(ctx context.Context, id int64) (PaymentMethod, error) {
	var w struct {
		PaymentMethodID int64  `json:"paymentMethodId"`
		PaymentMeanID   *int64 `json:"paymentMeanId"`
		PaymentType     string `json:"paymentType"`
		Label           string `json:"label"`
		Description     string `json:"description"`
		Status          string `json:"status"`
		Default         bool   `json:"default"`
		ExpirationDate  date   `json:"expirationDate"`
	}
	if err := c.get(ctx, "/me/payment/method/{id}", fmt.Sprintf("/me/payment/method/%d", id), &w); err != nil {
		return PaymentMethod{}, err
	}
	pm := PaymentMethod{
		ID: w.PaymentMethodID, Type: w.PaymentType, Label: w.Label, Description: w.Description,
		Status: w.Status, Default: w.Default, Expiration: time.Time(w.ExpirationDate),
	}
	if w.PaymentMeanID != nil {
		pm.MeanID = *w.PaymentMeanID
	}
	return pm, nil
}

// PaymentMethods lists the ids of every payment method of the account
// (GET /me/payment/method).
func (c *Client) PaymentMethods(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := c.get(ctx, "/me/payment/method", "/me/payment/method", &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// MeanTypes are the paymentType of the payment methods whose paymentMeanId
// a registered payment mean takes: payWithRegisteredPaymentMean needs the
// id for these three.
var MeanTypes = map[string]string{"creditCard": "CREDIT_CARD", "bankAccount": "BANK_ACCOUNT", "paypal": "PAYPAL"}

// date reads OVHcloud's dates: RFC 3339, a bare YYYY-MM-DD, or null.
type date time.Time

func (d *date) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	if s == "" {
		*d = date{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			*d = date(t)
			return nil
		}
	}
	return fmt.Errorf("date %q is not RFC 3339", s)
}
