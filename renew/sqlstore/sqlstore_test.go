package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/internal/pgtest"
	"github.com/renewbot/renewbot/renew"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestSQLite(t *testing.T) { testStore(t, sqliteURL) }

// TestPostgres runs where pgtest finds PostgreSQL (see README, Tests).
func TestPostgres(t *testing.T) {
	pgtest.URL(t) // skips the whole suite at once when there is none
	testStore(t, pgtest.URL)
}

// TestPostgresSmallPool runs the contract on a pool of two connections:
// a transaction that waited for a second connection while holding one
// would hang here, where a few concurrent callers take both.
func TestPostgresSmallPool(t *testing.T) {
	pgtest.URL(t)
	small := func(s *Store) { s.maxConns = 2 }
	testStore(t, pgtest.URL, small)
	testBudgetAndSlack(t, pgtest.URL, small)
}

// The pool of a PostgreSQL store is bounded.
func TestPostgresPoolIsBounded(t *testing.T) {
	s := open(t, pgtest.URL(t))
	if got := s.db.Stats().MaxOpenConnections; got != postgresMaxConns {
		t.Fatalf("MaxOpenConnections = %d, want %d", got, postgresMaxConns)
	}
}

// sqliteURL returns the URL of a fresh database file.
func sqliteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "renewbot.db")
}

// testStore is the contract every backend meets. newURL returns the URL of
// a fresh, empty database.
func testStore(t *testing.T, newURL func(testing.TB) string, opts ...Option) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"CreateConflict", testCreateConflict},
		{"GetNotFound", testGetNotFound},
		{"Transition", testTransition},
		{"TransitionWrongState", testTransitionWrongState},
		{"TransitionForbidden", testTransitionForbidden},
		{"TransitionRetriesRace", testTransitionRetriesRace},
		{"TransitionGivesUp", testTransitionGivesUp},
		{"TransitionOwnedFields", testTransitionOwnedFields},
		{"PaymentFailedClearsApprovals", testPaymentFailedClearsApprovals},
		{"Update", testUpdate},
		{"Approve", testApprove},
		{"ApproveWrongState", testApproveWrongState},
		{"ApproveRace", testApproveRace},
		{"TransitionRace", testTransitionRace},
		{"UpdateRace", testUpdateRace},
		{"ChangePanics", testChangePanics},
		{"List", testList},
		{"Events", testEvents},
		{"SequenceNotClock", testSequenceNotClock},
		{"OneRequestPerService", testOneRequestPerService},
		{"OneRequestPerServiceRace", testOneRequestPerServiceRace},
		{"UpdateIfUnchanged", testUpdateIfUnchanged},
		{"TransitionIfClaimed", testTransitionIfClaimed},
		{"OnePaymentPerExpiry", testOnePaymentPerExpiry},
		{"RenewalsBackfill", testRenewalsBackfill},
		{"RenewalsBackfillPrefersPaid", testRenewalsBackfillPrefersPaid},
		{"RenewalKeyIsTheInstant", testRenewalKeyIsTheInstant},
		{"RenewalKeyInSQLIsGos", testRenewalKeyInSQLIsGos},
		{"RenewalClaimedByAnOldReplica", testRenewalClaimedByAnOldReplica},
		{"Lease", testLease},
		{"LeaseRace", testLeaseRace},
		{"Remember", testRemember},
		{"Remembered", testRemembered},
		{"RememberForgetsOldKeys", testRememberForgetsOldKeys},
		{"CountByState", testCountByState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t, newURL(t), opts...))
		})
	}
	t.Run("OneClock", func(t *testing.T) {
		t.Parallel()
		testOneClock(t, newURL(t))
	})
	t.Run("NoMigrate", func(t *testing.T) {
		t.Parallel()
		testNoMigrate(t, newURL(t))
	})
	t.Run("ConcurrentOpen", func(t *testing.T) {
		t.Parallel()
		testConcurrentOpen(t, newURL(t))
	})
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		s, err := Open(t.Context(), newURL(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		s.Close()
		if err := s.Ping(t.Context()); err == nil {
			t.Fatal("Ping after Close: no error")
		}
	})
}

// clocks holds each test store's manual clock: no test depends on the
// calendar or on how long a step takes.
var clocks sync.Map // *Store -> *fakeclock.Clock

