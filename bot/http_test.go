package bot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	var down error
	mux := http.NewServeMux()
	AdminRoutes(mux, func(context.Context) error { return down }, nil)
	get := func(path string) int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if get("/healthz") != http.StatusOK || get("/readyz") != http.StatusOK {
		t.Fatal("a healthy bot is not live and ready")
	}
	down = errors.New("database is unreachable")
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database down: %d, want 503", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz with the database down: %d, want 200 (alive, not ready)", got)
	}
}

// The two lists of routes share nothing: the admin routes are never on
// the address given to Slack, and Slack's never on the admin one.
func TestSlackAndAdminRoutesApart(t *testing.T) {
	slackMux, adminMux := http.NewServeMux(), http.NewServeMux()
	Routes(slackMux, New(Config{Renewer: newTestRenewer(), Log: slog.New(slog.DiscardHandler)}), "secret")
	AdminRoutes(adminMux, nil, http.NotFoundHandler())
	for _, tc := range []struct {
		mux    *http.ServeMux
		method string
		path   string
	}{
		{slackMux, http.MethodGet, "/healthz"}, {slackMux, http.MethodGet, "/readyz"}, {slackMux, http.MethodGet, "/metrics"},
		{adminMux, http.MethodPost, "/slack/commands"}, {adminMux, http.MethodPost, "/slack/interactions"}, {adminMux, http.MethodPost, "/slack/events"},
	} {
		if _, pattern := tc.mux.Handler(httptest.NewRequest(tc.method, tc.path, nil)); pattern != "" {
			t.Errorf("%s %s is served by %q on the wrong address", tc.method, tc.path, pattern)
		}
	}
}
