package ovhfake

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// handler answers one route; id is the route's {id} segment, if any.
type handler func(w http.ResponseWriter, r *http.Request, id int64, body []byte)

// Route is one route the fake serves, as OVHcloud's schema writes it.
type Route struct {
	Method  string // GET or POST
	Pattern string // e.g. /me/order/{orderId}/pay, without BasePath
	// IAM is the action an IAM policy must allow for an OAuth2 login to
	// call it (the schema's iamActions); "" for /auth routes, which every
	// login may call.
	IAM string
}

type route struct {
	Route
	handle handler
}

// Routes lists every route the fake serves (docs/ovhcloud-api.md lists
// the same, and a test keeps them in step).
func Routes() []Route {
	var out []Route
	for _, r := range (&Server{}).routes() {
		out = append(out, r.Route)
	}
	return out
}

func (s *Server) routes() []route {
	r := func(method, pattern, iam string, h handler) route {
		return route{Route{method, pattern, iam}, h}
	}
	return []route{
		r("GET", "/auth/currentCredential", "", s.currentCredential),
		r("GET", "/auth/details", "", s.authDetails),
		r("GET", "/services", "account:apiovh:services/get", s.listServices),
		r("GET", "/services/{serviceId}", "account:apiovh:services/get", s.getService),
		r("GET", "/service", "account:apiovh:service/get", s.listServicesOld),
		r("GET", "/service/{serviceId}", "account:apiovh:service/get", s.getServiceOld),
		r("GET", "/service/{serviceId}/renew", "account:apiovh:service/renew/get", s.getStrategies),
		r("POST", "/service/{serviceId}/renew", "account:apiovh:service/renew/create", s.createOrder),
		r("GET", "/me/payment/method", "account:apiovh:me/payment/method/get", s.listPaymentMethods),
		r("GET", "/me/payment/method/{paymentMethodId}", "account:apiovh:me/payment/method/get", s.getPaymentMethod),
		r("GET", "/me/order/{orderId}", "account:apiovh:me/order/get", s.getOrder),
		r("GET", "/me/order/{orderId}/status", "account:apiovh:me/order/status/get", s.getOrderStatus),
		r("GET", "/me/order/{orderId}/availableRegisteredPaymentMean", "account:apiovh:me/order/availableRegisteredPaymentMean/get", s.availableMeans),
		r("POST", "/me/order/{orderId}/pay", "account:apiovh:me/order/pay", s.pay),
		r("POST", "/me/order/{orderId}/payWithRegisteredPaymentMean", "account:apiovh:me/order/payWithRegisteredPaymentMean", s.payWithMean),
	}
}

// match finds the route of a path: its {…} segments match any segment.
// It returns the matches by path, whatever their method.
func (s *Server) match(path string) (matches []route, id string) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range s.routes() {
		ps := strings.Split(strings.Trim(rt.Pattern, "/"), "/")
		if len(ps) != len(seg) {
			continue
		}
		ok, v := true, ""
		for i := range ps {
			switch {
			case strings.HasPrefix(ps[i], "{"):
				v = seg[i]
			case ps[i] != seg[i]:
				ok = false
			}
		}
		if ok {
			matches = append(matches, rt)
			id = v
		}
	}
	return matches, id
}

// route dispatches a call by method and path (without BasePath): the
// login layer first (credentials, then the call's grant), then the API.
func (s *Server) route(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	if path == "/auth/time" {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "", "Method not allowed")
			return
		}
		// A bare number, not an object: go-ovh reads it into an int64.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, "%d\n", s.now().Unix())
		return
	}
	who, ok := s.authenticate(w, r, body)
	if !ok {
		return
	}
	s.mu.Lock()
	s.deliverDue()
	s.mu.Unlock()
	matches, seg := s.match(path)
	if len(matches) == 0 {
		writeError(w, http.StatusNotFound, "Client::NotFound", "Got an invalid (or empty) URL")
		return
	}
	i := slices.IndexFunc(matches, func(rt route) bool { return rt.Method == r.Method })
	if i < 0 {
		writeError(w, http.StatusMethodNotAllowed, "Client::MethodNotAllowed", "Method not allowed")
		return
	}
	rt := matches[i]
	if !s.allowed(w, who, rt, r.Method, path) {
		return
	}
	var id int64
	if seg != "" {
		var ok bool
		if id, ok = pathID(seg); !ok {
			name := rt.Pattern[strings.LastIndex(rt.Pattern, "{")+1 : strings.LastIndex(rt.Pattern, "}")]
			writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("Invalid value for %s: %q is not a long", name, seg))
			return
		}
	}
	rt.handle(w, r, id, body)
}

