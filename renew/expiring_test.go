package renew

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func expIDs(es []ExpiringService) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Service.ID
	}
	return out
}

func TestExpiringSortsAndSeparates(t *testing.T) {
	expired := acctService(1, "expired", -3)
	expired.State = "toSuspend"
	suspended := acctService(2, "suspended", 12)
	suspended.State, suspended.RenewMode = "suspended", "automatic"
	longExpired := acctService(3, "long-expired", -40)
	soon := acctService(4, "soon", 2)
	later := acctService(5, "later", 24)
	sameDay := acctService(6, "same-day", 2) // ties keep id order
	beyond := acctService(7, "beyond", 31)
	auto := acctService(8, "auto", 10)
	auto.RenewMode = "automatic"
	autoBeyond := acctService(9, "auto-beyond", 90)
	autoBeyond.RenewMode = "automatic"
	deleted := acctService(10, "deleted", 1)
	deleted.State = "deleted"
	noExpiry := acctService(11, "no-expiry", 0)
	noExpiry.Expiration = time.Time{}
	oneShot := acctService(12, "one-shot", 5)
	oneShot.RenewMode = "oneShot" // unknown modes need someone to act

	l := Listing{
		Services: []Service{later, beyond, auto, soon, expired, deleted, suspended, longExpired, sameDay, autoBeyond, noExpiry, oneShot},
		Failed:   []FailedService{{ID: 99, Err: errors.New("timeout")}, {ID: 42, Err: errors.New("500")}},
		At:       acctNow,
	}
	got := Expiring(l, acctNow, 30)
	if want := []int64{3, 1, 2}; !slices.Equal(expIDs(got.Attention), want) {
		t.Errorf("attention %v, want %v (most overdue first)", expIDs(got.Attention), want)
	}
	if !got.Attention[1].Expired || got.Attention[1].DaysLeft != -3 || !got.Attention[1].Suspended {
		t.Errorf("expired entry = %+v", got.Attention[1])
	}
	if got.Attention[2].Expired || !got.Attention[2].Suspended {
		t.Errorf("suspended entry = %+v", got.Attention[2])
	}
	if want := []int64{4, 6, 12, 5}; !slices.Equal(expIDs(got.Manual), want) {
		t.Errorf("manual %v, want %v", expIDs(got.Manual), want)
	}
	if want := []int64{8}; !slices.Equal(expIDs(got.Automatic), want) {
		t.Errorf("automatic %v, want %v", expIDs(got.Automatic), want)
	}
	if len(got.Unknown) != 2 || got.Unknown[0].ID != 42 || got.Unknown[1].ID != 99 {
		t.Errorf("unknown %+v, want 42 then 99", got.Unknown)
	}
	if got.Read != 12 || got.Days != 30 || !got.At.Equal(acctNow) || got.Empty() {
		t.Errorf("read %d, days %d, at %v", got.Read, got.Days, got.At)
	}

	wider := Expiring(l, acctNow, 31)
	if want := []int64{4, 6, 12, 5, 7}; !slices.Equal(expIDs(wider.Manual), want) {
		t.Errorf("31 days: manual %v, want %v", expIDs(wider.Manual), want)
	}
	if !Expiring(Listing{}, acctNow, 30).Empty() {
		t.Error("an empty account lists something")
	}
}

// The days left are counted in the expiry's time zone: at 23:30 in Paris
// a service expiring at midnight in Paris expires tomorrow, while at
// 23:30 UTC it is already the day it expires.
func TestExpiringDayBoundaries(t *testing.T) {
	exp := acctService(1, "web-front", 0)
	exp.Expiration = time.Date(2026, 11, 27, 0, 0, 0, 0, acctParis)
	l := Listing{Services: []Service{exp}}
	for _, c := range []struct {
		name string
		now  time.Time
		days int // days left
	}{
		{"23:30 in Paris", time.Date(2026, 11, 26, 23, 30, 0, 0, acctParis), 1},
		{"23:30 UTC, 00:30 in Paris", time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC), 0},
		{"one second before midnight in Paris", time.Date(2026, 11, 26, 22, 59, 59, 0, time.UTC), 1},
		{"midnight in Paris", time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC), 0},
		{"a day after, in Tokyo", time.Date(2026, 11, 28, 9, 0, 0, 0, time.FixedZone("JST", 9*3600)), -1},
	} {
		got := Expiring(l, c.now, c.days)
		var e ExpiringService
		switch {
		case len(got.Manual) == 1:
			e = got.Manual[0]
		case len(got.Attention) == 1:
			e = got.Attention[0]
		default:
			t.Errorf("%s: not listed within %d days: %+v", c.name, c.days, got)
			continue
		}
		if e.DaysLeft != c.days || e.Expired != (c.days < 0) {
			t.Errorf("%s: %d days left (expired %v), want %d", c.name, e.DaysLeft, e.Expired, c.days)
		}
		// DAYS is inclusive: a service with D days left shows with DAYS = D,
		// not with D-1.
		if c.days > 0 && len(Expiring(l, c.now, c.days-1).Manual) != 0 {
			t.Errorf("%s: listed within %d days", c.name, c.days-1)
		}
	}
}
