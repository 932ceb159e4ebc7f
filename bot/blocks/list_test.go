package blocks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/renewbot/renewbot/renew"
)

// listService is a VPS expiring at midnight (CET) days after now.
func listService(id int64, display string, days int, mode string) renew.Service {
	y, m, d := now.In(cet).Date()
	return renew.Service{
		ID: id, Name: fmt.Sprintf("vps-%d.example.net", id), DisplayName: display,
		Product: "VPS Value 1-2-40", State: "active", Route: "/vps/{serviceName}",
		Expiration: time.Date(y, m, d+days, 0, 0, 0, 0, cet), RenewMode: mode, RenewPeriod: "P1M",
		Billing: "active",
	}
}

// sampleListing looks like the fake OVHcloud's sample account, with two
// services OVHcloud could not tell about.
func sampleListing() renew.Listing {
	expired := listService(30001, "legacy-app", -3, "manual")
	expired.State, expired.Billing = "toSuspend", "rupture"
	suspended := listService(30002, "suspended-box", -20, "manual")
	suspended.State, suspended.Billing = "suspended", "rupture"
	domain := listService(12345, "example.com", 12, "manual")
	domain.Name, domain.Product, domain.RenewPeriod = "example.com", "Domain .com", "P1Y"
	return renew.Listing{
		Services: []renew.Service{
			listService(10001, "web-front", 24, "manual"),
			listService(10002, "api-back", 40, "manual"),
			listService(10003, "db-primary", 10, "automatic"),
			domain, expired, suspended,
		},
		Failed: []renew.FailedService{
			{ID: 20001, Err: &renew.APIError{Status: 500, Message: "Internal server error", QueryID: "EU.ext-1.6512a.42"}},
			{ID: 10004, Err: fmt.Errorf("ovhcloud: GET /services/{id}: %w", context.DeadlineExceeded)},
		},
		At: now.Add(-2 * time.Minute),
	}
}

// fortyListing has 2 expired or suspended, 30 manual, 6 automatic and 2
// unknown services: two pages, the second starting in the middle of the
// manual renewals.
func fortyListing() renew.Listing {
	l := renew.Listing{At: now}
	for i := range 30 {
		l.Services = append(l.Services, listService(int64(2000+i), fmt.Sprintf("web-%02d", i), i, "manual"))
	}
	for i := range 6 {
		l.Services = append(l.Services, listService(int64(3000+i), fmt.Sprintf("db-%02d", i), 5*i, "automatic"))
	}
	gone := listService(4000, "old-1", -1, "manual")
	susp := listService(4001, "susp-1", 3, "automatic")
	susp.State = "suspended"
	l.Services = append(l.Services, gone, susp)
	l.Failed = []renew.FailedService{{ID: 5000, Err: errors.New("ovhcloud: 404 This service does not exist")}, {ID: 5001, Err: nil}}
	return l
}

func digestReminders() []renew.Reminder {
	l := sampleListing()
	l.Services = append(l.Services, listService(10005, "mail-relay", 1, "manual"), listService(10006, "cron-box", 7, "manual"))
	return renew.Digest(l, now, []int{30, 7, 1})
}

func TestListGoldens(t *testing.T) {
	v := view()
	forty := renew.Expiring(fortyListing(), now, 60)
	for name, bs := range map[string][]slack.Block{
		"list_empty":         List(renew.Expiring(renew.Listing{At: now}, now, 30), 1, v, 30),
		"list_one":           List(renew.Expiring(renew.Listing{Services: []renew.Service{listService(10001, "web-front", 24, "manual")}, At: now}, now, 30), 1, v, 30),
		"list_forty_page1":   List(forty, 1, v, 60),
		"list_forty_page2":   List(forty, 2, v, 60),
		"list_failing":       List(renew.Expiring(sampleListing(), now, 30), 1, v, 30),
		"digest_reminders":   Digest(digestReminders(), v),
		"digest_sandbox_dry": Digest(digestReminders()[:1], View{Now: now, Sandbox: true, DryRun: true}),
	} {
		t.Run(name, func(t *testing.T) { golden(t, name, bs) })
	}
}

