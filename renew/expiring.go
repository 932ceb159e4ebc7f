package renew

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// DefaultListDays is how far ahead /renew list looks without DAYS.
const DefaultListDays = 30

// ExpiringList is what /renew list shows: the services that need the
// team's attention, in the order to deal with them.
type ExpiringList struct {
	Now  time.Time
	Days int // how far ahead it looks
	// At is when the listing was read from OVHcloud.
	At time.Time
	// Read counts the services read, expiring or not.
	Read int

	// Attention holds the expired and suspended services, whatever their
	// renew mode and however far their expiry: most overdue first.
	Attention []ExpiringService
	// Manual holds the other services with manual renewal that expire
	// within Days, soonest first: they need someone to renew them.
	Manual []ExpiringService
	// Automatic holds the services with automatic renewal that expire
	// within Days, soonest first: nothing to do, but worth seeing.
	Automatic []ExpiringService
	// Unknown are the services that could not be read, by id.
	Unknown []FailedService
}

// Empty reports whether there is nothing to show.
func (l ExpiringList) Empty() bool {
	return len(l.Attention)+len(l.Manual)+len(l.Automatic)+len(l.Unknown) == 0
}

// ExpiringService is a service with its days left, counted in its
// expiry's time zone.
type ExpiringService struct {
	Service  Service
	DaysLeft int // negative once expired; meaningless without an expiry
	// Expired: the expiry date has passed.
	Expired bool
	// Suspended: OVHcloud suspended the service or is about to.
	Suspended bool
	// Renewing is the request already renewing it, when Mark found one.
	Renewing *Request
}

// Expiring sorts a listing for /renew list [DAYS]: expired and suspended
// services first, then the manual renewals expiring within days, then the
// automatic ones apart, then the services that could not be read.
// Deleted services are left out; so are services without an expiry date
// unless they need attention.
func Expiring(l Listing, now time.Time, days int) ExpiringList {
	out := ExpiringList{Now: now, Days: max(days, 0), At: l.At, Read: len(l.Services)}
	for _, s := range l.Services {
		if s.State == "deleted" {
			continue
		}
		e := expiring(s, now)
		switch {
		case e.Expired || e.Suspended:
			out.Attention = append(out.Attention, e)
		case s.Expiration.IsZero() || e.DaysLeft > out.Days:
			// Not expiring within the window: not listed.
		case Automatic(s):
			out.Automatic = append(out.Automatic, e)
		default:
			out.Manual = append(out.Manual, e)
		}
	}
	for _, list := range [][]ExpiringService{out.Attention, out.Manual, out.Automatic} {
		slices.SortStableFunc(list, soonestFirst)
	}
	out.Unknown = slices.SortedStableFunc(slices.Values(l.Failed), func(a, b FailedService) int {
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

func expiring(s Service, now time.Time) ExpiringService {
	e := ExpiringService{Service: s, Suspended: s.State == "suspended" || s.State == "toSuspend"}
	if !s.Expiration.IsZero() {
		e.DaysLeft = s.DaysLeft(now)
		e.Expired = e.DaysLeft < 0
	}
	return e
}

// soonestFirst orders by expiry (unknown expiries last), then by id so
// that equal dates keep a stable order between renders.
func soonestFirst(a, b ExpiringService) int {
	az, bz := a.Service.Expiration.IsZero(), b.Service.Expiration.IsZero()
	switch {
	case az != bz:
		if az {
			return 1
		}
		return -1
	case !az:
		if c := a.Service.Expiration.Compare(b.Service.Expiration); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.Service.ID, b.Service.ID)
}

// Automatic reports whether OVHcloud renews s on its own. Any other mode
// (manual, or one this version does not know) needs someone to act.
func Automatic(s Service) bool {
	return strings.EqualFold(s.RenewMode, "automatic")
}
