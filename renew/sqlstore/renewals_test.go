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
	runBackfill(t, s)
	if by, err := s.RenewedBy(ctx, renew.Renewal{ServiceID: 61, From: old.Service.Expiration}); err != nil || by == nil || by.ID != old.ID {
		t.Fatalf("after the backfill, RenewedBy(61) = %v, %v; want the paid request", by, err)
	}
	if _, _, err := claim(s, awaitingFor(t, s, 61), "U-B", renew.Budget{}); !errors.Is(err, renew.ErrRenewedElsewhere) {
		t.Fatalf("a second payment after the backfill: %v", err)
	}
}

// One expiry read with two UTC offsets is one renewal: the key is the
// instant, not the date as written.
func testRenewalKeyIsTheInstant(t *testing.T, s *Store) {
	ctx := t.Context()
	first := awaitingFor(t, s, 71)
	if _, moved, err := claim(s, first, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim: moved %v, %v", moved, err)
	}
	move(t, s, first.ID, renew.StatePaying, renew.StatePaid, nil)
	// 2026-12-20 00:00 in Paris is 2026-12-19 23:00 UTC: another date.
	utc := first.Service.Expiration.UTC()
	if utc.Format(time.DateOnly) == first.Service.Expiration.Format(time.DateOnly) {
		t.Fatalf("the fixture's expiry %s has the same date in UTC", first.Service.Expiration)
	}
	if by, err := s.RenewedBy(ctx, renew.Renewal{ServiceID: 71, From: utc}); err != nil || by == nil || by.ID != first.ID {
		t.Fatalf("RenewedBy(71 from %s) = %v, %v; want the paid request", utc, by, err)
	}
	second := awaitingFor(t, s, 71)
	second, err := s.Update(ctx, second.ID, renew.Event{}, func(r *renew.Request) { r.Service.Expiration = utc })
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := claim(s, second, "U-B", renew.Budget{}); !errors.Is(err, renew.ErrRenewedElsewhere) {
		t.Fatalf("the same expiry read in UTC: %v, want already renewed", err)
	}
}

// During a rolling upgrade, a replica of the version before migration 0005
// claims a payment without writing its renewals row: a claim on an upgraded
// replica still finds it, from the requests themselves.
func testRenewalClaimedByAnOldReplica(t *testing.T, s *Store) {
	ctx := t.Context()
	old := awaitingFor(t, s, 81)
	if _, moved, err := claim(s, old, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim: moved %v, %v", moved, err)
	}
	move(t, s, old.ID, renew.StatePaying, renew.StatePaid, nil)
	if _, err := s.db.ExecContext(ctx, "DELETE FROM renewals WHERE service_id = 81"); err != nil {
		t.Fatal(err)
	}
	rw := renew.Renewal{ServiceID: 81, From: old.Service.Expiration}
	if by, err := s.RenewedBy(ctx, rw); err != nil || by == nil || by.ID != old.ID {
		t.Fatalf("RenewedBy(81) = %v, %v; want the old replica's payment", by, err)
	}
	second := awaitingFor(t, s, 81)
	_, moved, err := claim(s, second, "U-B", renew.Budget{})
	var already *renew.AlreadyRenewedError
	if !errors.As(err, &already) || moved || already.By == nil || already.By.ID != old.ID {
		t.Fatalf("a second payment: moved %v, %v; want refused, by the old replica's", moved, err)
	}
	if by, _ := s.RenewedBy(ctx, renew.Renewal{ServiceID: 81, From: old.Service.Expiration.AddDate(1, 0, 0)}); by != nil {
		t.Fatalf("the next expiry is taken by %s", by.ID)
	}
}

// Of two payments recorded for one renewal before migration 0005 (one
// unknown, one paid), the backfilled row goes to the paid one: the unknown
// one failing later must not free a renewal that was paid.
func testRenewalsBackfillPrefersPaid(t *testing.T, s *Store) {
	ctx := t.Context()
	unsure := awaitingFor(t, s, 91)
	if _, moved, err := claim(s, unsure, "U-A", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim: moved %v, %v", moved, err)
	}
	move(t, s, unsure.ID, renew.StatePaying, renew.StatePaymentFailed, nil)
	move(t, s, unsure.ID, renew.StatePaymentFailed, renew.StateCancelled, nil)
	paid := awaitingFor(t, s, 91)
	if _, moved, err := claim(s, paid, "U-B", renew.Budget{}); err != nil || !moved {
		t.Fatalf("claim: moved %v, %v", moved, err)
	}
	move(t, s, paid.ID, renew.StatePaying, renew.StatePaid, nil)
	// The history an older version could leave: the first one unknown.
	if _, err := s.db.ExecContext(ctx, s.d.rebind("UPDATE requests SET state = 'unknown', created_at = created_at - 3600000000000 WHERE id = ?"), unsure.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM renewals"); err != nil {
		t.Fatal(err)
	}
	runBackfill(t, s)
	var holder string
	if err := s.db.QueryRowContext(ctx, "SELECT request_id FROM renewals WHERE service_id = 91").Scan(&holder); err != nil || holder != paid.ID {
		t.Fatalf("the backfilled row is %q's (%v); want the paid request %s's", holder, err, paid.ID)
	}
}

// runBackfill runs migration 0005's backfill again.
func runBackfill(t *testing.T, s *Store) {
	t.Helper()
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
	if _, err := s.db.ExecContext(t.Context(), backfill); err != nil {
		t.Fatalf("backfill: %v", err)
	}
}

// The scan for claims without a renewals row computes the key in SQL from
// the stored expiry: it must be Go's, whatever the offset or the fraction
// of a second (PostgreSQL's timestamptz would round .9999995 s up).
func testRenewalKeyInSQLIsGos(t *testing.T, s *Store) {
	ctx := t.Context()
	for i, exp := range []time.Time{
		time.Date(2026, 12, 20, 0, 0, 0, 0, cet),
		time.Date(2026, 12, 20, 0, 0, 0, 999999999, time.FixedZone("NPT", 5*3600+45*60)),
		time.Date(2026, 12, 20, 23, 59, 59, 1, time.FixedZone("X", -(9*3600+30*60))),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		r := awaitingFor(t, s, int64(500+i))
		r, err := s.Update(ctx, r.ID, renew.Event{}, func(x *renew.Request) { x.Service.Expiration = exp })
		if err != nil {
			t.Fatal(err)
		}
		var key int64
		if err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT "+s.d.serviceExpiry+" FROM requests WHERE id = ?"), r.ID).Scan(&key); err != nil {
			t.Fatalf("%s: %v", exp, err)
		}
		if want := expiresAt(renew.Renewal{From: exp}); key != want {
			t.Errorf("%s: key %d in SQL, %d in Go", exp.Format(time.RFC3339Nano), key, want)
		}
	}
}
