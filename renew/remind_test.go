package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
)

// remindLog is an in-memory ReminderLog that can also peek (a SentLog).
type remindLog struct {
	mu   sync.Mutex
	keys map[string]time.Time
	err  error
}

func (l *remindLog) Remember(_ context.Context, key string, at time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false, l.err
	}
	if l.keys == nil {
		l.keys = map[string]time.Time{}
	}
	if _, ok := l.keys[key]; ok {
		return false, nil
	}
	l.keys[key] = at
	return true, nil
}

func (l *remindLog) Remembered(_ context.Context, keys []string) (map[string]bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	for _, k := range keys {
		if _, ok := l.keys[k]; ok {
			out[k] = true
		}
	}
	return out, nil
}

func (l *remindLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// blindLog only remembers, like a plain ReminderLog.
type blindLog struct{ log remindLog }

func (l *blindLog) Remember(ctx context.Context, key string, at time.Time) (bool, error) {
	return l.log.Remember(ctx, key, at)
}

func remKeys(rs []Reminder) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	return out
}

func TestParseThresholds(t *testing.T) {
	for in, want := range map[string][]int{
		"30,7,1": {1, 7, 30}, " 1 , 30,7,7 ": {1, 7, 30}, "0": {0}, "14": {14},
	} {
		got, err := ParseThresholds(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseThresholds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", ",", "30,x", "-1", "1.5", "99999"} {
		if got, err := ParseThresholds(in); err == nil {
			t.Errorf("ParseThresholds(%q) = %v, want an error", in, got)
		}
	}
}

func TestDigestThresholds(t *testing.T) {
	var services []Service
	for _, d := range []int{31, 30, 8, 7, 2, 1, 0, -1} {
		services = append(services, acctService(int64(100+d), fmt.Sprintf("d%d", d), d))
	}
	auto := acctService(500, "auto", 5)
	auto.RenewMode = "automatic"
	deleted := acctService(501, "deleted", 5)
	deleted.State = "deleted"
	noExpiry := acctService(502, "no-expiry", 5)
	noExpiry.Expiration = time.Time{}
	services = append(services, auto, deleted, noExpiry)

	got := Digest(Listing{Services: services}, acctNow, []int{30, 7, 1})
	want := []string{
		"99/expired/2026-11-25", // expired first
		"100/1/2026-11-26",
		"101/1/2026-11-27",
		"102/7/2026-11-28",
		"107/7/2026-12-03",
		"108/30/2026-12-04",
		"130/30/2026-12-26",
	}
	if !slices.Equal(remKeys(got), want) {
		t.Fatalf("digest keys\n%v\nwant\n%v", remKeys(got), want)
	}
	if r := got[0]; !r.Expired || r.DaysLeft != -1 || r.Threshold != 1 {
		t.Errorf("expired reminder = %+v", r)
	}
	if r := got[3]; r.Expired || r.DaysLeft != 2 || r.Threshold != 7 {
		t.Errorf("2 days reminder = %+v", r)
	}
	if d := Digest(Listing{Services: services}, acctNow, nil); !slices.Equal(remKeys(d), want) {
		t.Errorf("default thresholds: %v", remKeys(d))
	}
	if d := Digest(Listing{}, acctNow, nil); len(d) != 0 {
		t.Errorf("empty account: %v", d)
	}
}

// At 23:30 in Paris a service expiring at midnight in Paris eight days
// later has 8 days left (the 30-day threshold); at 23:30 UTC, already the next
// day in Paris, it has 7 (the 7-day threshold).
func TestDigestAtDayBoundaryAcrossZones(t *testing.T) {
	s := acctService(1, "web-front", 0)
	s.Expiration = time.Date(2026, 12, 3, 0, 0, 0, 0, acctParis)
	l := Listing{Services: []Service{s}}
	inParis := Digest(l, time.Date(2026, 11, 25, 23, 30, 0, 0, acctParis), nil)
	inUTC := Digest(l, time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC), nil)
	if len(inParis) != 1 || inParis[0].DaysLeft != 8 || inParis[0].Threshold != 30 {
		t.Errorf("23:30 in Paris: %+v", inParis)
	}
	if len(inUTC) != 1 || inUTC[0].DaysLeft != 7 || inUTC[0].Threshold != 7 {
		t.Errorf("23:30 UTC: %+v", inUTC)
	}
}

