package ovhcloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/renewbot/renewbot/renew"
)

// LoginDetails is GET /auth/details: who the credentials log in as.
type LoginDetails struct {
	// Method is how: account, user, provider (an application key or an
	// access token) or oauth2_client_credentials (a service account).
	Method      string
	User        string // the sub-user or the OAuth2 client, if any
	Description string
	Roles       []string
	// AllowedRoutes restricts the calls; nil means every route (IAM
	// policies may still refuse some).
	AllowedRoutes []Rule
}

// Details describes the login in use (GET /auth/details). Every kind of
// credentials may call it; /auth/currentCredential only describes an
// application key.
func (c *Client) Details(ctx context.Context) (LoginDetails, error) {
	var w struct {
		Method        string   `json:"method"`
		User          *string  `json:"user"`
		Description   *string  `json:"description"`
		Roles         []string `json:"roles"`
		AllowedRoutes *[]struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"allowedRoutes"`
	}
	if err := c.get(ctx, "/auth/details", "/auth/details", &w); err != nil {
		return LoginDetails{}, err
	}
	d := LoginDetails{Method: w.Method, Roles: w.Roles}
	if w.User != nil {
		d.User = *w.User
	}
	if w.Description != nil {
		d.Description = *w.Description
	}
	if w.AllowedRoutes != nil {
		d.AllowedRoutes = []Rule{}
		for _, r := range *w.AllowedRoutes {
			d.AllowedRoutes = append(d.AllowedRoutes, Rule{Method: r.Method, Path: r.Path})
		}
	}
	return d, nil
}

// probe is a call that shows whether a rule is granted without any
// effect: on ids that cannot exist (0), OVHcloud's login layer or IAM
// refuses a call that is not granted before the API answers "not found".
type probe struct {
	method, route, path string
	body                any
}

var probes = map[Rule]probe{
	{"GET", "/services"}:            {"GET", "/services", "/services?resourceName=renewbot-check.invalid", nil},
	{"GET", "/services/*"}:          {"GET", "/services/{id}", "/services/0", nil},
	{"GET", "/service/*"}:           {"GET", "/service/{id}/renew", "/service/0/renew?includeOptions=false", nil},
	{"POST", "/service/*/renew"}:    {"POST", "/service/{id}/renew", "/service/0/renew", map[string]any{"dryRun": true, "duration": "P1M", "services": []int64{0}}},
	{"GET", "/me/payment/method"}:   {"GET", "/me/payment/method", "/me/payment/method?default=true", nil},
	{"GET", "/me/payment/method/*"}: {"GET", "/me/payment/method/{id}", "/me/payment/method/0", nil},
	{"GET", "/me/order/*"}:          {"GET", "/me/order/{id}/status", "/me/order/0/status", nil},
	{"POST", "/me/order/*/pay"}:     {"POST", "/me/order/{id}/pay", "/me/order/0/pay", map[string]any{"paymentMethod": map[string]any{"id": 0}}},
	{"POST", "/me/order/*/payWithRegisteredPaymentMean"}: {"POST", "/me/order/{id}/payWithRegisteredPaymentMean",
		"/me/order/0/payWithRegisteredPaymentMean", map[string]any{"paymentMean": "fidelityAccount"}},
}

// Probe tells whether the login may make the calls rule (one of
// NeededRules) covers, for logins whose grants cannot be read (OAuth2
// clients and access tokens: IAM policies). It asks OVHcloud for service
// 0 or order 0, which do not exist: a call that is not granted is refused
// before the API looks (false); any other answer of the API, "not found"
// included, means it is granted (true). Nothing is read, ordered or paid.
func (c *Client) Probe(ctx context.Context, rule Rule) (bool, error) {
	p, ok := probes[rule]
	if !ok {
		return false, errors.New("ovhcloud: no probe for " + rule.Method + " " + rule.Path)
	}
	var err error
	if p.method == http.MethodGet {
		err = c.get(ctx, p.route, p.path, nil)
	} else {
		err = c.post(ctx, p.route, p.path, p.body, nil)
	}
	var api *renew.APIError
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, renew.ErrNotGranted):
		return false, nil
	case errors.As(err, &api) && api.Status < 500 && api.Status != http.StatusTooManyRequests && !errors.Is(err, renew.ErrCredential):
		return true, nil
	}
	return false, err
}

// IAMActions are the IAM actions an OAuth2 login needs for each of
// NeededRules (the schema's iamActions).
var IAMActions = map[Rule][]string{
	{"GET", "/services"}:                                 {"account:apiovh:services/get"},
	{"GET", "/services/*"}:                               {"account:apiovh:services/get"},
	{"GET", "/service/*"}:                                {"account:apiovh:service/renew/get"},
	{"POST", "/service/*/renew"}:                         {"account:apiovh:service/renew/create"},
	{"GET", "/me/payment/method"}:                        {"account:apiovh:me/payment/method/get"},
	{"GET", "/me/payment/method/*"}:                      {"account:apiovh:me/payment/method/get"},
	{"GET", "/me/order/*"}:                               {"account:apiovh:me/order/status/get"},
	{"POST", "/me/order/*/pay"}:                          {"account:apiovh:me/order/pay"},
	{"POST", "/me/order/*/payWithRegisteredPaymentMean"}: {"account:apiovh:me/order/payWithRegisteredPaymentMean"},
}

// GrantText names what grants rule for this client's login: the access
// rule itself for an application key, its IAM action otherwise.
func (c *Client) GrantText(rule Rule) string {
	s := rule.Method + " " + rule.Path
	if c.kind != kindApplication {
		s += " (IAM action " + strings.Join(IAMActions[rule], ", ") + ")"
	}
	return s
}