// renewValues lists the "Renew…" buttons' service ids, in order.
func renewValues(t *testing.T, bs []slack.Block) []int64 {
	t.Helper()
	buttons, _ := elements(bs)
	var out []int64
	for _, b := range buttons {
		if b.ActionID != ActionRenew {
			continue
		}
		if b.Text.Text != "Renew…" {
			t.Errorf("renew button %q", b.Text.Text)
		}
		id, err := ParseServiceID(b.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func TestListOrderAndButtons(t *testing.T) {
	l := renew.Expiring(sampleListing(), now, 30)
	bs := List(l, 1, view(), 30)
	got := renewValues(t, bs)
	// Suspended 20 days ago, expired 3 days ago, then the manual ones
	// soonest first; not api-back (40 days) nor db-primary (automatic).
	want := []int64{30002, 30001, 12345, 10001}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("renew buttons %v, want %v", got, want)
	}
	s := jsonText(t, bs)
	for _, frag := range []string{"db-primary", "Renewing automatically", "service 20001", "query id EU.ext-1.6512a.42",
		"service 10004", "deadline exceeded", "Suspended", "Expired · About to be suspended"} {
		if !strings.Contains(s, frag) {
			t.Errorf("list lacks %q", frag)
		}
	}
	if strings.Contains(s, "api-back") {
		t.Error("api-back expires in 40 days, shown within 30")
	}
	if strings.Contains(s, ActionListPage) {
		t.Error("one page has page buttons")
	}
}

func TestListPagination(t *testing.T) {
	for _, n := range []int{0, 1, 40, 2000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			l := renew.Listing{At: now}
			for i := range n {
				mode := "manual"
				if i%5 == 4 {
					mode = "automatic"
				}
				s := listService(int64(100000+i), fmt.Sprintf("box-%d", i), i%400-10, mode)
				if i%97 == 0 {
					s.State = "suspended"
				}
				l.Services = append(l.Services, s)
			}
			for i := range n / 50 {
				l.Failed = append(l.Failed, renew.FailedService{ID: int64(900000 + i), Err: errors.New(strings.Repeat("slow ", 100))})
			}
			const days = 400
			ex := renew.Expiring(l, now, days)
			pages := ListPages(ex)
			if want := max(1, (n+n/50+listPageSize-1)/listPageSize); pages != want {
				t.Fatalf("%d pages, want %d", pages, want)
			}

			// Walk the pages with the Next buttons, as a user would.
			seen := map[int64]int{}
			var text strings.Builder
			page, visited := 1, 0
			for {
				visited++
				bs := List(ex, page, view(), days)
				if err := Validate(bs); err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				for _, id := range renewValues(t, bs) {
					seen[id]++
				}
				text.WriteString(jsonText(t, bs))
				prev, next := findButton(bs, ActionListPrevious), findButton(bs, ActionListPage)
				if (prev != nil) != (page > 1) || (next != nil) != (page < pages) {
					t.Fatalf("page %d of %d: previous %v, next %v", page, pages, prev != nil, next != nil)
				}
				if prev != nil {
					d, p, err := ParseListPage(prev.Value)
					if err != nil || d != days || p != page-1 {
						t.Fatalf("page %d: previous %q", page, prev.Value)
					}
				}
				if next == nil {
					break
				}
				d, p, err := ParseListPage(next.Value)
				if err != nil || d != days || p != page+1 {
					t.Fatalf("page %d: next %q", page, next.Value)
				}
				page = p
			}
			if visited != pages {
				t.Errorf("visited %d pages of %d", visited, pages)
			}
			all := text.String()
			for _, s := range l.Services {
				need := !renew.Automatic(s) || s.State == "suspended" || renew.DaysBetween(now, s.Expiration) < 0
				switch {
				case need && seen[s.ID] != 1:
					t.Errorf("service %d has %d renew buttons, want 1", s.ID, seen[s.ID])
				case !need && (seen[s.ID] != 0 || !strings.Contains(all, "*"+s.DisplayName+"*")):
					t.Errorf("automatic service %d: %d buttons, listed %v", s.ID, seen[s.ID], strings.Contains(all, s.DisplayName))
				}
			}
			for _, f := range l.Failed {
				if !strings.Contains(all, fmt.Sprintf("service %d", f.ID)) {
					t.Errorf("failed service %d not listed", f.ID)
				}
			}
		})
	}
}

