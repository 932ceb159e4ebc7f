package ovhcloud

import (
	"bytes"
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
	return errors.As(err, &te) || errors.Is(err, errUnreadable) || errors.Is(err, errNoToken)
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

// attempt sends one HTTP request and decodes its answer into out. An
// OAuth2 access token OVHcloud refuses (401: expired or revoked early) is
// renewed and the request sent once more: the login layer refused it, so
// nothing was done, even for a POST.
func (c *Client) attempt(ctx context.Context, method, route, path string, body, out any) (time.Duration, error) {
	retryAfter, err := c.send(ctx, method, route, path, body, out)
	var api *renew.APIError
	if c.oauth2 != nil && errors.As(err, &api) && api.Status == http.StatusUnauthorized && api.Code != "invalid_client" {
		c.oauth2.reset()
		return c.send(ctx, method, route, path, body, out)
	}
	return retryAfter, err
}

// send sends one HTTP request and decodes its answer into out.
func (c *Client) send(ctx context.Context, method, route, path string, body, out any) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("ovhcloud: %s %s: %w", method, route, err)
	}
	c.signMu.Lock()
	req, err := c.api.NewRequest(method, path, body, true)
	c.signMu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("ovhcloud: %s %s: %w", method, route, err)
	}
	if c.oauth2 != nil {
		tok, err := c.oauth2.token()
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
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
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	c.observe(method, route, resp.StatusCode, time.Since(start))
	if err != nil {
		return retryAfter, mapError(method, route, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		// Read here rather than by go-ovh, whose APIError drops the login
		// layer's errorCode.
		return retryAfter, apiError(method, path, resp, raw)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err := c.api.UnmarshalResponse(resp, out); err != nil {
		return 0, mapError(method, route, err)
	}
	return 0, nil
}

// apiError reads OVHcloud's refusal of method path. Its API answers
// {"class", "message", "details"}; its login layer {"errorCode",
// "httpCode", "message"}, without a class (ovh-api.md, "Learned since").
func apiError(method, path string, resp *http.Response, body []byte) *renew.APIError {
	var w struct {
		Class     string         `json:"class"`
		ErrorCode string         `json:"errorCode"`
		Message   string         `json:"message"`
		Details   map[string]any `json:"details"`
	}
	e := &renew.APIError{Status: resp.StatusCode, QueryID: resp.Header.Get("X-Ovh-QueryID")}
	if json.Unmarshal(body, &w) == nil {
		e.Class, e.Code, e.Message = w.Class, w.ErrorCode, w.Message
	} else {
		e.Message = string(body) // a proxy's page
	}
	e.Message = strings.TrimSpace(e.Message)
	if len(e.Message) > 500 {
		e.Message = e.Message[:500] + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.Status)
	}
	switch {
	case e.Code == "NOT_GRANTED_CALL":
		e.Grant = grantFor(method, path)
	case e.Status == http.StatusForbidden && iamActions(w.Details) != "":
		// An OAuth2 login is refused by IAM: go-ovh's own APIError reads
		// these details the same way.
		e.Grant = iamActions(w.Details)
	case e.Code == "" && e.Message == "This application key is invalid":
		// OVHcloud refuses an unknown application key with a class, not
		// with the login layer's INVALID_KEY; for the user it is the same.
		e.Code = "INVALID_KEY"
	}
	return e
}

// grantFor names the access rule (of NeededRules, as the README lists
// them) that grants method on path.
func grantFor(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	for _, r := range NeededRules {
		if strings.EqualFold(r.Method, method) && globMatch(r.Path, path) {
			return r.Method + " " + r.Path
		}
	}
	return method + " " + path
}

// iamActions lists the IAM actions a refusal names as missing.
func iamActions(details map[string]any) string {
	var out []string
	for _, k := range []string{"unauthorizedActionsByIAM", "unauthorizedActionsByAuthentication"} {
		if s, ok := details[k].(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return strings.Join(out, ", ")
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
