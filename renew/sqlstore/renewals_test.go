package sqlstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/renewbot/renewbot/renew"
)

// awaitingFor stores a request for service sid waiting for approval, its
// chosen strategy renewing others too.
func awaitingFor(t testing.TB, s *Store, sid int64, others ...renew.ServiceDetail) *renew.Request {
	t.Helper()
	r := create(t, s, "C1", sid, s.Now())
	chosen := strategy(12, 100, sid)
	for _, d := range others {
		chosen.Services = append(chosen.Services, d.ID)
		chosen.Details = append(chosen.Details, d)
	}
	move(t, s, r.ID, renew.StateProposed, renew.StateOrdering, func(r *renew.Request) { r.Chosen = &chosen })
	return move(t, s, r.ID, renew.StateOrdering, renew.StateAwaitingApproval, func(r *renew.Request) {
		r.Order = &renew.Order{ID: 8000 + sid, Date: t0, Expiration: t0.Add(48 * time.Hour), PriceWithTax: euros(100)}
	})
}

// One payment renews a service from a given expiry: once a request may
// have paid (paying, paid, unknown, delivered…), another request renewing
// the same service from the same expiry cannot claim a payment, whichever
// of its services overlaps, and its refusal writes nothing. A payment
// that failed frees the renewal for the next request.
func testOnePaymentPerExpiry(t *testing.T, s *Store) {
	ctx := t.Context()
	extra := renew.ServiceDetail{ID: 99, Name: "example.net", Expiration: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	first := awaitingFor(t, s, 42, extra)
	if _, moved, err := claim(s, first, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("first claim: moved %v, %v", moved, err)
	}
	expiry := first.Service.Expiration
	for _, rw := range []renew.Renewal{{ServiceID: 42, From: expiry}, {ServiceID: 99, From: extra.Expiration}} {
		if by, err := s.RenewedBy(ctx, rw); err != nil || by == nil || by.ID != first.ID {
			t.Fatalf("RenewedBy(%d from %s) = %v, %v; want the first request", rw.ServiceID, rw.From, by, err)
		}
	}
	if by, _ := s.RenewedBy(ctx, renew.Renewal{ServiceID: 42, From: expiry.AddDate(1, 0, 0)}); by != nil {
		t.Fatalf("a renewal from the next expiry is taken by %s", by.ID)
	}
	move(t, s, first.ID, renew.StatePaying, renew.StatePaid, nil)

	// The same service from the same expiry: refused, nothing written.
	for _, second := range []*renew.Request{
		awaitingFor(t, s, 42),
		awaitingFor(t, s, 7, extra), // overlapping through a strategy's other service
	} {
		got, moved, err := claim(s, second, "U-B", renew.Budget{})
		var already *renew.AlreadyRenewedError
		if !errors.As(err, &already) || !errors.Is(err, renew.ErrRenewedElsewhere) || moved || already.By == nil || already.By.ID != first.ID {
			t.Fatalf("claiming a renewal the first paid for: moved %v, %v", moved, err)
		}
		if got == nil || got.State != renew.StateAwaitingApproval {
			t.Fatalf("the refused request as returned: %+v", got)
		}
		if now := get(t, s, second.ID); now.State != renew.StateAwaitingApproval || len(now.Approvals) != 0 || now.Version != second.Version {
			t.Fatalf("the refusal wrote: %s, %d approvals, version %d (was %d)", now.State, len(now.Approvals), now.Version, second.Version)
		}
		move(t, s, second.ID, renew.StateAwaitingApproval, renew.StateCancelled, nil)
	}

	// A failed payment holds no renewal: the next request claims it.
	failed := awaitingFor(t, s, 55)
	if _, moved, err := claim(s, failed, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim on 55: moved %v, %v", moved, err)
	}
	move(t, s, failed.ID, renew.StatePaying, renew.StatePaymentFailed, nil)
	if by, _ := s.RenewedBy(ctx, renew.Renewal{ServiceID: 55, From: expiry}); by != nil {
		t.Fatalf("a failed payment still renews 55: %s", by.ID)
	}
	move(t, s, failed.ID, renew.StatePaymentFailed, renew.StateCancelled, nil)
	next := awaitingFor(t, s, 55)
	if _, moved, err := claim(s, next, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim on 55 after a failed payment: moved %v, %v", moved, err)
	}
	if by, _ := s.RenewedBy(ctx, renew.Renewal{ServiceID: 55, From: expiry}); by == nil || by.ID != next.ID {
		t.Fatalf("RenewedBy(55) = %v, want the next request", by)
	}
}

// Migration 0005 counts the payments made before it: a paid request that
// has no renewal row gets one, from its own service's expiry.
func testRenewalsBackfill(t *testing.T, s *Store) {
	ctx := t.Context()
	old := awaitingFor(t, s, 61)
	if _, moved, err := claim(s, old, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim: moved %v, %v", moved, err)
	}
	move(t, s, old.ID, renew.StatePaying, renew.StatePaid, nil)
	if _, err := s.db.ExecContext(ctx, "DELETE FROM renewals"); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(s.d.name)
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, m := range ms {
		if m.version == 5 {
			backfill = m.sql[strings.Index(m.sql, "INSERT"):]
		}
	}
	if backfill == "" {
		t.Fatal("migration 0005 has no backfill")
	}
	if _, err := s.db.ExecContext(ctx, backfill); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	if by, err := s.RenewedBy(ctx, renew.Renewal{ServiceID: 61, From: old.Service.Expiration}); err != nil || by == nil || by.ID != old.ID {
		t.Fatalf("after the backfill, RenewedBy(61) = %v, %v; want the paid request", by, err)
	}
	if _, _, err := claim(s, awaitingFor(t, s, 61), "U-B", renew.Budget{}); !errors.Is(err, renew.ErrRenewedElsewhere) {
		t.Fatalf("a second payment after the backfill: %v", err)
	}
}