func (s *Server) currentCredential(w http.ResponseWriter, _ *http.Request, _ int64, _ []byte) {
	s.mu.Lock()
	c := s.credential
	started := s.started
	s.mu.Unlock()
	type rule struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	}
	rules := []rule{}
	for _, r := range c.Rules {
		rules = append(rules, rule{r.Method, r.Path})
	}
	creation := c.Creation
	if creation.IsZero() {
		creation = time.Unix(started, 0).Add(-30 * 24 * time.Hour)
	}
	writeJSON(w, http.StatusOK, struct {
		CredentialID  int64    `json:"credentialId"`
		ApplicationID int64    `json:"applicationId"`
		Status        string   `json:"status"`
		Rules         []rule   `json:"rules"`
		Creation      *string  `json:"creation"`
		Expiration    *string  `json:"expiration"`
		LastUse       *string  `json:"lastUse"`
		AllowedIPs    []string `json:"allowedIPs"`
	}{c.ID, c.ApplicationID, c.Status, rules, date(creation), date(c.Expiration), date(s.now()), c.AllowedIPs})
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request, _ int64, _ []byte) {
	q := r.URL.Query()
	var routes []string
	for _, v := range q["routes"] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				routes = append(routes, p)
			}
		}
	}
	_, byName := q["resourceName"]
	name := q.Get("resourceName")
	orderBy, sort := q.Get("orderBy"), q.Get("sort")
	if orderBy != "" && orderBy != "serviceId" && orderBy != "expirationDate" && orderBy != "resourceName" {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("Invalid value for orderBy: %q", orderBy))
		return
	}
	if sort != "" && sort != "asc" && sort != "desc" {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", fmt.Sprintf("Invalid value for sort: %q", sort))
		return
	}

	s.mu.Lock()
	var list []Service
	for _, id := range s.serviceOrder {
		svc := *s.services[id]
		if byName && svc.Name != name {
			continue
		}
		if len(routes) > 0 && !slices.ContainsFunc(routes, func(p string) bool {
			return svc.RoutePath == p || strings.HasPrefix(svc.RoutePath, strings.TrimSuffix(p, "/")+"/")
		}) {
			continue
		}
		list = append(list, svc)
	}
	s.mu.Unlock()

	slices.SortStableFunc(list, func(a, b Service) int {
		switch orderBy {
		case "expirationDate":
			return cmp.Or(a.Expiration.Compare(b.Expiration), cmp.Compare(a.ID, b.ID))
		case "resourceName":
			return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if sort == "desc" {
		slices.Reverse(list)
	}
	ids := make([]int64, 0, len(list))
	for _, svc := range list {
		ids = append(ids, svc.ID)
	}
	writeJSON(w, http.StatusOK, ids)
}

func (s *Server) listServicesOld(w http.ResponseWriter, _ *http.Request, _ int64, _ []byte) {
	s.mu.Lock()
	ids := slices.Clone(s.serviceOrder)
	s.mu.Unlock()
	slices.Sort(ids)
	writeJSON(w, http.StatusOK, append([]int64{}, ids...))
}

func (s *Server) lookupService(w http.ResponseWriter, id int64) (Service, bool) {
	svc, ok := s.Service(id)
	if !ok {
		writeError(w, http.StatusNotFound, "Client::NotFound", "This service does not exist")
	}
	return svc, ok
}

type routeVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type serviceRoute struct {
	Path string     `json:"path"`
	URL  string     `json:"url"`
	Vars []routeVar `json:"vars"`
}

func routeOf(svc Service) serviceRoute {
	return serviceRoute{
		Path: svc.RoutePath,
		URL:  strings.ReplaceAll(svc.RoutePath, "{serviceName}", url.PathEscape(svc.Name)),
		Vars: []routeVar{{Key: "serviceName", Value: svc.Name}},
	}
}

func (s *Server) getService(w http.ResponseWriter, _ *http.Request, id int64, _ []byte) {
	svc, ok := s.lookupService(w, id)
	if !ok {
		return
	}
	type product struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	type resource struct {
		Name        string  `json:"name"`
		DisplayName string  `json:"displayName"`
		State       string  `json:"state"`
		Product     product `json:"product"`
	}
	type renewCurrent struct {
		Mode     string  `json:"mode"`
		NextDate *string `json:"nextDate"`
		Period   *string `json:"period"`
	}
	type renewCapacities struct {
		Mode []string `json:"mode"`
	}
	type renew struct {
		Current    renewCurrent    `json:"current"`
		Capacities renewCapacities `json:"capacities"`
	}
	type lifecycleCurrent struct {
		State          string   `json:"state"`
		PendingActions []string `json:"pendingActions"`
	}
	type lifecycleCapacities struct {
		Actions []string `json:"actions"`
	}
	type lifecycle struct {
		Current    lifecycleCurrent    `json:"current"`
		Capacities lifecycleCapacities `json:"capacities"`
	}
	type billing struct {
		ExpirationDate  *string   `json:"expirationDate"`
		NextBillingDate *string   `json:"nextBillingDate"`
		Renew           renew     `json:"renew"`
		Lifecycle       lifecycle `json:"lifecycle"`
	}
	var parent *int64
	if svc.ParentID != 0 {
		parent = &svc.ParentID
	}
	var period *string
	if svc.RenewPeriod != "" {
		period = &svc.RenewPeriod
	}
	tags := svc.Tags
	if tags == nil {
		tags = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		ServiceID       int64        `json:"serviceId"`
		ParentServiceID *int64       `json:"parentServiceId"`
		Resource        resource     `json:"resource"`
		Route           serviceRoute `json:"route"`
		Billing         billing      `json:"billing"`
		Tags            []string     `json:"tags"`
	}{
		ServiceID:       svc.ID,
		ParentServiceID: parent,
		Resource:        resource{svc.Name, svc.DisplayName, svc.State, product{svc.Product, svc.ProductText}},
		Route:           routeOf(svc),
		Billing: billing{
			ExpirationDate:  date(svc.Expiration),
			NextBillingDate: date(svc.Expiration),
			Renew: renew{
				Current:    renewCurrent{svc.RenewMode, date(svc.Expiration), period},
				Capacities: renewCapacities{[]string{"automatic", "manual"}},
			},
			Lifecycle: lifecycle{
				Current:    lifecycleCurrent{svc.Lifecycle, []string{}},
				Capacities: lifecycleCapacities{[]string{"earlyRenewal", "terminate"}},
			},
		},
		Tags: tags,
	})
}

func (s *Server) getServiceOld(w http.ResponseWriter, _ *http.Request, id int64, _ []byte) {
	svc, ok := s.lookupService(w, id)
	if !ok {
		return
	}
	intervals := []string{}
	for _, st := range s.Strategies(id) {
		if !slices.Contains(intervals, st.Period) {
			intervals = append(intervals, st.Period)
		}
	}
	state := "ok"
	if !svc.Expiration.IsZero() && s.now().After(svc.Expiration) {
		state = "expired"
	}
	var exp *string
	if !svc.Expiration.IsZero() {
		e := svc.Expiration.Format("2006-01-02")
		exp = &e
	}
	type resource struct {
		DisplayName string `json:"displayName"`
		Name        string `json:"name"`
		State       string `json:"state"`
	}
	type renew struct {
		Mode              string   `json:"mode"`
		Interval          string   `json:"interval"`
		PossibleIntervals []string `json:"possibleIntervals"`
		PossibleModes     []string `json:"possibleModes"`
	}
	writeJSON(w, http.StatusOK, struct {
		Resource       resource     `json:"resource"`
		Route          serviceRoute `json:"route"`
		ExpirationDate *string      `json:"expirationDate"`
		Renew          renew        `json:"renew"`
		State          string       `json:"state"`
	}{
		Resource:       resource{svc.DisplayName, svc.Name, svc.State},
		Route:          routeOf(svc),
		ExpirationDate: exp,
		Renew:          renew{svc.RenewMode, svc.RenewPeriod, intervals, []string{"automatic", "manual"}},
		State:          state,
	})
}

func (s *Server) getStrategies(w http.ResponseWriter, r *http.Request, id int64, _ []byte) {
	if _, ok := s.lookupService(w, id); !ok {
		return
	}
	if _, _, err := boolParam(r.URL.Query(), "includeOptions"); err != nil {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "Invalid value for includeOptions: not a boolean")
		return
	}
	type detail struct {
		ServiceID   int64  `json:"serviceId"`
		ServiceName string `json:"serviceName"`
		ServiceType string `json:"serviceType"`
	}
	type strategy struct {
		Services        []int64  `json:"services"`
		Price           price    `json:"price"`
		PriceInUcents   int64    `json:"priceInUcents"`
		ServicesDetails []detail `json:"servicesDetails"`
	}
	type description struct {
		RenewPeriod string     `json:"renewPeriod"`
		Strategies  []strategy `json:"strategies"`
	}
	out := []description{}
	s.mu.Lock()
	for _, st := range s.strategies[id] {
		i := slices.IndexFunc(out, func(d description) bool { return d.RenewPeriod == st.Period })
		if i < 0 {
			out = append(out, description{RenewPeriod: st.Period})
			i = len(out) - 1
		}
		details := []detail{}
		for _, sid := range st.Services {
			d := detail{ServiceID: sid}
			if svc, ok := s.services[sid]; ok {
				d.ServiceName, d.ServiceType = svc.Name, svc.Type
			}
			details = append(details, d)
		}
		out[i].Strategies = append(out[i].Strategies, strategy{
			Services:        slices.Clone(st.Services),
			Price:           s.price(st.Price, st.Currency, false),
			PriceInUcents:   st.Price,
			ServicesDetails: details,
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// decodeBody reads a JSON body strictly: an unknown or misspelled
// property is a 400, so a client bug shows in tests.
func decodeBody(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Client::BadRequest", "Invalid JSON body: "+err.Error())
		return false
	}
	return true
}
