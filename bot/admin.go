package bot

import (
	"context"
	"io"
	"net/http"
	"time"
)

// AdminRoutes lists, in one place, the operator's routes: liveness,
// readiness and, when metrics is not nil, Prometheus metrics. They tell
// payment totals and database errors, so they are served on an address
// of their own (RENEWBOT_ADMIN_ADDR) that Slack never reaches, never on
// the one given to Slack (Routes). ready reports whether the bot can
// serve (the store answers).
func AdminRoutes(mux *http.ServeMux, ready func(context.Context) error, metrics http.Handler) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if ready != nil {
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
}
