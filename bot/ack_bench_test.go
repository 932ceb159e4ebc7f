package bot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/renewbot/renewbot/internal/slackfake"
)

// The ack path's cost per request, without the network: what a flood
// spends before Slack has its answer. docs/performance.md compares the
// whole server with a bare slack-go handler; this isolates the handler.
func BenchmarkAck(b *testing.B) {
	forms := slackfake.New()
	defer forms.Close()
	pool := NewPool(1, 1024, time.Minute)
	defer pool.Close(context.Background())
	bot := New(Config{Renewer: newTestRenewer(), Out: &slowSlack{}, Pool: pool, Log: slog.New(slog.DiscardHandler),
		Workspace: Workspace{TeamID: "T0001", AppID: "A0001"}})
	mux := http.NewServeMux()
	Routes(mux, bot, floodSecret)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"help", func() *http.Request {
			return slackfake.SignedRequest("http://bot/slack/commands", floodSecret, forms.Command("C0OPS0001", "U0ALICE01", "help"))
		}},
		{"bad signature", func() *http.Request {
			return slackfake.SignedRequest("http://bot/slack/commands", "not-the-secret", forms.Command("C0OPS0001", "U0ALICE01", "help"))
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				reqs[i] = tc.req()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, req := range reqs {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK && rec.Code != http.StatusUnauthorized {
					b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
				}
				_, _ = io.Copy(io.Discard, rec.Body)
			}
		})
	}
}
