package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultReminderDays are the thresholds of RENEWBOT_REMINDER_DAYS: a
// reminder a month, a week and a day before a manual renewal is due.
var DefaultReminderDays = []int{30, 7, 1}

// maxThreshold bounds a threshold: ten years ahead is already no reminder.
const maxThreshold = 3660

// ParseThresholds reads RENEWBOT_REMINDER_DAYS, e.g. "30,7,1": whole days,
// in any order. It returns them sorted from the smallest, without repeats.
func ParseThresholds(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > maxThreshold {
			return nil, fmt.Errorf("reminder days: %q is not a number of days from 0 to %d", f, maxThreshold)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reminder days: %q lists no days (e.g. 30,7,1)", s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// thresholds sorts and cleans thresholds given in code, defaulting when
// there are none.
func thresholds(ts []int) []int {
	if len(ts) == 0 {
		ts = DefaultReminderDays
	}
	out := slices.DeleteFunc(slices.Clone(ts), func(t int) bool { return t < 0 })
	slices.Sort(out)
	return slices.Compact(out)
}

// Reminder says a manual renewal crossed a threshold: the service expires
// within Threshold days (or has expired).
type Reminder struct {
	Service   Service
	DaysLeft  int // negative once expired
	Threshold int
	Expired   bool
	// Key identifies the reminder in the ReminderLog:
	// "SERVICEID/THRESHOLD/EXPIRY" ("expired" in place of the threshold
	// once expired). A renewal moves the expiry, so the renewed service is
	// reminded again at its next crossing.
	Key string
}

// Digest lists the manual renewals that crossed a threshold: a service
// with D days left belongs to the smallest threshold T with D <= T, so
// each service appears once, under the most urgent threshold it reached.
// Expired services come first, flagged, with a key of their own: they are
// reminded once more when they expire. Services renewed automatically,
// deleted, or without an expiry date are left out. The rest are sorted
// soonest first.
func Digest(l Listing, now time.Time, ts []int) []Reminder {
	ts = thresholds(ts)
	if len(ts) == 0 {
		return nil
	}
	var out []Reminder
	for _, s := range l.Services {
		if s.State == "deleted" || Automatic(s) || s.Expiration.IsZero() {
			continue
		}
		d := s.DaysLeft(now)
		i, _ := slices.BinarySearch(ts, d) // the smallest T >= d
		if i == len(ts) {
			continue
		}
		r := Reminder{Service: s, DaysLeft: d, Threshold: ts[i], Expired: d < 0}
		when := strconv.Itoa(r.Threshold)
		if r.Expired {
			when = "expired"
		}
		r.Key = fmt.Sprintf("%d/%s/%s", s.ID, when, s.Expiration.Format(time.DateOnly))
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Reminder) int {
		if a.Expired != b.Expired {
			if a.Expired {
				return -1
			}
			return 1
		}
		return soonestFirst(ExpiringService{Service: a.Service}, ExpiringService{Service: b.Service})
	})
	return out
}

// Reminders works out the daily digest: what is due and not yet sent.
type Reminders struct {
	Account *Account
	Log     ReminderLog
	// Thresholds in days (default DefaultReminderDays).
	Thresholds []int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Leader, when set, tells Run whether this replica posts the digest
	// (a lease in the store): replicas then never post partial digests
	// side by side. Claim still guarantees no reminder is posted twice.
	Leader func(ctx context.Context) bool
}

func (r *Reminders) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Due returns the reminders of the digest not sent yet, without
// remembering them: `renewbot remind --dry-run` shows them and nothing
// changes. Nothing due is an empty slice.
//
// Only a log that can say what it holds without remembering it (a
// SentLog) lets Due leave out what was sent; with any other log Due
// returns the whole digest. Once, which claims before posting, never
// repeats a reminder either way.
func (r *Reminders) Due(ctx context.Context) ([]Reminder, error) {
	l, err := r.Account.List(ctx)
	if err != nil {
		return nil, err
	}
	all := Digest(l, r.now(), r.Thresholds)
	log, ok := r.Log.(SentLog)
	if len(all) == 0 || !ok {
		return all, nil
	}
	keys := make([]string, len(all))
	for i, rm := range all {
		keys[i] = rm.Key
	}
	sent, err := log.Remembered(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("read reminder log: %w", err)
	}
	return slices.DeleteFunc(all, func(rm Reminder) bool { return sent[rm.Key] }), nil
}

// SentLog is a ReminderLog that can also tell which keys it holds
// without remembering them.
type SentLog interface {
	ReminderLog
	Remembered(ctx context.Context, keys []string) (map[string]bool, error)
}

// Claim remembers reminders and returns those this caller remembered
// first: of two replicas claiming the same digest, each reminder goes to
// one of them only.
func (r *Reminders) Claim(ctx context.Context, rs []Reminder) ([]Reminder, error) {
	at := r.now()
	var mine []Reminder
	for _, rm := range rs {
		first, err := r.Log.Remember(ctx, rm.Key, at)
		if err != nil {
			return mine, fmt.Errorf("remember reminder %s: %w", rm.Key, err)
		}
		if first {
			mine = append(mine, rm)
		}
	}
	return mine, nil
}

// Once posts the digest of what is due, after claiming it in the log, and
// returns what it posted. Nothing due: post is not called. A reminder is
// never posted twice, by this replica or another; one whose post failed
// is not posted again (a missed reminder rather than a channel spammed
// on every retry: the next threshold, and /renew list, still tell).
func (r *Reminders) Once(ctx context.Context, post func(context.Context, []Reminder) error) ([]Reminder, error) {
	due, err := r.Due(ctx)
	if err != nil {
		return nil, err
	}
	mine, err := r.Claim(ctx, due)
	if len(mine) > 0 {
		if perr := post(ctx, mine); perr != nil {
			return nil, errors.Join(fmt.Errorf("post reminders: %w", perr), err)
		}
	}
	return mine, err
}

// Run calls Once every day at the time at says, until ctx ends. A day
// that fails is reported to failed (which may be nil) and not retried
// before the next day: the reminders it missed come with the next digest
// if still due.
func (r *Reminders) Run(ctx context.Context, at DailyAt, post func(context.Context, []Reminder) error, failed func(error)) error {
	for {
		wait := at.Next(r.now()).Sub(r.now())
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if r.Leader != nil && !r.Leader(ctx) {
			continue // another replica posts today's digest
		}
		if _, err := r.Once(ctx, post); err != nil && failed != nil && ctx.Err() == nil {
			failed(err)
		}
	}
}

// DailyAt is a time of day in a time zone (RENEWBOT_REMINDER_AT), such as
// 09:00 in Europe/Paris.
type DailyAt struct {
	Hour, Minute int
	Location     *time.Location
}

// ParseDailyAt reads "HH:MM ZONE", e.g. "09:00 Europe/Paris"; without a
// zone the time is in UTC. Zones are IANA names: the binary should embed
// time/tzdata in case the system has none.
func ParseDailyAt(s string) (DailyAt, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) > 2 {
		return DailyAt{}, fmt.Errorf("daily time %q: want HH:MM and a time zone, e.g. 09:00 Europe/Paris", s)
	}
	t, err := time.Parse("15:04", fields[0])
	if err != nil {
		return DailyAt{}, fmt.Errorf("daily time %q: %q is not HH:MM", s, fields[0])
	}
	d := DailyAt{Hour: t.Hour(), Minute: t.Minute(), Location: time.UTC}
	if len(fields) == 2 {
		loc, err := time.LoadLocation(fields[1])
		if err != nil || fields[1] == "Local" {
			return DailyAt{}, fmt.Errorf("daily time %q: unknown time zone %q", s, fields[1])
		}
		d.Location = loc
	}
	return d, nil
}

func (d DailyAt) String() string {
	return fmt.Sprintf("%02d:%02d %s", d.Hour, d.Minute, d.loc())
}

func (d DailyAt) loc() *time.Location {
	if d.Location == nil {
		return time.UTC
	}
	return d.Location
}

// Next returns the first instant strictly after after when the clock in
// d's zone reads d's time. Days are calendar days of the zone, so across
// a DST change the wait is 23 or 25 hours and the time of day stays put.
// A time that a DST change skips that day happens once, at whatever
// instant time.Date gives it.
func (d DailyAt) Next(after time.Time) time.Time {
	loc := d.loc()
	y, m, day := after.In(loc).Date()
	for i := range 3 {
		t := time.Date(y, m, day+i, d.Hour, d.Minute, 0, 0, loc)
		if t.After(after) {
			return t
		}
	}
	// Unreachable: two days on is always after.
	return time.Date(y, m, day+2, d.Hour, d.Minute, 0, 0, loc)
}
