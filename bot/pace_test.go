package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/fakeclock"
	"github.com/renewbot/renewbot/renew"
	"github.com/renewbot/renewbot/renew/sqlstore"
)

// waits runs Wait n times in a goroutine, moving the fake clock to each
// pending wait, and returns the clock's time at each return.
func waits(t *testing.T, p *Pacer, c *fakeclock.Clock, n int, method, channel string) []time.Duration {
	t.Helper()
	start := c.Now()
	var mu sync.Mutex
	var at []time.Duration
	done := make(chan error, 1)
	go func() {
		for range n {
			if err := p.Wait(context.Background(), method, channel); err != nil {
				done <- err
				return
			}
			mu.Lock()
			at = append(at, c.Now().Sub(start))
			mu.Unlock()
		}
		done <- nil
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return at
		default:
		}
		c.Next()
		time.Sleep(time.Millisecond) // let the goroutine run; the times come from the fake clock
	}
}

func secs(ss ...float64) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		out = append(out, time.Duration(s*float64(time.Second)))
	}
	return out
}

func TestPacerSpacesBackgroundCalls(t *testing.T) {
	c := fakeclock.New(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodUpdate: {Every: time.Second, Burst: 2}}})
	// A burst of two, then one a second.
	if got, want := waits(t, p, c, 5, methodUpdate, ""), secs(0, 0, 1, 2, 3); !slices.Equal(got, want) {
		t.Errorf("background calls at %v, want %v", got, want)
	}
	// A method without a limit never waits.
	if got := waits(t, p, c, 3, "chat.getPermalink", ""); !slices.Equal(got, secs(0, 0, 0)) {
		t.Errorf("unlimited calls at %v, want all at once", got)
	}
}

func TestPacerLimitsEachChannel(t *testing.T) {
	c := fakeclock.New(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodPost: {Every: time.Millisecond, Burst: 100}}, Channel: Limit{Every: time.Second, Burst: 1}})
	if got := waits(t, p, c, 3, methodPost, "C1"); !slices.Equal(got, secs(0, 1, 2)) {
		t.Errorf("posts in one channel at %v, want one a second", got)
	}
	// Another channel is not held back by the first one's.
	if got := waits(t, p, c, 1, methodPost, "C2"); !slices.Equal(got, secs(0)) {
		t.Errorf("a post in another channel waited %v", got)
	}
}

// What a click sends never waits, and the background leaves room for
// it; however many clicks, the background resumes within maxAhead.
func TestPacerNotesNeverWaitAndPushTheBackground(t *testing.T) {
	c := fakeclock.New(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodUpdate: {Every: time.Second, Burst: 1}}})
	for range 3 {
		p.Note(methodUpdate, "C1") // returns at once: nothing else moves the clock
	}
	if got := waits(t, p, c, 1, methodUpdate, "C1"); !slices.Equal(got, secs(3)) {
		t.Errorf("background update after three clicks' at %v, want 3s", got)
	}
	for range 1000 {
		p.Note(methodUpdate, "C1")
	}
	if got := waits(t, p, c, 1, methodUpdate, "C1"); !slices.Equal(got, []time.Duration{maxAhead}) {
		t.Errorf("background update after a thousand clicks' at %v, want %v", got, maxAhead)
	}
}

func TestPacerWaitEndsWithItsContext(t *testing.T) {
	c := fakeclock.New(time.Now())
	p := NewPacer(c, Limits{Methods: map[string]Limit{methodUpdate: {Every: time.Hour, Burst: 1}}})
	if err := p.Wait(context.Background(), methodUpdate, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx, methodUpdate, "") }()
	waitFor(t, "the wait for a turn", func() bool { return c.Waiting() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

// sent is one call the recording Slack got, at the fake clock's time.
type sent struct {
	method, channel, ts, text string
	at                        time.Duration
}

// recordingSlack answers at once and records every call with the time.
type recordingSlack struct {
	clock *fakeclock.Clock
	start time.Time
	mu    sync.Mutex
	calls []sent
}

func (s *recordingSlack) record(method, channel, ts, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, sent{method, channel, ts, text, s.clock.Now().Sub(s.start)})
}

func (s *recordingSlack) Post(_ context.Context, channel string, m Message) (string, error) {
	s.record(methodPost, channel, m.ThreadTS, m.Text)
	return "2.000001", nil
}

func (s *recordingSlack) Update(_ context.Context, channel, ts string, m Message) error {
	s.record(methodUpdate, channel, ts, m.Text)
	return nil
}

func (s *recordingSlack) Ephemeral(_ context.Context, to Target, m Message) error {
	s.record("ephemeral", to.Channel, "", m.Text)
	return nil
}

func (s *recordingSlack) sent(method string) []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sent
	for _, c := range s.calls {
		if c.method == method {
			out = append(out, c)
		}
	}
	return out
}

