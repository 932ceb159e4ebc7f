package ovhfake

import (
	"fmt"
	"time"
)

// Sample account ids, for tests that need to name them.
const (
	WebFrontID   int64 = 10001   // vps-1.example.net "web-front": 24 days, manual, P1M/P3M/P6M/P1Y
	APIBackID    int64 = 10002   // vps-2.example.net "api-back": 40 days, manual
	AutoRenewID  int64 = 10003   // vps-3.example.net "db-primary": automatic renewal
	DomainID     int64 = 12345   // example.com, renewable alone or with its hosting
	HostingID    int64 = 67890   // www.example.com, Hosting Perso 2014 of example.com
	DedicatedID  int64 = 20001   // ns3012345.ip-51-68-1.eu "storage-1"
	ExpiredID    int64 = 30001   // vps-old.example.net "legacy-app": expired 3 days ago
	SuspendedID  int64 = 30002   // vps-susp.example.net "suspended-box": suspended
	EscapeID     int64 = 40001   // vps-4.example.net, display name "<!channel> & <b>": AddEscapeService, not in the sample
	ManyID       int64 = 50001   // ns3098765.ip-51-68-2.eu "big-storage": 30 strategies
	LicenceID    int64 = 50002   // win-50001.licence.example, option of ManyID
	CardID       int64 = 42      // default payment method, a credit card
	CardMeanID   int64 = 5551042 // its paymentMeanId, for payWithRegisteredPaymentMean
	BankID       int64 = 43      // a bank account, not default (refused by /pay)
	BankMeanID   int64 = 5551043 // its paymentMeanId
	FirstOrderID int64 = 123456789
)

// euros converts a price written in cents to micro-cents: euros(3787) is
// 37.87 €.
func euros(cents int64) int64 { return cents * 1_000_000 }

