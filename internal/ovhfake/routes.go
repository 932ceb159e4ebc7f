package ovhfake

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// Dates as OVHcloud writes them: RFC 3339 with a numeric offset.
const dateLayout = "2006-01-02T15:04:05-07:00"

func date(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(dateLayout)
	return &s
}

// price is OVHcloud's order.Price; an order's (me.order.Price) may also
// carry priceInUcents, absent, null or a number.
type price struct {
	Value         json.Number     `json:"value"`
	Text          string          `json:"text"`
	CurrencyCode  string          `json:"currencyCode"`
	PriceInUcents json.RawMessage `json:"priceInUcents,omitempty"`
}

func newPrice(ucents int64, currency string) price {
	var text string
	switch currency {
	case "EUR":
		text = fmt.Sprintf("%.2f €", float64(ucents)/1e8)
	case "USD":
		text = fmt.Sprintf("$%.2f", float64(ucents)/1e8)
	default:
		text = fmt.Sprintf("%.2f %s", float64(ucents)/1e8, currency)
	}
	return price{Value: json.Number(decimal(ucents)), Text: text, CurrencyCode: currency}
}

// price writes an amount as OVHcloud does. value is a double: unless
// ExactPrices is set, it is sometimes written a few ULPs off, as a double
// computed by OVHcloud reads (45.440000000000005 for 45.44). An order's
// price (order true) sometimes carries priceInUcents, sometimes null,
// sometimes nothing. The choices come from a seeded generator (SetSeed),
// so a run is repeatable.
func (s *Server) price(ucents int64, currency string, order bool) price {
	p := newPrice(ucents, currency)
	if s.ExactPrices {
		return p
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	if s.rng.IntN(3) == 0 {
		v := float64(ucents) / 1e8
		for range 1 + s.rng.IntN(3) {
			if s.rng.IntN(2) == 0 {
				v = math.Nextafter(v, math.Inf(1))
			} else {
				v = math.Nextafter(v, math.Inf(-1))
			}
		}
		p.Value = json.Number(strconv.FormatFloat(v, 'f', -1, 64))
	}
	if order {
		switch s.rng.IntN(3) {
		case 0:
			p.PriceInUcents = json.RawMessage(strconv.FormatInt(ucents, 10))
		case 1:
			p.PriceInUcents = json.RawMessage("null")
		}
	}
	return p
}

// SetSeed reseeds the generator that picks how prices are written.
func (s *Server) SetSeed(seed uint64) {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	s.rng = mrand.New(mrand.NewPCG(seed, seed))
}

// decimal writes micro-cents as a JSON number without a float: 3787000000
// -> 37.87, 1000000000 -> 10.
func decimal(u int64) string {
	neg := u < 0
	if neg {
		u = -u
	}
	s := strconv.FormatInt(u/1e8, 10)
	if f := strings.TrimRight(fmt.Sprintf("%08d", u%1e8), "0"); f != "" {
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
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