func TestRemindersDedupeAcrossDaysRestartsAndRenewals(t *testing.T) {
	ctx := context.Background()
	ovh := &accountOVH{services: []Service{acctService(1, "web-front", 8), acctService(2, "api-back", 40)}}
	clk := fakeclock.New(acctNow)
	log := &remindLog{}
	start := func() *Reminders { // a fresh process: new cache, same store
		return &Reminders{Account: &Account{OVH: ovh, Now: clk.Now, TTL: -1}, Log: log, Now: clk.Now}
	}
	r := start()
	due := func(want ...string) []Reminder {
		t.Helper()
		got, err := r.Due(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(remKeys(got), want) && len(got)+len(want) > 0 {
			t.Fatalf("%s: due %v, want %v", clk.Now().Format(time.DateOnly), remKeys(got), want)
		}
		return got
	}

	first := due("1/30/2026-12-04")
	due("1/30/2026-12-04") // Due alone remembers nothing
	if log.len() != 0 {
		t.Fatal("Due wrote to the log")
	}
	if _, err := r.Claim(ctx, first); err != nil {
		t.Fatal(err)
	}
	due()

	clk.Advance(24 * time.Hour) // 7 days left: next threshold
	r = start()                 // and a restart
	due("1/7/2026-12-04")
	mine, err := r.Claim(ctx, []Reminder{{Key: "1/7/2026-12-04"}})
	if err != nil || len(mine) != 1 {
		t.Fatalf("Claim = %v, %v", mine, err)
	}
	due()

	// Renewed for a month: the 7-day reminder does not come back (38 days
	// left now), and the renewed service is reminded again at its next
	// crossing.
	ovh.mu.Lock()
	ovh.services[0].Expiration = ovh.services[0].Expiration.AddDate(0, 1, 0)
	ovh.mu.Unlock()
	due()
	clk.Advance(9 * 24 * time.Hour) // 2026-12-06
	if _, err := r.Claim(ctx, due("1/30/2027-01-04", "2/30/2027-01-05")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(28 * 24 * time.Hour) // 2027-01-03: 1 skipped 7 days, nobody looked
	if _, err := r.Claim(ctx, due("1/1/2027-01-04", "2/7/2027-01-05")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * 24 * time.Hour) // both expired unrenewed
	got := due("1/expired/2027-01-04", "2/expired/2027-01-05")
	if !got[0].Expired || got[0].DaysLeft != -2 {
		t.Errorf("expired reminder = %+v", got[0])
	}
}

func TestRemindersOnceNeverPostsTwiceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	ovh := &accountOVH{services: acctServices(40)}
	log := &remindLog{}
	now := func() time.Time { return acctNow }
	var mu sync.Mutex
	posted := map[string]int{}
	post := func(_ context.Context, rs []Reminder) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rs {
			posted[r.Key]++
		}
		return nil
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			r := &Reminders{Account: &Account{OVH: ovh, Now: now}, Log: log, Now: now}
			if _, err := r.Once(ctx, post); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want := len(Digest(Listing{Services: ovh.services}, acctNow, nil))
	if len(posted) != want || want != 31 {
		t.Errorf("%d reminders posted, want %d (0 to 30 days)", len(posted), want)
	}
	for k, n := range posted {
		if n != 1 {
			t.Errorf("%s posted %d times", k, n)
		}
	}

	// Nothing due: no post at all.
	r := &Reminders{Account: &Account{OVH: ovh, Now: now}, Log: log, Now: now}
	got, err := r.Once(ctx, func(context.Context, []Reminder) error {
		t.Error("posted an empty digest")
		return nil
	})
	if err != nil || len(got) != 0 {
		t.Errorf("Once = %v, %v", got, err)
	}
}

func TestRemindersWithALogThatCannotPeek(t *testing.T) {
	ctx := context.Background()
	ovh := &accountOVH{services: []Service{acctService(1, "web-front", 3)}}
	log := &blindLog{}
	now := func() time.Time { return acctNow }
	r := &Reminders{Account: &Account{OVH: ovh, Now: now}, Log: log, Now: now}
	posts := 0
	post := func(context.Context, []Reminder) error { posts++; return nil }
	for range 2 {
		if _, err := r.Once(ctx, post); err != nil {
			t.Fatal(err)
		}
	}
	if posts != 1 {
		t.Errorf("%d posts, want 1", posts)
	}
	// Due cannot know what was sent: it shows the whole digest.
	if due, err := r.Due(ctx); err != nil || len(due) != 1 {
		t.Errorf("Due = %v, %v", due, err)
	}
}

func TestRemindersFailures(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return acctNow }
	ovh := &accountOVH{services: []Service{acctService(1, "web-front", 3)}, listErr: errors.New("ovhcloud down")}
	r := &Reminders{Account: &Account{OVH: ovh, Now: now}, Log: &remindLog{}, Now: now}
	if _, err := r.Once(ctx, nil); err == nil {
		t.Error("Once without a listing succeeded")
	}

	ovh.listErr = nil
	storeDown := errors.New("store down")
	r.Log = &remindLog{err: storeDown}
	if _, err := r.Claim(ctx, []Reminder{{Key: "1/7/x"}}); !errors.Is(err, storeDown) {
		t.Errorf("Claim = %v", err)
	}
	if _, err := r.Once(ctx, func(context.Context, []Reminder) error {
		t.Error("posted what could not be claimed")
		return nil
	}); !errors.Is(err, storeDown) {
		t.Errorf("Once = %v", err)
	}

	// A failed post reports the error; the claimed reminders are not
	// posted again.
	r.Log = &remindLog{}
	slackDown := errors.New("slack down")
	if _, err := r.Once(ctx, func(context.Context, []Reminder) error { return slackDown }); !errors.Is(err, slackDown) {
		t.Errorf("Once = %v", err)
	}
	if got, _ := r.Once(ctx, func(context.Context, []Reminder) error { return nil }); len(got) != 0 {
		t.Errorf("re-posted %v", remKeys(got))
	}
}