func TestListPageOutOfRangeShowsTheNearest(t *testing.T) {
	ex := renew.Expiring(fortyListing(), now, 60)
	if a, b := jsonText(t, List(ex, 99, view(), 60)), jsonText(t, List(ex, 2, view(), 60)); a != b {
		t.Error("page 99 differs from the last page")
	}
	if a, b := jsonText(t, List(ex, -1, view(), 60)), jsonText(t, List(ex, 1, view(), 60)); a != b {
		t.Error("page -1 differs from the first page")
	}
}

func TestListEscapes(t *testing.T) {
	s := listService(1, "<!channel> & <b>", 3, "manual")
	s.Product = "<https://evil.example|click>"
	auto := listService(2, "<!here>", 3, "automatic")
	l := renew.Listing{Services: []renew.Service{s, auto}, Failed: []renew.FailedService{{ID: 3, Err: errors.New("<@U0AAAAAAA01>")}}}
	bs := List(renew.Expiring(l, now, 30), 1, view(), 30)
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	out := jsonText(t, bs) + ListText(renew.Expiring(l, now, 30), 30)
	ds := Digest(renew.Digest(l, now, nil), view())
	out += jsonText(t, ds) + DigestText(renew.Digest(l, now, nil))
	for _, bad := range []string{"<!channel>", "<!here>", "<https://", "<@U0AAAAAAA01>"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q reached the message", bad)
		}
	}
	if !strings.Contains(out, "&lt;!channel&gt; &amp; &lt;b&gt;") {
		t.Error("display name not escaped as expected")
	}
}

func TestListPageValue(t *testing.T) {
	for _, c := range [][2]int{{30, 2}, {0, 1}, {3660, 1000000}} {
		v := ListPageValue(c[0], c[1])
		d, p, err := ParseListPage(v)
		if err != nil || d != c[0] || p != c[1] {
			t.Errorf("ParseListPage(%q) = %d, %d, %v", v, d, p, err)
		}
	}
	for _, v := range []string{"", "30", "30:", ":2", "30:0", "-1:2", "30:2:3", "030:2", "30:+2", "3661:1", "x:1", "30:1000001"} {
		if d, p, err := ParseListPage(v); err == nil {
			t.Errorf("ParseListPage(%q) = %d, %d", v, d, p)
		}
	}
	for v, want := range map[string]int64{"10001": 10001, "9223372036854775807": 1<<63 - 1} {
		if id, err := ParseServiceID(v); err != nil || id != want {
			t.Errorf("ParseServiceID(%q) = %d, %v", v, id, err)
		}
	}
	for _, v := range []string{"", "0", "-1", "01", "1e3", "12a", " 1", "9223372036854775808"} {
		if id, err := ParseServiceID(v); err == nil {
			t.Errorf("ParseServiceID(%q) = %d", v, id)
		}
	}
}

func TestListText(t *testing.T) {
	if got, want := ListText(renew.Expiring(sampleListing(), now, 30), 30),
		"2 services expired or suspended, 2 services to renew within 30 days, 1 service renewing automatically, 2 services unknown."; got != want {
		t.Errorf("ListText = %q, want %q", got, want)
	}
	if got := ListText(renew.ExpiringList{}, 1); got != "Nothing expires within 1 day." {
		t.Errorf("empty ListText = %q", got)
	}
}

func TestDigest(t *testing.T) {
	rs := digestReminders()
	bs := Digest(rs, view())
	got := renewValues(t, bs)
	// Expired first (most overdue first), then within 1, 7 and 30 days.
	want := []int64{30002, 30001, 10005, 10006, 12345, 10001}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("digest buttons %v, want %v", got, want)
	}
	if s, want := jsonText(t, bs), "6 services with manual renewal: 4 expire soon, 2 have expired. Each needs someone to renew it."; !strings.Contains(s, want) {
		t.Errorf("digest does not say %q:\n%s", want, s)
	}
	if got, want := DigestText(rs), "Renewal reminder: 6 services to renew: suspended-box (expired 20 days ago), "+
		"legacy-app (expired 3 days ago), mail-relay (tomorrow), cron-box (in 7 days), example.com (in 12 days) and 1 more."; got != want {
		t.Errorf("DigestText = %q\nwant %q", got, want)
	}
	if err := Validate(Digest(nil, view())); err != nil {
		t.Error(err)
	}
}

