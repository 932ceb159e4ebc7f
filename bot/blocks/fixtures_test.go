package blocks

import (
	"fmt"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// Fixtures share one moment and fixed ids, so goldens never move.
var (
	now  = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	cet  = time.FixedZone("CET", 3600)
	year = renew.Period{Months: 12}
)

const reqID = "0f1e2d3c4b5a69788796"

func eur(cents int64) renew.Money {
	u := cents * renew.UcentsPerUnit / 100
	return renew.Money{Ucents: u, Currency: "EUR", Text: renew.FormatUcents(u) + " €"}
}

func view() View {
	return View{Now: now, NeedApprovals: 1}
}

func vps() renew.Service {
	return renew.Service{
		ID:          1001,
		Name:        "vps-1.example.net",
		DisplayName: "web-front",
		Product:     "VPS Value 1-2-40",
		State:       "active",
		Route:       "/vps/{serviceName}",
		Expiration:  time.Date(2026, 12, 20, 0, 0, 0, 0, cet),
		RenewMode:   "manual",
		RenewPeriod: "P1M",
	}
}

func vpsStrategy(p renew.Period, cents int64) renew.Strategy {
	return renew.Strategy{
		Period:   p,
		Services: []int64{1001},
		Details:  []renew.ServiceDetail{{ID: 1001, Name: "vps-1.example.net", Type: "VPS Value 1-2-40"}},
		Price:    eur(cents),
	}
}

// proposedRequest is a VPS with a month, three months and a year.
func proposedRequest() *renew.Request {
	return &renew.Request{
		ID:          reqID,
		State:       renew.StateProposed,
		Channel:     "C0123456789",
		MessageTS:   "1795683600.000100",
		InitiatedBy: "U0AAAAAAA01",
		Service:     vps(),
		Options: []renew.Strategy{
			vpsStrategy(renew.Period{Months: 1}, 599),
			vpsStrategy(renew.Period{Months: 3}, 1797),
			vpsStrategy(year, 3787),
		},
		CreatedAt: now,
		UpdatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

// domain is example.com: renewed alone, or with its hosting.
func domainRequest() *renew.Request {
	r := proposedRequest()
	r.Service = renew.Service{
		ID:          2001,
		Name:        "example.com",
		Product:     "Domain .ovh",
		State:       "active",
		Expiration:  time.Date(2026, 11, 23, 0, 0, 0, 0, cet),
		RenewMode:   "automatic",
		RenewPeriod: "P1Y",
	}
	r.Options = []renew.Strategy{
		{
			Period:   year,
			Services: []int64{2001},
			Details:  []renew.ServiceDetail{{ID: 2001, Name: "example.com", Type: "Domain .ovh"}},
			Price:    eur(999),
		},
		{
			Period:   year,
			Services: []int64{2001, 2002},
			Details: []renew.ServiceDetail{
				{ID: 2001, Name: "example.com", Type: "Domain .ovh"},
				{ID: 2002, Name: "example.com", Type: "Hosting Perso 2014"},
			},
			Price: eur(3787),
		},
	}
	return r
}

// thirtyRequest has 30 strategies over three periods: too many for buttons.
func thirtyRequest() *renew.Request {
	return manyRequest(30)
}

func manyRequest(n int) *renew.Request {
	r := proposedRequest()
	r.Options = nil
	periods := []renew.Period{{Months: 1}, {Months: 6}, year}
	for i := range n {
		p := periods[i%len(periods)]
		s := vpsStrategy(p, int64(500+100*i))
		if i%2 == 1 {
			extra := int64(5000 + i)
			s.Services = append(s.Services, extra)
			s.Details = append(s.Details, renew.ServiceDetail{ID: extra, Name: fmt.Sprintf("backup-%02d.example.net", i), Type: "Backup Storage"})
		}
		r.Options = append(r.Options, s)
	}
	return r
}

func order() *renew.Order {
	return &renew.Order{
		ID:              240012345,
		Date:            now.Add(time.Minute),
		Expiration:      time.Date(2026, 12, 10, 9, 1, 0, 0, time.UTC),
		PriceWithoutTax: eur(3787),
		Tax:             eur(757),
		PriceWithTax:    eur(4544),
	}
}

// chosen moves a proposed request to state with its year chosen by
// U0BBBBBBB02, the way the renewer does.
func chosen(state renew.State) *renew.Request {
	r := proposedRequest()
	r.State = state
	r.RequestedBy = "U0BBBBBBB02"
	c := r.Options[2]
	r.Chosen = &c
	if state == renew.StateOrdering {
		return r
	}
	r.Order = order()
	r.OrderStatus = renew.OrderNotPaid
	r.ExpiresAt = now.Add(24 * time.Hour)
	return r
}

func approved(r *renew.Request, ids ...string) *renew.Request {
	for i, id := range ids {
		r.Approvals = append(r.Approvals, renew.Approval{User: id, At: now.Add(time.Duration(i+5) * time.Minute)})
	}
	return r
}

func paidRequest(state renew.State, status renew.OrderStatus) *renew.Request {
	r := approved(chosen(state), "U0CCCCCCC03")
	r.PaidBy = "U0CCCCCCC03"
	r.PaidAt = now.Add(6 * time.Minute)
	r.OrderStatus = status
	return r
}