func TestParseDailyAt(t *testing.T) {
	for in, want := range map[string]string{
		"09:00 Europe/Paris": "09:00 Europe/Paris",
		" 7:05  UTC ":        "07:05 UTC",
		"23:59":              "23:59 UTC",
		"00:00 Asia/Tokyo":   "00:00 Asia/Tokyo",
	} {
		d, err := ParseDailyAt(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDailyAt(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"", "9h", "25:00 UTC", "09:60", "09:00 Mars/Olympus", "09:00 Europe/Paris extra", "09:00 Local"} {
		if d, err := ParseDailyAt(in); err == nil {
			t.Errorf("ParseDailyAt(%q) = %v, want an error", in, d)
		}
	}
}

func TestDailyAtNextAcrossDST(t *testing.T) {
	nine, err := ParseDailyAt("09:00 Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name        string
		d           DailyAt
		after, want string
	}{
		{"earlier the same day", nine, "2026-11-26T06:00:00Z", "2026-11-26T08:00:00Z"},
		{"at the time: the next day", nine, "2026-11-26T08:00:00Z", "2026-11-27T08:00:00Z"},
		{"just after", nine, "2026-11-26T08:00:01Z", "2026-11-27T08:00:00Z"},
		{"into summer time: 23 hours", nine, "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"},
		{"into winter time: 25 hours", nine, "2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z"},
		{"late UTC evening is the next day in Paris", nine, "2026-11-26T23:30:00Z", "2026-11-27T08:00:00Z"},
		{"UTC", DailyAt{Hour: 9}, "2026-03-28T09:30:00Z", "2026-03-29T09:00:00Z"},
	} {
		if got := c.d.Next(utc(c.after)); !got.Equal(utc(c.want)) {
			t.Errorf("%s: Next(%s) = %s, want %s", c.name, c.after, got.UTC().Format(time.RFC3339), c.want)
		}
	}

	// 02:30 does not exist in Paris on 2026-03-29 and happens twice on
	// 2026-10-25: each day still gets exactly one.
	d := DailyAt{Hour: 2, Minute: 30, Location: acctParis}
	at := utc("2026-03-27T12:00:00Z")
	for range 5 {
		next := d.Next(at)
		if h := next.Sub(at); h <= 0 || h > 26*time.Hour {
			t.Fatalf("Next(%s) = %s", at, next)
		}
		at = next
	}
	at = utc("2026-10-24T12:00:00Z")
	days := map[string]int{}
	for range 3 {
		at = d.Next(at)
		days[at.In(acctParis).Format(time.DateOnly)]++
	}
	for day, n := range days {
		if n != 1 {
			t.Errorf("%s: %d runs", day, n)
		}
	}
}

func TestRemindersRunPostsAtTheDailyTime(t *testing.T) {
	// A clock running from 08:59:59.95 in Paris, so 09:00 comes in 50ms.
	offset := time.Date(2026, 11, 26, 8, 59, 59, 950_000_000, acctParis).Sub(time.Now())
	now := func() time.Time { return time.Now().Add(offset) }
	ovh := &accountOVH{services: []Service{acctService(1, "web-front", 3)}}
	r := &Reminders{Account: &Account{OVH: ovh, Now: now}, Log: &remindLog{}, Now: now}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []Reminder
	at, _ := ParseDailyAt("09:00 Europe/Paris")
	err := r.Run(ctx, at, func(_ context.Context, rs []Reminder) error {
		got = rs
		if p := now().In(acctParis); p.Hour() != 9 || p.Minute() != 0 {
			t.Errorf("posted at %s", p)
		}
		cancel()
		return nil
	}, func(err error) { t.Error(err) })
	if !errors.Is(err, context.Canceled) || len(got) != 1 {
		t.Errorf("Run = %v, posted %v", err, remKeys(got))
	}
}

func TestRemindersRunOnlyOnTheLeader(t *testing.T) {
	offset := time.Date(2026, 11, 26, 8, 59, 59, 950_000_000, acctParis).Sub(time.Now())
	now := func() time.Time { return time.Now().Add(offset) }
	ovh := &accountOVH{services: []Service{acctService(1, "web-front", 3)}}
	asked := make(chan struct{}, 1)
	r := &Reminders{Account: &Account{OVH: ovh, Now: now}, Log: &remindLog{}, Now: now,
		Leader: func(context.Context) bool { asked <- struct{}{}; return false }}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at, _ := ParseDailyAt("09:00 Europe/Paris")
	go func() { <-asked; time.Sleep(50 * time.Millisecond); cancel() }()
	posted := false
	_ = r.Run(ctx, at, func(context.Context, []Reminder) error { posted = true; return nil }, nil)
	if posted {
		t.Fatal("a replica without the lease posted the digest")
	}
	if len(asked) != 0 {
		t.Fatal("the leader was asked more than once in a day")
	}
}
