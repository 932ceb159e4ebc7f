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
	b := &Bot{log: slog.New(slog.DiscardHandler), obs: nopObserver{}}
	Routes(mux, b, "secret", func(context.Context) error { return down })
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
