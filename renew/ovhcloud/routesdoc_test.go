package ovhcloud

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// docRoute is a row of docs/ovhcloud-api.md's route tables.
type docRoute struct {
	method, pattern, status, iam string
	called                       bool // in "Routes the bot calls"
}

var (
	rowRE   = regexp.MustCompile("^\\| `(GET|POST) (/[^`]*)` \\| ([^|]+) \\| ([^|]+) \\|")
	paramRE = regexp.MustCompile(`\{[^}]*\}`)
)

// docRoutes reads the route tables of docs/ovhcloud-api.md.
func docRoutes(t *testing.T) []docRoute {
	t.Helper()
	raw, err := os.ReadFile("../../docs/ovhcloud-api.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []docRoute
	called := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "## ") {
			called = line == "## Routes the bot calls"
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		iam := strings.Trim(strings.TrimSpace(m[4]), "`")
		if strings.HasPrefix(iam, "none") {
			iam = ""
		}
		out = append(out, docRoute{m[1], m[2], strings.TrimSpace(m[3]), iam, called})
	}
	if len(out) < 10 {
		t.Fatalf("read %d routes from docs/ovhcloud-api.md", len(out))
	}
	return out
}

// matches reports whether a documented pattern matches a concrete path:
// each {param} matches one segment.
func (d docRoute) matches(method, path string) bool {
	if d.method != method {
		return false
	}
	path, _, _ = strings.Cut(path, "?")
	ps := strings.Split(strings.Trim(d.pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], "{") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// Every call the adapter makes, for every kind of login, is a route the
// document lists as called by the bot, and every such route is called.
func TestDocListsTheAdapterRoutes(t *testing.T) {
	ctx := context.Background()
	var calls []ovhfake.Call
	app := setup(t)
	sa := setup(t, serviceAccount("sa", "s"))
	for _, e := range []*env{app, sa} {
		c := e.c
		ids, _ := c.ServiceIDs(ctx, "vps-1.example.net")
		_, _ = c.Service(ctx, ids[0])
		_, _ = c.Strategies(ctx, ids[0])
		o, err := c.CreateOrder(ctx, ids[0], renew.OrderInput{Period: renew.Period{Months: 1}, Services: ids})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.OrderStatus(ctx, o.ID)
		id, _ := c.DefaultPaymentMethod(ctx)
		_, _ = c.PaymentMethods(ctx)
		_, _ = c.PaymentMethod(ctx, id)
		_ = c.PayOrder(ctx, o.ID, id)
		_ = c.PayWithMean(ctx, o.ID, "ovhAccount", 0)
		_, _ = c.CurrentCredential(ctx)
		_, _ = c.Details(ctx)
		for _, r := range NeededRules {
			_, _ = c.Probe(ctx, r)
		}
		calls = append(calls, e.fake.Calls()...)
	}
	docs := docRoutes(t)
	used := map[int]bool{}
	for _, c := range calls {
		found := false
		for i, d := range docs {
			if d.called && d.matches(c.Method, c.Path) {
				found, used[i] = true, true
			}
		}
		if !found {
			t.Errorf("the adapter calls %s %s, which docs/ovhcloud-api.md does not list as called", c.Method, c.Path)
		}
	}
	for i, d := range docs {
		if d.called && !used[i] {
			t.Errorf("docs/ovhcloud-api.md lists %s %s as called, but the adapter never calls it", d.method, d.pattern)
		}
	}
}

// Every route the fake serves is documented with the same IAM action, and
// every documented API route is served by the fake; the statuses the
// issue recorded from the schema stay as written.
func TestDocListsTheFakeRoutes(t *testing.T) {
	docs := docRoutes(t)
	norm := func(p string) string { return paramRE.ReplaceAllString(p, "{}") }
	find := func(method, pattern string) *docRoute {
		for i, d := range docs {
			if d.method == method && norm(d.pattern) == norm(pattern) {
				return &docs[i]
			}
		}
		return nil
	}
	served := map[string]bool{"GET /auth/time": true, "POST " + ovhfake.TokenPath: true}
	for _, r := range ovhfake.Routes() {
		served[r.Method+" "+norm(r.Pattern)] = true
		d := find(r.Method, r.Pattern)
		if d == nil {
			t.Errorf("the fake serves %s %s, which docs/ovhcloud-api.md does not list", r.Method, r.Pattern)
			continue
		}
		if d.iam != r.IAM {
			t.Errorf("%s %s: IAM action %q in the doc, %q in the fake", r.Method, r.Pattern, d.iam, r.IAM)
		}
	}
	for _, d := range docs {
		if !served[d.method+" "+norm(d.pattern)] {
			t.Errorf("docs/ovhcloud-api.md lists %s %s, which the fake does not serve", d.method, d.pattern)
		}
		switch d.status {
		case "PRODUCTION", "BETA", "ALPHA", "not in API v1":
		default:
			t.Errorf("%s %s: status %q", d.method, d.pattern, d.status)
		}
	}
	for route, status := range map[string]string{
		"GET /services": "BETA", "GET /services/{}": "BETA", "GET /service/{}/renew": "BETA", "POST /service/{}/renew": "BETA",
		"POST /me/order/{}/pay": "BETA", "POST /me/order/{}/payWithRegisteredPaymentMean": "PRODUCTION",
	} {
		m, p, _ := strings.Cut(route, " ")
		if d := find(m, p); d == nil || d.status != status {
			t.Errorf("%s: %+v, want status %s", route, d, status)
		}
	}
	// The IAM actions the adapter names for each needed rule are the
	// fake's for the route its probe calls.
	for rule, actions := range IAMActions {
		p := probes[rule]
		d := find(p.method, p.route)
		if d == nil || len(actions) != 1 || d.iam != actions[0] {
			t.Errorf("%v: IAM %v, doc row %+v", rule, actions, d)
		}
	}
}
