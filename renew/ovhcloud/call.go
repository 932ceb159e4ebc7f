package ovhcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ovh/go-ovh/ovh"

	"github.com/renewbot/renewbot/renew"
)

// maxBody bounds what is read of an answer; OVHcloud's are small.
const maxBody = 8 << 20

// get sends a GET, retried on 5xx, 429 and network failures.
func (c *Client) get(ctx context.Context, route, path string, out any) error {
	if err := c.syncTime(ctx); err != nil {
		return err
	}
	return c.retry(ctx, func(ctx context.Context) (time.Duration, error) {
		return c.attempt(ctx, http.MethodGet, route, path, nil, out)
	})
}

// post sends a POST exactly once: renew orders and payments spend money,
// and a POST whose answer was lost may have done so.
func (c *Client) post(ctx context.Context, route, path string, body, out any) error {
	if err := c.syncTime(ctx); err != nil {
		return err
	}
	_, err := c.attempt(ctx, http.MethodPost, route, path, body, out)
	return err
}

// retry runs try until it succeeds, fails for good, or the attempts or the
// time budget run out. try returns the server's Retry-After, if any.
func (c *Client) retry(ctx context.Context, try func(context.Context) (time.Duration, error)) error {
	start := time.Now()
	for n := 1; ; n++ {
		retryAfter, err := try(ctx)
		if err == nil || n >= c.cfg.Attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := c.backoff(n)
		if retryAfter > 0 {
			wait = retryAfter
		}
		wait = min(wait, c.cfg.MaxWait)
		if time.Since(start)+wait > c.cfg.RetryBudget {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// backoff is the wait before attempt n+1: exponential, half of it jittered
// so that replicas retrying together spread out.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.Backoff << min(n-1, 16)
	d = min(d, c.cfg.MaxWait)
	return d/2 + rand.N(d/2+1)
}

// retryable says whether a GET that failed this way may succeed again.
func retryable(err error) bool {
	var api *renew.APIError
	if errors.As(err, &api) {
		return api.Status >= 500 || api.Status == http.StatusTooManyRequests
	}
	var te *transportError
	// An unreadable answer (a proxy's page, a truncated body) is worth
	// another try: only GETs are retried, and they change nothing.
	return errors.As(err, &te) || errors.Is(err, errUnreadable)
}

// errUnreadable marks an answer whose JSON could not be decoded.
var errUnreadable = errors.New("unreadable answer")

// transportError is a call that got no usable HTTP answer (refused or cut
// connection, timeout).
type transportError struct {
	method, route string
	err           error
}

func (e *transportError) Error() string {
	if e.method == http.MethodPost {
		return fmt.Sprintf("ovhcloud: %s %s: no answer, so the outcome is unknown: %v", e.method, e.route, e.err)
	}
	return fmt.Sprintf("ovhcloud: %s %s: %v", e.method, e.route, e.err)
}

// Unwrap exposes the cause (context.DeadlineExceeded...) and, for GETs,
// renew.ErrUnavailable: nothing changed on OVHcloud.
func (e *transportError) Unwrap() []error {
	if e.method == http.MethodGet {
		return []error{e.err, renew.ErrUnavailable}
	}
	return []error{e.err}
}

// syncTime fetches the server time once, before the first signed call,
// as a retried GET /auth/time (go-ovh would do it inside NewRequest,
// without a context and without retries).
func (c *Client) syncTime(ctx context.Context) error {
	if !c.signed || c.synced.Load() {
		return nil
	}
	return c.retry(ctx, func(ctx context.Context) (time.Duration, error) {
		c.signMu.Lock()
		defer c.signMu.Unlock()
		if c.synced.Load() {
			return 0, nil
		}
		start := time.Now()
		_, err := c.api.TimeDelta()
		status := http.StatusOK
		if err != nil {
			status = 0
			var ae *ovh.APIError
			if errors.As(err, &ae) {
				status = ae.Code
			}
		}
		c.observe(http.MethodGet, "/auth/time", status, time.Since(start))
		if err != nil {
			return 0, mapError(http.MethodGet, "/auth/time", err)
		}
		c.synced.Store(true)
		return 0, nil
	})
}

// attempt sends one HTTP request and decodes its answer into out.
func (c *Client) attempt(ctx context.Context, method, route, path string, body, out any) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("ovhcloud: %s %s: %w", method, route, err)
	}
	c.signMu.Lock()
	req, err := c.api.NewRequest(method, path, body, true)
	c.signMu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("ovhcloud: %s %s: %w", method, route, err)
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.http.Do(req.WithContext(actx))
	if err != nil {
		c.observe(method, route, 0, time.Since(start))
		return 0, &transportError{method, route, err}
	}
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxBody), resp.Body}
	// go-ovh turns a non-2xx answer into *ovh.APIError with the query id.
	err = c.api.UnmarshalResponse(resp, out)
	c.observe(method, route, resp.StatusCode, time.Since(start))
	if err != nil {
		return retryAfter, mapError(method, route, err)
	}
	return 0, nil
}

// mapError turns go-ovh's errors into the domain's.
func mapError(method, route string, err error) error {
	var ae *ovh.APIError
	if errors.As(err, &ae) {
		msg := strings.TrimSpace(ae.Message)
		if len(msg) > 500 { // an HTML error page from a proxy
			msg = msg[:500] + "…"
		}
		if msg == "" {
			msg = http.StatusText(ae.Code)
		}
		return &renew.APIError{Status: ae.Code, Class: ae.Class, Message: msg, QueryID: ae.QueryID}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) {
		if method == http.MethodPost {
			return fmt.Errorf("ovhcloud: %s %s: %w (the call may have taken effect): %w", method, route, errUnreadable, err)
		}
		return fmt.Errorf("ovhcloud: %s %s: %w: %w", method, route, errUnreadable, err)
	}
	return &transportError{method, route, err}
}

// parseRetryAfter reads Retry-After in seconds or as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

func (c *Client) observe(method, route string, status int, d time.Duration) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(method, route, status, d)
	}
}