// pacedRig is a Bot on a SQLite store with requests awaiting approval,
// each with its message, a fake clock and Slack limits of one update a
// second.
type pacedRig struct {
	bot   *Bot
	clock *fakeclock.Clock
	out   *recordingSlack
	store *sqlstore.Store
	ids   []string
}

func newPacedRig(t *testing.T, requests int, audit string) *pacedRig {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "paced.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &pacedRig{clock: fakeclock.New(time.Now()), store: store}
	r.out = &recordingSlack{clock: r.clock, start: r.clock.Now()}
	now := r.clock.Now()
	for i := range requests {
		req := &renew.Request{ID: fmt.Sprintf("%020d", i+1), State: renew.StateAwaitingApproval, Channel: "C0OPS0001",
			MessageTS: fmt.Sprintf("1.%06d", i+1), InitiatedBy: "U0ALICE01", RequestedBy: "U0ALICE01",
			Service:   renew.Service{ID: int64(10001 + i), Name: fmt.Sprintf("vps-%d.example.net", i+1)},
			Order:     &renew.Order{ID: int64(1000 + i), Expiration: now.Add(24 * time.Hour)},
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		if err := store.Create(context.Background(), req, renew.Event{At: now, Actor: "U0ALICE01", Action: "ordered"}); err != nil {
			t.Fatal(err)
		}
		r.ids = append(r.ids, req.ID)
	}
	pool := NewPool(1, 8, time.Minute)
	t.Cleanup(func() { _ = pool.Close(context.Background()) })
	limits := Limits{
		Methods: map[string]Limit{methodUpdate: {Every: time.Second, Burst: 1}, methodPost: {Every: time.Second, Burst: 1}},
		Channel: Limit{Every: time.Second, Burst: 1},
	}
	r.bot = New(Config{Renewer: &renew.Renewer{Store: store, Policy: &renew.Policy{}}, Out: r.out, Pool: pool,
		Log: slog.New(slog.DiscardHandler), Clock: r.clock, Limits: &limits, AuditChannel: audit})
	return r
}

// The redraws at start go one a second; a click on one of the requests
// meanwhile updates its message and answers the clicker at once, and the
// redraws make room for it.
func TestRedrawsAtStartArePacedAndNeverDelayAClick(t *testing.T) {
	r := newPacedRig(t, 4, "")
	order, err := r.bot.renewer.Unfinished(context.Background(), 500)
	if err != nil || len(order) != 4 {
		t.Fatalf("unfinished requests: %d, %v", len(order), err)
	}
	done := make(chan error, 1)
	go func() { done <- r.bot.RefreshUnfinished(context.Background()) }()
	waitFor(t, "the first redraw, then a wait for the next turn", func() bool {
		return len(r.out.sent(methodUpdate)) == 1 && r.clock.Waiting() == 1
	})

	// A click on the request whose redraw waits for its turn: the
	// clicker's answer and the message's update go now, without the
	// clock moving.
	go func() {
		r.bot.tell(context.Background(), Target{Channel: "C0OPS0001", User: "U0BOB0001"}, "You clicked.")
		r.bot.refresh(context.Background(), order[1].ID)
	}()
	waitFor(t, "the click's update, sent without waiting for the redraws", func() bool { return len(r.out.sent(methodUpdate)) == 2 })
	if got := r.out.sent(methodUpdate); got[1].ts != order[1].MessageTS || got[1].at != 0 {
		t.Fatalf("the click's update: %+v, want it sent at once", got[1])
	}
	if got := r.out.sent("ephemeral"); len(got) != 1 || got[0].at != 0 {
		t.Fatalf("the click's answer: %+v, want it sent at once", got)
	}

	waitFor(t, "every redraw", func() bool {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return true
		default:
			r.clock.Next()
			return false
		}
	})
	var bg []time.Duration
	for _, u := range r.out.sent(methodUpdate) {
		bg = append(bg, u.at)
	}
	// Redraws one a second: at 0, at 1 (the turn it had taken before the
	// click), then 3 and 4: the click's update, at 0, pushed the turns
	// taken after it by a second.
	if want := secs(0, 0, 1, 3, 4); !slices.Equal(bg, want) {
		t.Errorf("updates at %v, want %v", bg, want)
	}
}