func TestDigestOfManyStaysValid(t *testing.T) {
	l := renew.Listing{}
	for i := range 2000 {
		l.Services = append(l.Services, listService(int64(100000+i), fmt.Sprintf("box-%d", i), i%40-5, "manual"))
	}
	rs := renew.Digest(l, now, []int{30, 14, 7, 3, 1, 0})
	bs := Digest(rs, View{Now: now, Sandbox: true})
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	shown := len(renewValues(t, bs))
	s := jsonText(t, bs)
	if want := fmt.Sprintf("…and %s more services: type `/renew list 30`", formatInt(len(rs)-shown)); !strings.Contains(s, want) {
		t.Errorf("digest of %d shows %d and lacks %q", len(rs), shown, want)
	}
	if shown < 30 {
		t.Errorf("only %d reminders shown", shown)
	}
}

func TestFormatInt(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 2000: "2,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := formatInt(n); got != want {
			t.Errorf("formatInt(%d) = %q, want %q", n, got, want)
		}
	}
}

// A service a request is renewing already says where it stands in the
// list; while a request is under way (open, or paid and followed) it has
// no Renew…, since a click would only be refused. A payment whose
// delivery went unconfirmed keeps Renew… (OVHcloud may have cancelled its
// order: the click checks). The digest, posted once and kept, is never
// marked.
func TestRenewingServicesInTheList(t *testing.T) {
	open := chosen(renew.StateAwaitingApproval)
	open.Channel = "C0123456789"
	paid := paidRequest(renew.StatePaid, renew.OrderChecking)
	paid.Channel = "C0123456789"
	unconfirmed := paidRequest(renew.StatePaidUnconfirmed, renew.OrderChecking)
	unconfirmed.Channel = "C0123456789"
	mark := map[int64]*renew.Request{10001: open, 30002: paid, 12345: unconfirmed}

	l := renew.Expiring(sampleListing(), now, 30)
	for _, es := range [][]renew.ExpiringService{l.Attention, l.Manual} {
		for i, e := range es {
			es[i].Renewing = mark[e.Service.ID]
		}
	}
	bs := List(l, 1, view(), 30)
	if err := Validate(bs); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(renewValues(t, bs)), fmt.Sprint([]int64{30001, 12345}); got != want {
		t.Errorf("Renew… for %s, want %s: none while a request is under way", got, want)
	}
	s := jsonText(t, bs)
	for _, frag := range []string{"A renewal is open in <#C0123456789>: awaiting approval",
		"Paid in <#C0123456789>, awaiting delivery", "Paid in <#C0123456789>, delivery not confirmed"} {
		if !strings.Contains(s, frag) {
			t.Errorf("list lacks %q", frag)
		}
	}
	// The counts are of what is shown: one Renew… in each group, and
	// two renewals under way without one.
	if want := "1 service expired or suspended · 1 service to renew · 2 renewals under way · 1 service renewing automatically"; !strings.Contains(s, want) {
		t.Errorf("list summary does not say %q:\n%s", want, s)
	}
	if got, want := ListText(l, 30), "1 service expired or suspended, 1 service to renew within 30 days, 2 renewals under way, 1 service renewing automatically, 2 services unknown."; got != want {
		t.Errorf("ListText = %q, want %q", got, want)
	}
	home := jsonText(t, HomeBlocks(HomeView{Home: renew.Home{User: approverU, Now: now}, Expiring: &l, Channel: "C0123456789"}, view()))
	if want := "Expiring in the next 30 days* (2 to renew, 2 under way)"; !strings.Contains(home, want) {
		t.Errorf("Home does not say %q:\n%s", want, home)
	}
	if got := renewValues(t, Digest(digestReminders(), view())); !slices.Contains(got, 10001) || !slices.Contains(got, 12345) {
		t.Errorf("digest Renew… for %v, want every service", got)
	}
}