// SampleAccount returns a fake holding a small, varied account whose
// expiry dates count from now (midnight, UTC+1, like OVHcloud's dates):
//
//	10001 vps-1.example.net  "web-front"   VPS, expires in 24 days, manual; P1M 7.00, P3M 21.00, P6M 40.32, P1Y 79.20
//	10002 vps-2.example.net  "api-back"    VPS, 40 days, manual; P1M 12.00, P1Y 138.00
//	10003 vps-3.example.net  "db-primary"  VPS, 10 days, automatic renewal; P1M 24.00
//	12345 example.com                      domain, 60 days; P1Y alone 11.99, P1Y with 67890 47.87, P2Y alone 23.98
//	67890 www.example.com                  its Hosting Perso 2014, 60 days; P1Y alone 35.88, P1Y with 12345 47.87
//	20001 ns3012345.ip-51-68-1.eu "storage-1" dedicated server, 15 days; P1M 59.99 ... P1Y 683.88
//	30001 vps-old.example.net "legacy-app"  expired 3 days ago (toSuspend); P1M 5.00
//	30002 vps-susp.example.net "suspended-box" suspended, expired 20 days ago; P1M 5.00
//	50001 ns3098765.ip-51-68-2.eu "big-storage" 45 days; 30 strategies: 15 periods
//	      (P1M..P11M, P1Y..P4Y), alone or with its Windows licence 50002
//	payment methods: 42 CREDIT_CARD (default; paymentMeanId 5551042), 43 BANK_ACCOUNT (5551043)
//
// Orders get ids from 123456789. The fake's clock stays time.Now: set
// Now to move it.
func SampleAccount(now time.Time) *Server {
	s := New()
	zone := time.FixedZone("CET", 3600)
	y, m, d := now.In(zone).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, zone)
	in := func(days int) time.Time { return midnight.AddDate(0, 0, days) }

	vps := func(id int64, name, display string, days int, mode string) {
		s.AddService(Service{
			ID: id, Name: name, DisplayName: display, Type: "VPS",
			Product: "vps-value-1-2-40", ProductText: "VPS Value 1-2-40",
			RoutePath: "/vps/{serviceName}", Expiration: in(days),
			RenewMode: mode, RenewPeriod: "P1M",
		})
	}
	vps(WebFrontID, "vps-1.example.net", "web-front", 24, "manual")
	s.SetStrategies(WebFrontID,
		Strategy{Period: "P1M", Services: []int64{WebFrontID}, Price: euros(700)},
		Strategy{Period: "P3M", Services: []int64{WebFrontID}, Price: euros(2100)},
		Strategy{Period: "P6M", Services: []int64{WebFrontID}, Price: euros(4032)},
		Strategy{Period: "P1Y", Services: []int64{WebFrontID}, Price: euros(7920)},
	)
	vps(APIBackID, "vps-2.example.net", "api-back", 40, "manual")
	s.SetStrategies(APIBackID,
		Strategy{Period: "P1M", Services: []int64{APIBackID}, Price: euros(1200)},
		Strategy{Period: "P1Y", Services: []int64{APIBackID}, Price: euros(13800)},
	)
	vps(AutoRenewID, "vps-3.example.net", "db-primary", 10, "automatic")
	s.SetStrategies(AutoRenewID, Strategy{Period: "P1M", Services: []int64{AutoRenewID}, Price: euros(2400)})

	s.AddService(Service{
		ID: DomainID, Name: "example.com", Type: "Domain .com",
		Product: "com", ProductText: "Domain name .com",
		RoutePath: "/domain/{serviceName}", Expiration: in(60), RenewPeriod: "P1Y",
	})
	s.AddService(Service{
		ID: HostingID, Name: "www.example.com", DisplayName: "example.com website", Type: "Hosting Perso 2014",
		Product: "perso2014", ProductText: "Hosting Perso 2014",
		RoutePath: "/hosting/web/{serviceName}", Expiration: in(60), RenewPeriod: "P1Y",
	})
	together := Strategy{Period: "P1Y", Services: []int64{HostingID, DomainID}, Price: euros(4787)}
	s.SetStrategies(DomainID,
		Strategy{Period: "P1Y", Services: []int64{DomainID}, Price: euros(1199)},
		together,
		Strategy{Period: "P2Y", Services: []int64{DomainID}, Price: euros(2398)},
	)
	s.SetStrategies(HostingID,
		Strategy{Period: "P1Y", Services: []int64{HostingID}, Price: euros(3588)},
		together,
	)

	s.AddService(Service{
		ID: DedicatedID, Name: "ns3012345.ip-51-68-1.eu", DisplayName: "storage-1", Type: "Dedicated server",
		Product: "24rise01", ProductText: "RISE-1",
		RoutePath: "/dedicated/server/{serviceName}", Expiration: in(15), RenewPeriod: "P1M",
	})
	s.SetStrategies(DedicatedID,
		Strategy{Period: "P1M", Services: []int64{DedicatedID}, Price: euros(5999)},
		Strategy{Period: "P3M", Services: []int64{DedicatedID}, Price: euros(17997)},
		Strategy{Period: "P6M", Services: []int64{DedicatedID}, Price: euros(35394)},
		Strategy{Period: "P1Y", Services: []int64{DedicatedID}, Price: euros(68388)},
	)

	vps(ExpiredID, "vps-old.example.net", "legacy-app", -3, "manual")
	s.update(ExpiredID, func(svc *Service) { svc.State, svc.Lifecycle = "toSuspend", "rupture" })
	s.SetStrategies(ExpiredID, Strategy{Period: "P1M", Services: []int64{ExpiredID}, Price: euros(500)})
	vps(SuspendedID, "vps-susp.example.net", "suspended-box", -20, "manual")
	s.update(SuspendedID, func(svc *Service) { svc.State, svc.Lifecycle = "suspended", "rupture" })
	s.SetStrategies(SuspendedID, Strategy{Period: "P1M", Services: []int64{SuspendedID}, Price: euros(500)})

	s.AddService(Service{
		ID: ManyID, Name: "ns3098765.ip-51-68-2.eu", DisplayName: "big-storage", Type: "Dedicated server",
		Product: "24sk50", ProductText: "KS-5",
		RoutePath: "/dedicated/server/{serviceName}", Expiration: in(45), RenewPeriod: "P1M",
	})
	s.AddService(Service{
		ID: LicenceID, ParentID: ManyID, Name: "win-50001.licence.example", Type: "Windows Server licence",
		Product: "windows-server-2022-standard", ProductText: "Windows Server 2022 Standard",
		RoutePath: "/license/windows/{serviceName}", Expiration: in(45), RenewPeriod: "P1M",
	})
	var many []Strategy
	for months := 1; months <= 48; months++ {
		if months > 11 && months%12 != 0 {
			continue
		}
		period := fmt.Sprintf("P%dM", months)
		if months%12 == 0 {
			period = fmt.Sprintf("P%dY", months/12)
		}
		n := int64(months)
		many = append(many,
			Strategy{Period: period, Services: []int64{ManyID}, Price: euros(n * 8999)},
			Strategy{Period: period, Services: []int64{ManyID, LicenceID}, Price: euros(n * (8999 + 2000))},
		)
	}
	s.SetStrategies(ManyID, many...)
	s.SetStrategies(LicenceID, Strategy{Period: "P1M", Services: []int64{ManyID, LicenceID}, Price: euros(10999)})

	s.AddPaymentMethod(PaymentMethod{
		ID: CardID, MeanID: CardMeanID, Type: "CREDIT_CARD", Label: "************4242", Description: "Company Visa",
		Default: true, Expiration: midnight.AddDate(2, 0, 0),
	})
	s.AddPaymentMethod(PaymentMethod{
		ID: BankID, MeanID: BankMeanID, Type: "BANK_ACCOUNT", Label: "FR76 **** **** **** **** ***1 234", Description: "SEPA mandate",
	})
	s.SetNextOrderID(FirstOrderID)
	return s
}

// AddEscapeService adds, for tests, 40001 vps-4.example.net whose display
// name "<!channel> & <b>" would notify a channel and break markup if shown
// unescaped; it expires at expires, renewable for P1M at 6.00. It is not
// in the sample account: the sandbox would show it to newcomers.
func AddEscapeService(s *Server, expires time.Time) {
	s.AddService(Service{
		ID: EscapeID, Name: "vps-4.example.net", DisplayName: "<!channel> & <b>", Type: "VPS",
		Product: "vps-value-1-2-40", ProductText: "VPS Value 1-2-40",
		RoutePath: "/vps/{serviceName}", Expiration: expires,
		RenewMode: "manual", RenewPeriod: "P1M",
	})
	s.SetStrategies(EscapeID, Strategy{Period: "P1M", Services: []int64{EscapeID}, Price: euros(600)})
}

// update changes a service in place.
func (s *Server) update(id int64, change func(*Service)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc, ok := s.services[id]; ok {
		change(svc)
	}
}