// open opens a store whose clock stands at t0 until the test moves it.
func open(t testing.TB, u string, opts ...Option) *Store {
	t.Helper()
	clk := fakeclock.New(t0)
	s, err := Open(context.Background(), u, append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	clocks.Store(s, clk)
	t.Cleanup(func() { clocks.Delete(s); s.Close() })
	return s
}

// clockOf returns the manual clock of a store made by open.
func clockOf(s *Store) *fakeclock.Clock {
	c, _ := clocks.Load(s)
	return c.(*fakeclock.Clock)
}

var (
	cet = time.FixedZone("CET", 3600)
	// t0 has nanoseconds and a zone: both must survive a round trip.
	t0 = time.Date(2026, 11, 26, 10, 30, 15, 123456789, cet)
)

func strategy(months int, price int64, ids ...int64) renew.Strategy {
	s := renew.Strategy{
		Period:   renew.Period{Months: months},
		Services: ids,
		Price:    renew.Money{Ucents: price, Currency: "EUR", Text: renew.FormatUcents(price) + " €"},
	}
	for _, id := range ids {
		s.Details = append(s.Details, renew.ServiceDetail{ID: id, Name: fmt.Sprintf("svc-%d", id), Type: "VPS"})
	}
	return s
}

// newRequest returns a request in state proposed with every field a new
// request has.
func newRequest(channel string, serviceID int64, created time.Time) *renew.Request {
	return &renew.Request{
		ID:          renew.NewID(),
		State:       renew.StateProposed,
		Channel:     channel,
		InitiatedBy: "U-INIT",
		Service: renew.Service{
			ID: serviceID, Name: fmt.Sprintf("vps-%d.example.net", serviceID), DisplayName: "web-front",
			Product: "VPS Value", State: "active", Route: "/vps/{serviceName}",
			Expiration: time.Date(2026, 12, 20, 0, 0, 0, 0, cet),
			RenewMode:  "manual", RenewPeriod: "P1M", Billing: "rentingAction",
		},
		Options:   []renew.Strategy{strategy(1, 700_000_000, serviceID), strategy(12, 8_400_000_000, serviceID, 99)},
		CreatedAt: created,
		UpdatedAt: created,
		ExpiresAt: created.Add(24 * time.Hour),
	}
}

// create stores a new request in state proposed.
func create(t testing.TB, s *Store, channel string, serviceID int64, created time.Time) *renew.Request {
	t.Helper()
	r := newRequest(channel, serviceID, created)
	ev := renew.Event{At: created, Actor: "U-INIT", Action: "proposed", Detail: "2 strategies"}
	if err := s.Create(context.Background(), r, ev); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return r
}

// awaiting stores a request and moves it to awaiting_approval with an
// order.
func awaiting(t testing.TB, s *Store) *renew.Request {
	t.Helper()
	r := create(t, s, "C1", 42, t0)
	move(t, s, r.ID, renew.StateProposed, renew.StateOrdering, nil)
	return move(t, s, r.ID, renew.StateOrdering, renew.StateAwaitingApproval, func(r *renew.Request) {
		r.Order = &renew.Order{ID: 7001, Date: t0, Expiration: t0.Add(48 * time.Hour),
			PriceWithTax: renew.Money{Ucents: 840_000_000, Currency: "EUR"}}
	})
}

func move(t testing.TB, s *Store, id string, from, to renew.State, change func(*renew.Request)) *renew.Request {
	t.Helper()
	r, err := s.Transition(context.Background(), id, []renew.State{from}, to,
		renew.Event{Actor: "U-X", Action: string(to)}, change)
	if err != nil {
		t.Fatalf("Transition %s -> %s: %v", from, to, err)
	}
	return r
}

func get(t testing.TB, s *Store, id string) *renew.Request {
	t.Helper()
	r, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return r
}

func events(t testing.TB, s *Store, f renew.EventFilter) []renew.Event {
	t.Helper()
	evs, err := s.Events(context.Background(), f)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return evs
}

// normalize returns a copy of r whose times are all in UTC, so that
// reflect.DeepEqual compares instants (as time.Equal does), not zones.
func normalize(r *renew.Request) *renew.Request {
	c := *r
	utc := func(t *time.Time) { *t = t.UTC() }
	for _, t := range []*time.Time{&c.CreatedAt, &c.UpdatedAt, &c.ExpiresAt, &c.PaidAt, &c.PaySentAt, &c.ClaimedAt, &c.Service.Expiration} {
		utc(t)
	}
	if c.Order != nil {
		o := *c.Order
		utc(&o.Date)
		utc(&o.Expiration)
		c.Order = &o
	}
	c.Approvals = nil
	for _, a := range r.Approvals {
		utc(&a.At)
		c.Approvals = append(c.Approvals, a)
	}
	return &c
}

func sameRequest(t testing.TB, got, want *renew.Request) {
	t.Helper()
	g, w := normalize(got), normalize(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("request differs\n got: %+v\nwant: %+v", g, w)
	}
}

func testRoundTrip(t *testing.T, s *Store) {
	ctx := t.Context()
	chosen := strategy(12, 8_400_000_000, 42, 99)
	r := &renew.Request{
		ID:          renew.NewID(),
		Version:     3,
		State:       renew.StatePaid,
		Channel:     "C123",
		MessageTS:   "1732611015.000200",
		InitiatedBy: "U-INIT",
		RequestedBy: "U-REQ",
		Service: renew.Service{
			ID: 42, Name: "vps-1.example.net", DisplayName: "web-front", Product: "VPS Value",
			State: "active", Route: "/vps/{serviceName}", Expiration: t0.Add(24 * 24 * time.Hour),
			RenewMode: "manual", RenewPeriod: "P1M", Billing: "rentingAction",
		},
		Options: []renew.Strategy{strategy(1, 700_000_000, 42), chosen, {Period: renew.Period{Days: 30}}},
		Chosen:  &chosen,
		Order: &renew.Order{
			ID: 123456789, Date: t0, Expiration: t0.Add(72 * time.Hour),
			PriceWithoutTax: renew.Money{Ucents: 8_400_000_000, Currency: "EUR", Text: "84.00 €"},
			Tax:             renew.Money{Ucents: 1_680_000_000, Currency: "EUR", Text: "16.80 €"},
			PriceWithTax:    renew.Money{Ucents: 10_080_000_000, Currency: "EUR", Text: "100.80 €"},
		},
		OrderStatus: renew.OrderDelivering,
		Approvals: []renew.Approval{
			{User: "U-B", At: t0.Add(time.Minute)},
			{User: "U-A", At: t0.Add(2 * time.Minute)},
		},
		PaidBy:       "U-A",
		PaidAt:       t0.Add(3 * time.Minute),
		PaySentAt:    t0.Add(150 * time.Second),
		Attempt:      2,
		CancelledBy:  "U-C",
		CancelReason: "changed our mind",
		Error:        "ovhcloud: 400 bad (query id EU.ext-1.abc)",
		DryRun:       true,
		CreatedAt:    t0,
		UpdatedAt:    t0.Add(4 * time.Minute),
		ExpiresAt:    t0.Add(24 * time.Hour),
	}
	if err := s.Create(ctx, r, renew.Event{At: t0, Actor: "U-INIT", Action: "proposed", Detail: "x"}); err != nil {
		t.Fatal(err)
	}
	got := get(t, s, r.ID)
	sameRequest(t, got, r)
	// The brief's way too: instants are equal to the nanosecond.
	if !got.CreatedAt.Equal(t0) || !got.Service.Expiration.Equal(r.Service.Expiration) || !got.Approvals[0].At.Equal(r.Approvals[0].At) {
		t.Fatalf("times: got %v, %v", got.CreatedAt, got.Service.Expiration)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}

	// The zero values round-trip too: no order, nothing chosen, no times.
	z := &renew.Request{ID: renew.NewID(), State: renew.StateProposed, CreatedAt: t0, UpdatedAt: t0}
	if err := s.Create(ctx, z, renew.Event{}); err != nil {
		t.Fatal(err)
	}
	sameRequest(t, get(t, s, z.ID), z)

	evs := events(t, s, renew.EventFilter{RequestID: r.ID})
	want := renew.Event{ID: evs[0].ID, RequestID: r.ID, At: t0, Actor: "U-INIT", Action: "proposed", To: renew.StatePaid, Detail: "x"}
	if len(evs) != 1 || !evs[0].At.Equal(t0) {
		t.Fatalf("events: %+v", evs)
	}
	evs[0].At = t0
	if evs[0] != want {
		t.Fatalf("event\n got %+v\nwant %+v", evs[0], want)
	}
	if evs := events(t, s, renew.EventFilter{RequestID: z.ID}); len(evs) != 1 || evs[0].Action != "created" || !evs[0].At.Equal(t0) {
		t.Fatalf("default event: %+v", evs)
	}
}

func testCreateConflict(t *testing.T, s *Store) {
	r := create(t, s, "C1", 1, t0)
	dup := newRequest("C2", 2, t0)
	dup.ID = r.ID
	err := s.Create(t.Context(), dup, renew.Event{})
	if !errors.Is(err, renew.ErrConflict) {
		t.Fatalf("Create of a taken id: %v, want ErrConflict", err)
	}
	if got := get(t, s, r.ID); got.Channel != "C1" {
		t.Fatalf("the first request was overwritten: %+v", got)
	}
	if err := s.Create(t.Context(), &renew.Request{State: renew.StateProposed}, renew.Event{}); err == nil {
		t.Fatal("Create without an id: no error")
	}
}

func testGetNotFound(t *testing.T, s *Store) {
	_, err := s.Get(t.Context(), "nope")
	if !errors.Is(err, renew.ErrNotFound) {
		t.Fatalf("Get: %v, want ErrNotFound", err)
	}
	_, err = s.Transition(t.Context(), "nope", []renew.State{renew.StateProposed}, renew.StateOrdering, renew.Event{}, nil)
	if !errors.Is(err, renew.ErrNotFound) {
		t.Fatalf("Transition: %v, want ErrNotFound", err)
	}
	_, _, err = s.Approve(t.Context(), "nope", []renew.State{renew.StateAwaitingApproval}, renew.Approval{User: "U"}, 1, renew.Budget{})
	if !errors.Is(err, renew.ErrNotFound) {
		t.Fatalf("Approve: %v, want ErrNotFound", err)
	}
}

func testTransition(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	at := t0.Add(time.Minute)
	chosen := r.Options[1]
	got, err := s.Transition(t.Context(), r.ID, []renew.State{renew.StateProposed, renew.StateAwaitingApproval}, renew.StateOrdering,
		renew.Event{At: at, Actor: "U-REQ", Action: "chose", Detail: "1 year"},
		func(r *renew.Request) { r.RequestedBy, r.Chosen = "U-REQ", &chosen })
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.State, want.Version, want.UpdatedAt, want.RequestedBy, want.Chosen = renew.StateOrdering, 1, at, "U-REQ", &chosen
	sameRequest(t, got, &want)
	sameRequest(t, get(t, s, r.ID), &want)

	evs := events(t, s, renew.EventFilter{RequestID: r.ID})
	if len(evs) != 2 {
		t.Fatalf("events: %+v", evs)
	}
	ev := evs[0]
	if ev.Action != "chose" || ev.Actor != "U-REQ" || ev.From != renew.StateProposed || ev.To != renew.StateOrdering ||
		!ev.At.Equal(at) || ev.Detail != "1 year" || ev.RequestID != r.ID {
		t.Fatalf("event: %+v", ev)
	}

	// Without ev.At, the write is stamped with the store's clock.
	clockOf(s).Advance(time.Hour)
	got = move(t, s, r.ID, renew.StateOrdering, renew.StateAwaitingApproval, nil)
	if now := s.Now(); !got.UpdatedAt.Equal(now) || got.Version != 2 {
		t.Fatalf("UpdatedAt %v, want the store's clock %v; version %d", got.UpdatedAt, now, got.Version)
	}
	if evs := events(t, s, renew.EventFilter{RequestID: r.ID, Limit: 1}); len(evs) != 1 || !evs[0].At.Equal(s.Now()) || evs[0].To != renew.StateAwaitingApproval {
		t.Fatalf("latest event: %+v", evs)
	}
}

func testTransitionWrongState(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	move(t, s, r.ID, renew.StateProposed, renew.StateOrdering, nil)
	called := false
	got, err := s.Transition(t.Context(), r.ID, []renew.State{renew.StateProposed}, renew.StateOrdering,
		renew.Event{Action: "chose"}, func(*renew.Request) { called = true })
	var se *renew.StateError
	if !errors.As(err, &se) || se.ID != r.ID || se.State != renew.StateOrdering || !errors.Is(err, renew.ErrConflict) {
		t.Fatalf("err = %v, want StateError{%s, ordering}", err, r.ID)
	}
	if got == nil || got.State != renew.StateOrdering || got.Version != 1 {
		t.Fatalf("returned request: %+v, want the current one", got)
	}
	if called {
		t.Error("change ran on a refused transition")
	}
	if n := len(events(t, s, renew.EventFilter{RequestID: r.ID})); n != 2 {
		t.Fatalf("%d events, want 2: a refused transition records nothing", n)
	}
	if v := get(t, s, r.ID).Version; v != 1 {
		t.Fatalf("version %d after a refused transition, want 1", v)
	}
}

func testTransitionForbidden(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	_, err := s.Transition(t.Context(), r.ID, []renew.State{renew.StateProposed}, renew.StatePaid, renew.Event{Action: "paid"}, nil)
	if err == nil || errors.Is(err, renew.ErrConflict) {
		t.Fatalf("proposed -> paid: %v, want a plain error", err)
	}
	if got := get(t, s, r.ID); got.State != renew.StateProposed || got.Version != 0 {
		t.Fatalf("request changed: %+v", got)
	}
}

func testTransitionRetriesRace(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	calls := 0
	// Someone writes between the read and the conditional write of the
	// first attempt: that attempt must find no row and start over.
	s.afterRead = func(ctx context.Context, tx *sql.Tx, attempt int) error {
		calls++
		if attempt > 1 {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.d.rebind("UPDATE requests SET version = version + 1 WHERE id = ?"), r.ID)
		return err
	}
	changes := 0
	got, err := s.Transition(t.Context(), r.ID, []renew.State{renew.StateProposed}, renew.StateOrdering,
		renew.Event{Action: "chose"}, func(r *renew.Request) { changes++; r.RequestedBy = "U-REQ" })
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || changes != 2 {
		t.Fatalf("%d reads, %d changes; want 2 of each", calls, changes)
	}
	if got.State != renew.StateOrdering || got.RequestedBy != "U-REQ" || got.Version != 1 {
		t.Fatalf("got %+v", got)
	}
	sameRequest(t, get(t, s, r.ID), got)
	if n := len(events(t, s, renew.EventFilter{RequestID: r.ID})); n != 2 {
		t.Fatalf("%d events, want 2: the lost attempt records nothing", n)
	}
}

func testTransitionGivesUp(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	s.afterRead = func(ctx context.Context, tx *sql.Tx, attempt int) error {
		_, err := tx.ExecContext(ctx, s.d.rebind("UPDATE requests SET version = version + 1 WHERE id = ?"), r.ID)
		return err
	}
	_, err := s.Transition(t.Context(), r.ID, []renew.State{renew.StateProposed}, renew.StateOrdering, renew.Event{Action: "chose"}, nil)
	if !errors.Is(err, renew.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict after %d lost races", err, maxAttempts)
	}
	s.afterRead = nil
	if got := get(t, s, r.ID); got.State != renew.StateProposed || got.Version != 0 {
		t.Fatalf("request changed: %+v", got)
	}
}

func testTransitionOwnedFields(t *testing.T, s *Store) {
	r := awaiting(t, s)
	if _, _, err := s.Approve(t.Context(), r.ID, []renew.State{renew.StateAwaitingApproval}, renew.Approval{User: "U-A", At: t0}, 2, renew.Budget{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(t.Context(), r.ID, renew.Event{}, func(x *renew.Request) {
		x.ID, x.Version, x.State, x.CreatedAt = "other", 99, renew.StatePaid, t0.Add(time.Hour)
		x.Approvals = nil
		x.MessageTS = "1.2"
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Version != r.Version+2 || got.State != renew.StateAwaitingApproval ||
		!got.CreatedAt.Equal(t0) || len(got.Approvals) != 1 || got.MessageTS != "1.2" {
		t.Fatalf("got %+v", got)
	}
	sameRequest(t, get(t, s, r.ID), got)
}

func testPaymentFailedClearsApprovals(t *testing.T, s *Store) {
	ctx := t.Context()
	r := awaiting(t, s)
	approvable := []renew.State{renew.StateAwaitingApproval, renew.StatePaymentFailed}
	_, moved, err := s.Approve(ctx, r.ID, approvable, renew.Approval{User: "U-A", At: t0}, 1, renew.Budget{})
	if err != nil || !moved {
		t.Fatalf("Approve: moved %v, %v", moved, err)
	}
	got := move(t, s, r.ID, renew.StatePaying, renew.StatePaymentFailed, func(r *renew.Request) { r.Error = "card refused" })
	if len(got.Approvals) != 0 || got.Error != "card refused" {
		t.Fatalf("after payment_failed: %+v", got)
	}
	if got := get(t, s, r.ID); len(got.Approvals) != 0 {
		t.Fatalf("stored approvals after payment_failed: %+v", got.Approvals)
	}
	// A new round: the same click again (attempt 0) changes nothing...
	if got.Attempt != 1 {
		t.Fatalf("attempt after payment_failed = %d, want 1", got.Attempt)
	}
	var stale *renew.StaleApprovalError
	replay, moved, err := s.Approve(ctx, r.ID, approvable, renew.Approval{User: "U-A", At: t0.Add(time.Hour)}, 1, renew.Budget{})
	if !errors.As(err, &stale) || moved || replay == nil || replay.State != renew.StatePaymentFailed || len(get(t, s, r.ID).Approvals) != 0 {
		t.Fatalf("replayed approval: %+v, moved %v, %v", replay, moved, err)
	}
	// ...and the same approver may approve the new attempt.
	got, moved, err = s.Approve(ctx, r.ID, approvable, renew.Approval{User: "U-A", At: t0.Add(time.Hour), Attempt: 1}, 1, renew.Budget{})
	if err != nil || !moved || got.State != renew.StatePaying || len(got.Approvals) != 1 {
		t.Fatalf("Approve again: %+v, moved %v, %v", got, moved, err)
	}
}

func testUpdate(t *testing.T, s *Store) {
	ctx := t.Context()
	r := awaiting(t, s)
	n := len(events(t, s, renew.EventFilter{RequestID: r.ID}))
	got, err := s.Update(ctx, r.ID, renew.Event{}, func(r *renew.Request) { r.MessageTS = "111.222" })
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageTS != "111.222" || got.State != renew.StateAwaitingApproval || got.Version != r.Version+1 {
		t.Fatalf("got %+v", got)
	}
	if m := len(events(t, s, renew.EventFilter{RequestID: r.ID})); m != n {
		t.Fatalf("Update without an action recorded an event")
	}
	at := t0.Add(time.Hour)
	got, err = s.Update(ctx, r.ID, renew.Event{At: at, Action: "status", Detail: "checking"},
		func(r *renew.Request) { r.OrderStatus = renew.OrderChecking })
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderStatus != renew.OrderChecking || !got.UpdatedAt.Equal(at) || got.Version != r.Version+2 {
		t.Fatalf("got %+v", got)
	}
	sameRequest(t, get(t, s, r.ID), got)
	evs := events(t, s, renew.EventFilter{RequestID: r.ID})
	if len(evs) != n+1 || evs[0].Action != "status" || evs[0].From != renew.StateAwaitingApproval || evs[0].To != renew.StateAwaitingApproval {
		t.Fatalf("events: %+v", evs)
	}
}

func testApprove(t *testing.T, s *Store) {
	ctx := t.Context()
	r := awaiting(t, s)
	from := []renew.State{renew.StateAwaitingApproval, renew.StatePaymentFailed}

	got, moved, err := s.Approve(ctx, r.ID, from, renew.Approval{User: "U-A", At: t0.Add(time.Minute)}, 2, renew.Budget{})
	if err != nil || moved || got.State != renew.StateAwaitingApproval || len(got.Approvals) != 1 || got.Version != r.Version+1 {
		t.Fatalf("first approval: %+v, moved %v, %v", got, moved, err)
	}
	sameRequest(t, get(t, s, r.ID), got)

	// The same user again counts once and writes nothing.
	again, moved, err := s.Approve(ctx, r.ID, from, renew.Approval{User: "U-A", At: t0.Add(2 * time.Minute)}, 2, renew.Budget{})
	if err != nil || moved || len(again.Approvals) != 1 || again.Version != got.Version || !again.Approvals[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("second click: %+v, moved %v, %v", again, moved, err)
	}

	got, moved, err = s.Approve(ctx, r.ID, from, renew.Approval{User: "U-B", At: t0.Add(3 * time.Minute)}, 2, renew.Budget{})
	if err != nil || !moved || got.State != renew.StatePaying || len(got.Approvals) != 2 || got.Approvals[1].User != "U-B" {
		t.Fatalf("second approver: %+v, moved %v, %v", got, moved, err)
	}
	sameRequest(t, get(t, s, r.ID), got)

	evs := events(t, s, renew.EventFilter{RequestID: r.ID, Limit: 2})
	if len(evs) != 2 {
		t.Fatalf("events: %+v", evs)
	}
	if e := evs[0]; e.Action != "approved" || e.Actor != "U-B" || e.From != renew.StateAwaitingApproval || e.To != renew.StatePaying || e.Detail != "2 of 2" {
		t.Fatalf("moving approval event: %+v", e)
	}
	if e := evs[1]; e.Action != "approved" || e.Actor != "U-A" || e.From != renew.StateAwaitingApproval || e.To != renew.StateAwaitingApproval || e.Detail != "1 of 2" {
		t.Fatalf("first approval event: %+v", e)
	}
}

func testApproveWrongState(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	got, moved, err := s.Approve(t.Context(), r.ID, []renew.State{renew.StateAwaitingApproval}, renew.Approval{User: "U-A"}, 1, renew.Budget{})
	var se *renew.StateError
	if !errors.As(err, &se) || se.State != renew.StateProposed || moved || got == nil || got.State != renew.StateProposed {
		t.Fatalf("Approve of a proposed request: %+v, %v, %v", got, moved, err)
	}
	if got := get(t, s, r.ID); len(got.Approvals) != 0 || got.Version != 0 {
		t.Fatalf("request changed: %+v", got)
	}
}

// testApproveRace: 50 clicks of 5 people at once, 2 approvals needed:
// exactly 2 approvals stick and exactly one click pays.
func testApproveRace(t *testing.T, s *Store) {
	r := awaiting(t, s)
	from := []renew.State{renew.StateAwaitingApproval, renew.StatePaymentFailed}
	var (
		wg            sync.WaitGroup
		mu            sync.Mutex
		movedN, stale int
		errs          []error
	)
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			user := fmt.Sprintf("U-%d", i%5)
			_, moved, err := s.Approve(context.Background(), r.ID, from, renew.Approval{User: user, At: clockOf(s).Now()}, 2, renew.Budget{})
			mu.Lock()
			defer mu.Unlock()
			var se *renew.StateError
			switch {
			case errors.As(err, &se) && se.State == renew.StatePaying:
				stale++
			case err != nil:
				errs = append(errs, err)
			case moved:
				movedN++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(errs), errs[0])
	}
	if movedN != 1 {
		t.Fatalf("%d callers moved the request to paying, want exactly 1", movedN)
	}
	got := get(t, s, r.ID)
	if got.State != renew.StatePaying || len(got.Approvals) != 2 || got.Approvals[0].User == got.Approvals[1].User {
		t.Fatalf("after the race: %s with %+v", got.State, got.Approvals)
	}
	n := 0
	for _, e := range events(t, s, renew.EventFilter{RequestID: r.ID}) {
		if e.Action == "approved" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d approved events, want 2", n)
	}
	t.Logf("%d refused as already paying", stale)
}

// testTransitionRace: many writers move the same request out of the same
// state; exactly one succeeds, the others see where it went.
func testTransitionRace(t *testing.T, s *Store) {
	r := awaiting(t, s)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   int
		errs   []error
		losers int
	)
	start := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			<-start
			to := renew.StateCancelled
			if i%2 == 0 {
				to = renew.StateExpired
			}
			_, err := s.Transition(context.Background(), r.ID, []renew.State{renew.StateAwaitingApproval}, to,
				renew.Event{Actor: fmt.Sprintf("U-%d", i), Action: string(to)}, nil)
			mu.Lock()
			defer mu.Unlock()
			var se *renew.StateError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &se) && (se.State == renew.StateCancelled || se.State == renew.StateExpired):
				losers++
			default:
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(errs), errs[0])
	}
	if wins != 1 || losers != 19 {
		t.Fatalf("%d wins, %d losers; want 1 and 19", wins, losers)
	}
	if got := get(t, s, r.ID); got.Version != r.Version+1 {
		t.Fatalf("version %d, want %d", got.Version, r.Version+1)
	}
	n := 0
	for _, e := range events(t, s, renew.EventFilter{RequestID: r.ID}) {
		if e.From == renew.StateAwaitingApproval && e.To != e.From {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d transitions out of awaiting_approval recorded, want 1", n)
	}
}

// testUpdateRace: concurrent read-modify-writes of one request lose no
// update and all succeed.
func testUpdateRace(t *testing.T, s *Store) {
	r := awaiting(t, s)
	const n = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := s.Update(context.Background(), r.ID, renew.Event{Action: "note", Detail: fmt.Sprint(i)},
				func(r *renew.Request) { r.Error += "x" })
			if err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	got := get(t, s, r.ID)
	if got.Error != strings.Repeat("x", n) || got.Version != r.Version+n {
		t.Fatalf("after %d updates: error %q, version %d (from %d)", n, got.Error, got.Version, r.Version)
	}
}

// testChangePanics: a panicking change function leaves no transaction
// (and on SQLite no write lock) behind.
func testChangePanics(t *testing.T, s *Store) {
	r := create(t, s, "C1", 42, t0)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		s.Update(t.Context(), r.ID, renew.Event{}, func(*renew.Request) { panic("boom") })
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Update(ctx, r.ID, renew.Event{}, func(r *renew.Request) { r.MessageTS = "1" }); err != nil {
		t.Fatalf("write after a panic: %v", err)
	}
}

func ids(rs []*renew.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func testList(t *testing.T, s *Store) {
	ctx := t.Context()
	a := create(t, s, "C1", 1, t0)
	b := create(t, s, "C2", 2, t0.Add(time.Minute))
	c := create(t, s, "C1", 3, t0.Add(2*time.Minute))
	d := create(t, s, "C1", 4, t0.Add(3*time.Minute))
	move(t, s, c.ID, renew.StateProposed, renew.StateCancelled, nil)
	// d never expires.
	if _, err := s.Update(ctx, d.ID, renew.Event{}, func(r *renew.Request) { r.ExpiresAt = time.Time{} }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Approve(ctx, a.ID, []renew.State{renew.StateProposed}, renew.Approval{User: "U-A", At: t0}, 5, renew.Budget{}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		f    renew.Filter
		want []string
	}{
		{"all", renew.Filter{}, []string{d.ID, c.ID, b.ID, a.ID}},
		{"channel", renew.Filter{Channel: "C1"}, []string{d.ID, c.ID, a.ID}},
		{"states", renew.Filter{States: []renew.State{renew.StateProposed, renew.StatePaying}}, []string{d.ID, b.ID, a.ID}},
		{"channel and state", renew.Filter{Channel: "C1", States: []renew.State{renew.StateProposed}}, []string{d.ID, a.ID}},
		{"limit", renew.Filter{Limit: 2}, []string{d.ID, c.ID}},
		// a expires at t0+24h, b at t0+24h1m: strictly before.
		{"expires before", renew.Filter{ExpiresBefore: t0.Add(24*time.Hour + time.Minute)}, []string{a.ID}},
		{"expires before, no NULLs", renew.Filter{ExpiresBefore: t0.Add(1000 * time.Hour)}, []string{c.ID, b.ID, a.ID}},
		{"nothing", renew.Filter{Channel: "C9"}, nil},
	} {
		rs, err := s.List(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := ids(rs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	rs, err := s.List(ctx, renew.Filter{Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		sameRequest(t, r, get(t, s, r.ID))
	}
	if len(rs[2].Approvals) != 1 {
		t.Fatalf("List lost the approvals: %+v", rs[2])
	}
}

func testEvents(t *testing.T, s *Store) {
	a := create(t, s, "C1", 1, t0)
	b := create(t, s, "C2", 2, t0.Add(time.Minute))
	move(t, s, b.ID, renew.StateProposed, renew.StateCancelled, nil) // frees service 2
	c := create(t, s, "C1", 2, t0.Add(2*time.Minute))
	for i, r := range []*renew.Request{a, b, c} {
		if _, err := s.Update(t.Context(), r.ID, renew.Event{At: t0.Add(time.Hour + time.Duration(i)*time.Minute), Action: "note"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	type key struct {
		id     string
		action string
	}
	keys := func(evs []renew.Event) []key {
		var out []key
		for _, e := range evs {
			out = append(out, key{e.RequestID, e.Action})
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    renew.EventFilter
		want []key
	}{
		{"all", renew.EventFilter{}, []key{{c.ID, "note"}, {b.ID, "note"}, {a.ID, "note"}, {c.ID, "proposed"}, {b.ID, "cancelled"}, {b.ID, "proposed"}, {a.ID, "proposed"}}},
		{"request", renew.EventFilter{RequestID: b.ID}, []key{{b.ID, "note"}, {b.ID, "cancelled"}, {b.ID, "proposed"}}},
		{"service", renew.EventFilter{ServiceID: 2}, []key{{c.ID, "note"}, {b.ID, "note"}, {c.ID, "proposed"}, {b.ID, "cancelled"}, {b.ID, "proposed"}}},
		{"channel", renew.EventFilter{Channel: "C1"}, []key{{c.ID, "note"}, {a.ID, "note"}, {c.ID, "proposed"}, {a.ID, "proposed"}}},
		{"service and channel", renew.EventFilter{ServiceID: 2, Channel: "C1"}, []key{{c.ID, "note"}, {c.ID, "proposed"}}},
		{"limit", renew.EventFilter{Channel: "C1", Limit: 3}, []key{{c.ID, "note"}, {a.ID, "note"}, {c.ID, "proposed"}}},
		{"nothing", renew.EventFilter{RequestID: "nope"}, nil},
	} {
		if got := keys(events(t, s, tt.f)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// testOneRequestPerService: from the moment its order is being created
// until it is paid or ends, a request holds the services it renews; a
// second one is refused with the holder named, and nothing of it changes.
// Proposals hold nothing.
func testOneRequestPerService(t *testing.T, s *Store) {
	ctx := t.Context()
	first := create(t, s, "C1", 42, t0)
	second := create(t, s, "C2", 42, t0.Add(time.Minute)) // two proposals are fine
	if h, err := s.Holder(ctx, 42); err != nil || h != nil {
		t.Fatalf("a proposal holds service 42: %+v, %v", h, err)
	}
	move(t, s, first.ID, renew.StateProposed, renew.StateOrdering, nil)
	if h, err := s.Holder(ctx, 42); err != nil || h == nil || h.ID != first.ID {
		t.Fatalf("Holder(42) = %+v, %v; want the first request", h, err)
	}
	got, err := s.Transition(ctx, second.ID, []renew.State{renew.StateProposed}, renew.StateOrdering,
		renew.Event{Actor: "U-B", Action: "chose"}, nil)
	var busy *renew.BusyError
	if !errors.As(err, &busy) || busy.ServiceID != 42 || busy.Holder == nil || busy.Holder.ID != first.ID || busy.Holder.State != renew.StateOrdering {
		t.Fatalf("second order for service 42: %v (%+v)", err, busy)
	}
	if got == nil || got.State != renew.StateProposed || get(t, s, second.ID).State != renew.StateProposed {
		t.Fatalf("the refused request moved: %+v", got)
	}

	// A strategy that renews a held service with its own (99 with 43)
	// is refused too.
	third := create(t, s, "C1", 99, t0)
	move(t, s, third.ID, renew.StateProposed, renew.StateOrdering, nil)
	other := create(t, s, "C1", 43, t0)
	both := strategy(12, 100, 43, 99)
	if _, err := s.Transition(ctx, other.ID, []renew.State{renew.StateProposed}, renew.StateOrdering,
		renew.Event{Action: "chose"}, func(r *renew.Request) { r.Chosen = &both }); !errors.As(err, &busy) || busy.ServiceID != 99 || busy.Holder.ID != third.ID {
		t.Fatalf("choosing a held service: %v", err)
	}
	if h, _ := s.Holder(ctx, 43); h != nil {
		t.Fatalf("the refused choice left service 43 held by %s", h.ID)
	}

	// Held while awaiting approval, paying...; released once paid.
	for _, to := range []renew.State{renew.StateAwaitingApproval, renew.StatePaying, renew.StatePaid} {
		move(t, s, first.ID, get(t, s, first.ID).State, to, nil)
		_, err := s.Transition(ctx, second.ID, []renew.State{renew.StateProposed}, renew.StateOrdering, renew.Event{Action: "chose"}, nil)
		if to == renew.StatePaid {
			if err != nil {
				t.Fatalf("service 42 once the first is paid: %v", err)
			}
		} else if !errors.As(err, &busy) {
			t.Fatalf("service 42 while the first is %s: %v", to, err)
		}
	}
	// Ending a request releases everything it held.
	move(t, s, third.ID, renew.StateOrdering, renew.StateFailed, nil)
	if h, _ := s.Holder(ctx, 99); h != nil {
		t.Fatalf("a failed request still holds 99")
	}

	// A lock left behind by an older version (its holder ended without
	// releasing it) holds nothing: it is taken over.
	gone := create(t, s, "C1", 77, t0)
	move(t, s, gone.ID, renew.StateProposed, renew.StateCancelled, nil)
	if _, err := s.db.ExecContext(ctx, s.d.rebind("INSERT INTO service_locks (service_id, request_id) VALUES (?, ?)"), 77, gone.ID); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Holder(ctx, 77); err != nil || h != nil {
		t.Fatalf("Holder of a stale lock: %+v, %v", h, err)
	}
	next := create(t, s, "C1", 77, t0)
	move(t, s, next.ID, renew.StateProposed, renew.StateOrdering, nil)
	if h, _ := s.Holder(ctx, 77); h == nil || h.ID != next.ID {
		t.Fatalf("the stale lock was not taken over: %+v", h)
	}
}

// testOneRequestPerServiceRace: replicas ordering one service for two
// requests at once: exactly one gets to order it.
func testOneRequestPerServiceRace(t *testing.T, s *Store) {
	var ids []string
	for i := range 10 {
		ids = append(ids, create(t, s, "C1", 7, t0.Add(time.Duration(i)*time.Second)).ID)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	start := make(chan struct{})
	for _, id := range ids {
		wg.Go(func() {
			<-start
			_, err := s.Transition(context.Background(), id, []renew.State{renew.StateProposed}, renew.StateOrdering, renew.Event{Action: "chose"}, nil)
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, renew.ErrServiceBusy):
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n, _ := s.List(context.Background(), renew.Filter{States: []renew.State{renew.StateOrdering}}); wins != 1 || len(n) != 1 {
		t.Fatalf("%d orders won, %d ordering; want exactly one", wins, len(n))
	}

	// A domain with its hosting and the hosting with its domain, ordered
	// together, many times: one wins each round, and nobody deadlocks.
	for round := range 30 {
		a, b := create(t, s, "C1", int64(1000+round), t0), create(t, s, "C1", int64(2000+round), t0)
		ab := strategy(12, 100, a.Service.ID, b.Service.ID)
		ba := strategy(12, 100, b.Service.ID, a.Service.ID)
		var errs [2]error
		var wg sync.WaitGroup
		wg.Go(func() {
			_, errs[0] = s.Transition(context.Background(), a.ID, []renew.State{renew.StateProposed}, renew.StateOrdering, renew.Event{Action: "chose"}, func(r *renew.Request) { r.Chosen = &ab })
		})
		wg.Go(func() {
			_, errs[1] = s.Transition(context.Background(), b.ID, []renew.State{renew.StateProposed}, renew.StateOrdering, renew.Event{Action: "chose"}, func(r *renew.Request) { r.Chosen = &ba })
		})
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, renew.ErrServiceBusy):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d won", round, won)
		}
	}
}

// testUpdateIfUnchanged: the write before a pay call happens only if
// nobody wrote the request since it was claimed.
func testUpdateIfUnchanged(t *testing.T, s *Store) {
	ctx := t.Context()
	r := awaiting(t, s)
	got, err := s.UpdateIfUnchanged(ctx, r.ID, r.Version, renew.Event{}, func(r *renew.Request) { r.PaySentAt = t0 })
	if err != nil || !got.PaySentAt.Equal(t0) || got.Version != r.Version+1 {
		t.Fatalf("at the version read: %+v, %v", got, err)
	}
	_, err = s.UpdateIfUnchanged(ctx, r.ID, r.Version, renew.Event{}, func(r *renew.Request) { r.PaySentAt = t0.Add(time.Hour) })
	var se *renew.StateError
	if !errors.As(err, &se) {
		t.Fatalf("at an older version: %v, want a StateError", err)
	}
	if got := get(t, s, r.ID); !got.PaySentAt.Equal(t0) {
		t.Fatalf("a stale write changed PaySentAt to %v", got.PaySentAt)
	}
}

// testTransitionIfClaimed: the claimer of a payment writes through a
// message ts recorded meanwhile, never through a settled or newer claim.
func testTransitionIfClaimed(t *testing.T, s *Store) {
	ctx := t.Context()
	r, moved, err := claim(s, awaiting(t, s), "U-A", renew.Budget{})
	if err != nil || !moved {
		t.Fatalf("claim: moved %v, %v", moved, err)
	}
	c := r.Claim()
	if _, err := s.Update(ctx, r.ID, renew.Event{}, func(r *renew.Request) { r.MessageTS = "1.1" }); err != nil {
		t.Fatal(err)
	}
	sent, err := s.TransitionIfClaimed(ctx, r.ID, c, renew.StatePaying, renew.Event{}, func(r *renew.Request) { r.PaySentAt = t0 })
	if err != nil || sent.State != renew.StatePaying || !sent.PaySentAt.Equal(t0) || sent.MessageTS != "1.1" {
		t.Fatalf("stamping the pay call after a message ts: %+v, %v", sent, err)
	}
	// The claim as it was before the pay call was stamped is not this one.
	if _, err := s.TransitionIfClaimed(ctx, r.ID, c, renew.StatePaid, renew.Event{Action: "paid"}, nil); !errors.As(err, new(*renew.StateError)) {
		t.Fatalf("settling under the claim before its pay call: %v, want a StateError", err)
	}
	// Settled by someone else, then claimed again: the old claimer writes nothing.
	move(t, s, r.ID, renew.StatePaying, renew.StatePaymentFailed, nil)
	again, moved, err := s.Approve(ctx, r.ID, approvable, renew.Approval{User: "U-B", At: s.Now(), Attempt: sent.Attempt + 1}, 1, renew.Budget{})
	if err != nil || !moved {
		t.Fatalf("claim again: moved %v, %v", moved, err)
	}
	if _, err := s.TransitionIfClaimed(ctx, r.ID, sent.Claim(), renew.StatePaymentFailed, renew.Event{Action: "payment_failed"}, nil); !errors.As(err, new(*renew.StateError)) {
		t.Fatalf("the old claimer settling: %v, want a StateError", err)
	}
	if got := get(t, s, r.ID); got.State != renew.StatePaying || got.Version != again.Version {
		t.Fatalf("the old claimer wrote: %s, version %d (was %d)", got.State, got.Version, again.Version)
	}
	if got, err := s.TransitionIfClaimed(ctx, r.ID, again.Claim(), renew.StatePaid, renew.Event{Action: "paid"}, nil); err != nil || got.State != renew.StatePaid {
		t.Fatalf("the new claimer settling: %+v, %v", got, err)
	}
}

// testSequenceNotClock: replicas' clocks differ, so the latest event and
// the order of approvals are the order they were written, whatever their
// timestamps say.
func testSequenceNotClock(t *testing.T, s *Store) {
	ctx := t.Context()
	r := awaiting(t, s)
	from := []renew.State{renew.StateAwaitingApproval}
	// The second approver's replica runs an hour behind the first's.
	if _, _, err := s.Approve(ctx, r.ID, from, renew.Approval{User: "U-B", At: t0.Add(time.Hour)}, 3, renew.Budget{}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Approve(ctx, r.ID, from, renew.Approval{User: "U-A", At: t0}, 3, renew.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*renew.Request{got, get(t, s, r.ID)} {
		if len(r.Approvals) != 2 || r.Approvals[0].User != "U-B" || r.Approvals[1].User != "U-A" {
			t.Fatalf("approvals %+v, want U-B then U-A, as written", r.Approvals)
		}
	}
	if _, err := s.Update(ctx, r.ID, renew.Event{At: t0.Add(-time.Hour), Action: "status", Detail: "from a slow clock"}, nil); err != nil {
		t.Fatal(err)
	}
	evs := events(t, s, renew.EventFilter{RequestID: r.ID})
	if evs[0].Action != "status" || evs[1].Actor != "U-A" || evs[2].Actor != "U-B" {
		t.Fatalf("events newest first: %+v", evs)
	}
}

func testLease(t *testing.T, s *Store) {
	ctx := t.Context()
	lease := func(holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.Lease(ctx, "sweeper", holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	const ttl = 300 * time.Millisecond
	if !lease("A", ttl) {
		t.Fatal("A could not take a free lease")
	}
	if lease("B", ttl) {
		t.Fatal("B took A's live lease")
	}
	if !lease("A", ttl) {
		t.Fatal("A could not renew its lease")
	}
	if ok, err := s.Lease(ctx, "other", "B", ttl); err != nil || !ok {
		t.Fatalf("leases are per name: %v, %v", ok, err)
	}
	clockOf(s).Advance(ttl - time.Nanosecond)
	if lease("B", ttl) {
		t.Fatal("B took A's lease before it expired")
	}
	clockOf(s).Advance(time.Nanosecond)
	if !lease("B", ttl) {
		t.Fatal("B could not take the lease A let expire")
	}
	if lease("A", ttl) {
		t.Fatal("A took the lease back from B")
	}
	if _, err := s.Lease(ctx, "sweeper", "A", 0); err == nil {
		t.Fatal("zero ttl: no error")
	}
	// Only the holder releases; then the lease is free at once.
	if err := s.Release(ctx, "sweeper", "A"); err != nil {
		t.Fatal(err)
	}
	if lease("A", ttl) {
		t.Fatal("A's release freed B's lease")
	}
	if err := s.Release(ctx, "sweeper", "B"); err != nil {
		t.Fatal(err)
	}
	if !lease("A", ttl) {
		t.Fatal("A could not take the lease B released")
	}
}

func testLeaseRace(t *testing.T, s *Store) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins []string
	)
	start := make(chan struct{})
	for i := range 10 {
		wg.Go(func() {
			<-start
			holder := fmt.Sprintf("replica-%d", i)
			ok, err := s.Lease(context.Background(), "reminders", holder, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins = append(wins, holder)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("lease winners: %v, want exactly one", wins)
	}
}

func testRemember(t *testing.T, s *Store) {
	ctx := t.Context()
	ok, err := s.Remember(ctx, "req1:expiring:1h", t0)
	if err != nil || !ok {
		t.Fatalf("first Remember: %v, %v", ok, err)
	}
	ok, err = s.Remember(ctx, "req1:expiring:1h", t0.Add(time.Minute))
	if err != nil || ok {
		t.Fatalf("second Remember: %v, %v", ok, err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		firsts int
	)
	for range 10 {
		wg.Go(func() {
			ok, err := s.Remember(context.Background(), "req2", clockOf(s).Now())
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("%d callers saw the key first, want 1", firsts)
	}
}

// testOneClock: two replicas whose clocks are an hour apart read the same
// time from the store (PostgreSQL: the server's clock); on SQLite, one
// machine, the store's time is the process's clock.
func testOneClock(t *testing.T, u string) {
	ahead := fakeclock.New(t0.Add(time.Hour))
	behind := fakeclock.New(t0)
	a, err := Open(t.Context(), u, WithClock(ahead.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), u, WithClock(behind.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.d.name == "sqlite" {
		if !a.Now().Equal(ahead.Now()) || !b.Now().Equal(behind.Now()) {
			t.Fatalf("SQLite: Now %v and %v, want each process's clock", a.Now(), b.Now())
		}
		return
	}
	if d := a.Now().Sub(b.Now()).Abs(); d > time.Second {
		t.Fatalf("replicas an hour apart disagree by %v after SyncClock", d)
	}
	// The clock keeps running with the process's, corrected.
	behind.Advance(time.Minute)
	if d := b.Now().Sub(a.Now()) - time.Minute; d.Abs() > time.Second {
		t.Fatalf("after a minute on one replica: off by %v", d)
	}
}

// testConcurrentOpen: replicas starting together migrate once.
func testConcurrentOpen(t *testing.T, u string) {
	var wg sync.WaitGroup
	stores := make([]*Store, 8)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), u) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer s.Close()
	}
	ms, err := loadMigrations(stores[0].d.name)
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := stores[0].db.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].version {
		t.Fatalf("schema_migrations: %d rows up to %d, want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].version)
	}
	// Every store works.
	for i, s := range stores {
		create(t, s, "C1", int64(i+1), t0)
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, u := range []string{
		"mysql://root:hunter2@db/renewbot",
		"renewbot.db",
		"sqlite:",
		"sqlite::memory:",
		"sqlite:x.db?_txlock=deferred",
		"sqlite://x.db",
		"postgres://u:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=1",
		"postgres://u:hunter2@127.0.0.1:1/x?sslmode=bogus",
		"",
	} {
		_, err := Open(t.Context(), u)
		if err == nil {
			t.Errorf("Open(%q): no error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): error shows the password: %v", u, err)
		}
	}
	_, err := Open(t.Context(), "mysql://root:hunter2@db/renewbot")
	if msg := err.Error(); !strings.Contains(msg, "sqlite:PATH") || !strings.Contains(msg, "postgres://") {
		t.Errorf("error does not say which forms are accepted: %v", err)
	}
}

// TestSQLiteSettings: every pooled connection runs with the settings the
// store's safety relies on.
func TestSQLiteSettings(t *testing.T) {
	s := open(t, sqliteURL(t))
	ctx := t.Context()
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"foreign_keys": "1",
			"synchronous":  "2", // FULL
			"busy_timeout": "10000",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: %s = %s, want %s", i, pragma, got, want)
			}
		}
	}
}

// TestSQLiteImmediate: a write transaction holds the write lock from
// BEGIN, so no other write can slip between its read and its write.
func TestSQLiteImmediate(t *testing.T) {
	s := open(t, sqliteURL(t))
	tx, err := s.db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Remember(ctx, "k", t0); err == nil {
		t.Fatal("a write went through while a transaction that has not written yet was open")
	}
}

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got := sqliteDialect.rebind(q); got != q {
		t.Errorf("sqlite: %s", got)
	}
	if got, want := postgresDialect.rebind(q), "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"; got != want {
		t.Errorf("postgres: %s, want %s", got, want)
	}
}

func BenchmarkGet(b *testing.B) {
	s := open(b, sqliteURL(b))
	r := awaiting(b, s)
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := s.Approve(ctx, r.ID, []renew.State{renew.StateAwaitingApproval}, renew.Approval{User: fmt.Sprint("U", i)}, 5, renew.Budget{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.Get(ctx, r.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransition(b *testing.B) {
	s := open(b, sqliteURL(b))
	r := awaiting(b, s)
	ctx := context.Background()
	if _, moved, err := s.Approve(ctx, r.ID, []renew.State{renew.StateAwaitingApproval}, renew.Approval{User: "U-A"}, 1, renew.Budget{}); err != nil || !moved {
		b.Fatal(moved, err)
	}
	// paying <-> payment_failed: a transition each way, always allowed.
	states := [2]renew.State{renew.StatePaying, renew.StatePaymentFailed}
	i := 0
	for b.Loop() {
		from, to := states[i%2], states[(i+1)%2]
		if _, err := s.Transition(ctx, r.ID, []renew.State{from}, to, renew.Event{Action: string(to)}, nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func testRemembered(t *testing.T, s *Store) {
	ctx := t.Context()
	for _, k := range []string{"10001/7/2026-12-20", "10002/30/2027-01-05"} {
		if _, err := s.Remember(ctx, k, t0); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{"10001/7/2026-12-20", "10001/1/2026-12-20", "10002/30/2027-01-05"}
	for i := range 600 { // more than one batch
		keys = append(keys, fmt.Sprintf("x/%d", i))
	}
	got, err := s.Remembered(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["10001/7/2026-12-20"] || !got["10002/30/2027-01-05"] {
		t.Fatalf("Remembered = %v, want the two remembered keys", got)
	}
	// Asking remembers nothing.
	if ok, _ := s.Remember(ctx, "10001/1/2026-12-20", t0); !ok {
		t.Fatal("Remembered remembered a key it was only asked about")
	}
}

func testCountByState(t *testing.T, s *Store) {
	ctx := t.Context()
	for i, st := range []renew.State{renew.StateProposed, renew.StateProposed, renew.StatePaid} {
		r := &renew.Request{ID: fmt.Sprintf("count%02d", i), State: st, Channel: "C1", CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0,
			Service: renew.Service{ID: int64(100 + i)}}
		if err := s.Create(ctx, r, renew.Event{At: t0, Action: "created", To: st}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.CountByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got[renew.StateProposed] != 2 || got[renew.StatePaid] != 1 || len(got) != 2 {
		t.Fatalf("CountByState = %v", got)
	}
}

// testRememberForgetsOldKeys: keys remembered more than 400 days ago, on
// the store's clock, go when another is remembered; younger ones stay.
func testRememberForgetsOldKeys(t *testing.T, s *Store) {
	ctx := t.Context()
	clk := clockOf(s)
	for _, k := range []string{"1/30/2026-12-26", "2/7/2026-12-03"} {
		if _, err := s.Remember(ctx, k, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(200 * 24 * time.Hour)
	if _, err := s.Remember(ctx, "3/30/2027-06-14", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(201 * 24 * time.Hour) // the first two are 401 days old
	if _, err := s.Remember(ctx, "4/1/2028-01-01", clk.Now()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM reminders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	got, err := s.Remembered(ctx, []string{"1/30/2026-12-26", "2/7/2026-12-03", "3/30/2027-06-14", "4/1/2028-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || got["1/30/2026-12-26"] || got["2/7/2026-12-03"] || !got["3/30/2027-06-14"] || !got["4/1/2028-01-01"] {
		t.Fatalf("%d rows, remembered %v: want the two keys of the last 400 days only", n, got)
	}
}

// testNoMigrate: a store opened with NoMigrate creates no table and says
// which migrations the bot would apply; once migrated, none is pending.
func testNoMigrate(t *testing.T, u string) {
	ctx := t.Context()
	ms, err := loadMigrations(map[bool]string{true: "sqlite", false: "postgres"}[strings.HasPrefix(u, "sqlite:")])
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	for _, m := range ms {
		all = append(all, m.version)
	}
	s, err := Open(ctx, u, NoMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Pending(ctx); err != nil || !reflect.DeepEqual(got, all) {
		t.Fatalf("Pending before any migration = %v, %v; want %v", got, err, all)
	}
	if _, err := s.db.ExecContext(ctx, "SELECT 1 FROM requests"); err == nil {
		t.Fatal("NoMigrate created the requests table")
	}
	m, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got, err := s.Pending(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Pending once migrated = %v, %v; want none", got, err)
	}
}

// Existing refuses a SQLite file that is not there, in one line naming
// it, and creates nothing.
func TestExistingSaysNoDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "renewbot.db")
	s, err := Open(t.Context(), "sqlite:"+path, Existing(), NoMigrate())
	if err == nil {
		s.Close()
		t.Fatal("Open of a missing file with Existing worked")
	}
	if want := "no database at " + path; err.Error() != want || !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("Open = %q (ErrNoDatabase: %v), want %q", err, errors.Is(err, ErrNoDatabase), want)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open created %s: %v", path, err)
	}
}