// A state change updates the message at once; its thread reply and
// audit line follow in the background, each channel one a second, in
// the order of the changes.
func TestThreadRepliesAndAuditLinesArePaced(t *testing.T) {
	r := newPacedRig(t, 3, "C0AUDIT01")
	ctx := context.Background()
	for _, id := range r.ids {
		req, err := r.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		r.bot.changed(ctx, req, renew.Event{At: r.clock.Now(), Actor: "U0BOB0001", Action: "cancelled", RequestID: id, To: renew.StateCancelled})
	}
	if got := r.out.sent(methodUpdate); len(got) != 3 || got[2].at != 0 {
		t.Fatalf("message updates: %+v, want all three at once", got)
	}
	waitFor(t, "three thread replies and three audit lines", func() bool {
		if len(r.out.sent(methodPost)) == 6 {
			return true
		}
		r.clock.Next()
		return false
	})
	last := map[string]time.Duration{}
	var threads []string
	for i, p := range r.out.sent(methodPost) {
		if prev, ok := last[p.channel]; ok && p.at-prev < time.Second {
			t.Errorf("post %d in %s %v after the previous one, want at least 1s", i, p.channel, p.at-prev)
		}
		last[p.channel] = p.at
		if p.channel == "C0OPS0001" {
			threads = append(threads, p.ts)
		}
	}
	if want := []string{"1.000001", "1.000002", "1.000003"}; !slices.Equal(threads, want) {
		t.Errorf("thread replies in threads %v, want %v", threads, want)
	}
	if err := r.bot.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLaneRunsInOrderAndRefusesWhenFull(t *testing.T) {
	l := newLane(2)
	hold := make(chan struct{})
	var mu sync.Mutex
	var order []int
	job := func(i int) func() {
		return func() {
			<-hold
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}
	}
	if !l.offer(job(1)) {
		t.Fatal("the first job was refused")
	}
	waitFor(t, "the first job to run", func() bool { return len(l.jobs) == 0 })
	if !l.offer(job(2)) || !l.offer(job(3)) {
		t.Fatal("a job was refused while the queue had room")
	}
	if l.offer(job(4)) {
		t.Fatal("a job was taken beyond the queue's bound")
	}
	close(hold)
	if err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []int{1, 2, 3}) {
		t.Errorf("jobs ran in the order %v", order)
	}
}

// gatedSlack holds every message update until released.
type gatedSlack struct {
	recordingSlack
	release chan struct{}
	started atomic.Int64
}

func (s *gatedSlack) Update(ctx context.Context, channel, ts string, m Message) error {
	s.started.Add(1)
	<-s.release
	return s.recordingSlack.Update(ctx, channel, ts, m)
}

// A burst of refreshes of one message while its update is under way
// leads to one more update, showing the state after the last change, not
// to one update per refresh; and none of them waits.
func TestRefreshesOfOneMessageCoalesce(t *testing.T) {
	r := newPacedRig(t, 1, "")
	out := &gatedSlack{recordingSlack: recordingSlack{clock: r.clock, start: r.clock.Now()}, release: make(chan struct{})}
	r.bot.out = out
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(out.release) }) })
	ctx, id := context.Background(), r.ids[0]
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.bot.refresh(ctx, id) }()
	waitFor(t, "the first update under way", func() bool { return out.started.Load() == 1 })
	go func() { defer wg.Done(); r.bot.refresh(ctx, id) }()
	waitFor(t, "a second refresh waiting for it", func() bool {
		r.bot.locksMu.Lock()
		defer r.bot.locksMu.Unlock()
		rd, ok := r.bot.locks[id]
		return ok && rd.waiting.Load()
	})
	// The request changes; each click's refresh returns at once.
	if _, err := r.store.Transition(ctx, id, []renew.State{renew.StateAwaitingApproval}, renew.StateCancelled,
		renew.Event{At: r.clock.Now(), Actor: "U0BOB0001", Action: "cancelled"}, nil); err != nil {
		t.Fatal(err)
	}
	burst := make(chan struct{})
	go func() {
		for range 50 {
			r.bot.refresh(ctx, id)
		}
		close(burst)
	}()
	waitFor(t, "the burst of refreshes to return without waiting", func() bool {
		select {
		case <-burst:
			return true
		default:
			return false
		}
	})
	once.Do(func() { close(out.release) })
	wg.Wait()
	updates := out.sent(methodUpdate)
	if len(updates) != 2 {
		t.Fatalf("%d updates for 52 refreshes, want 2", len(updates))
	}
	if !strings.Contains(strings.ToLower(updates[1].text), "cancel") {
		t.Errorf("the last update says %q, want the state after the last change (cancelled)", updates[1].text)
	}
}

// When the budget left changes, the other open requests' messages are
// redrawn in their turn, one a second here, not all at once.
func TestBudgetRedrawsArePaced(t *testing.T) {
	r := newPacedRig(t, 4, "")
	r.bot.redrawBudgetLines(r.ids[0])
	waitFor(t, "the three other messages redrawn", func() bool {
		if len(r.out.sent(methodUpdate)) == 3 {
			return true
		}
		r.clock.Next()
		return false
	})
	var at []time.Duration
	for _, u := range r.out.sent(methodUpdate) {
		at = append(at, u.at)
		if u.ts == "1.000001" {
			t.Errorf("the request whose payment moved the budget was redrawn too")
		}
	}
	if want := secs(0, 1, 2); !slices.Equal(at, want) {
		t.Errorf("budget redraws at %v, want %v", at, want)
	}
}
