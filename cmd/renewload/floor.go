package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/slack-go/slack"
)

// The floor of a flood: the least any Slack app built on slack-go must do
// for a request, in a process of its own like the bot. It reads the body
// (up to 1 MiB), verifies the signature with slack-go, parses the form
// (and an interaction's JSON payload) and answers an empty 200. Flooded
// in the same run as the bot, it tells how much of the bot's ack time is
// the machine's, and how much is the bot's.

// floorEnv names the floor's address in the environment of renewload's
// own binary started again as the floor.
const floorEnv = "RENEWLOAD_FLOOR_ADDR"

// floorHandler is the whole floor.
func floorHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		if p := form.Get("payload"); p != "" {
			var cb slack.InteractionCallback
			if err := json.Unmarshal([]byte(p), &cb); err != nil {
				http.Error(w, "malformed payload", http.StatusBadRequest)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// serveFloor is renewload's binary run as the floor: it serves on addr
// until SIGTERM (ctx) and answers /healthz like the bot.
func serveFloor(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.Handle("POST /", floorHandler(signingSecret))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startFloor runs renewload's own binary again as the floor.
func startFloor(ctx context.Context, dir string) (*botProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("the floor runs renewload's own binary: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &botProcess{base: "http://" + addr, log: filepath.Join(dir, "floor.log"), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	p.cmd = exec.Command(self)
	p.cmd.Env = append(os.Environ(), floorEnv+"="+addr)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the floor: %w", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	if err := p.waitHealthy(ctx, 20*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}
