package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/renewbot/renewbot/renew"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// A scrape reads no database: requests by state are what the last
// background count found, however many scrapes come.
func TestRequestsByStateAreCountedInTheBackground(t *testing.T) {
	m := New()
	reads := 0
	counts := map[renew.State]int{renew.StatePaid: 2, renew.StateAwaitingApproval: 1}
	var fail error
	count := func(context.Context) (map[renew.State]int, error) {
		reads++
		return counts, fail
	}
	if err := m.RefreshStates(context.Background(), count); err != nil {
		t.Fatal(err)
	}
	var body string
	for range 3 {
		body = scrape(t, m)
	}
	if reads != 1 {
		t.Errorf("the store was read %d times for one count and three scrapes, want once", reads)
	}
	for _, want := range []string{`renewbot_requests{state="paid"} 2`, `renewbot_requests{state="awaiting_approval"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A state that empties reads 0, not its last count.
	counts = map[renew.State]int{renew.StatePaid: 3}
	if err := m.RefreshStates(context.Background(), count); err != nil {
		t.Fatal(err)
	}
	body = scrape(t, m)
	for _, want := range []string{`renewbot_requests{state="paid"} 3`, `renewbot_requests{state="awaiting_approval"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The database failing: the error is returned, the last counts stay.
	fail = errors.New("database is down")
	if err := m.RefreshStates(context.Background(), count); !errors.Is(err, fail) {
		t.Fatalf("RefreshStates = %v, want the store's error", err)
	}
	if body = scrape(t, m); !strings.Contains(body, `renewbot_requests{state="paid"} 3`) {
		t.Error("a failed count erased the last one")
	}
}
