// Package ovhfake is a fake OVHcloud API v1 for tests and for renewbot's
// sandbox mode: an http.Handler that answers the calls of ovh-api.md with
// exactly their JSON shapes, from an in-memory account (services, renewal
// strategies, orders, payment methods).
//
// It records every call it gets, can be told to misbehave per route (slow
// answers, errors, 429, hangs, cut connections, broken JSON), and follows
// an order's status from notPaid to delivered on a clock it can be given.
// It does not import package testing, so the binary can embed it.
//
// It refuses what OVHcloud refuses: its login layer answers refused
// credentials and calls not granted with an errorCode and no class
// (INVALID_CREDENTIAL, INVALID_SIGNATURE, NOT_GRANTED_CALL, QUERY_TIME_OUT);
// OAuth2 service accounts get tokens from its token endpoint (TokenPath)
// and IAM refusals (SetIAM); an unpaid order is forgotten once it expires
// (404); prices are written as doubles, sometimes a few ULPs off, and
// orders' sometimes with priceInUcents (ExactPrices, SetSeed).
// docs/ovhcloud-api.md lists its routes (Routes).
//
// All routes live under BasePath ("/1.0"): give go-ovh the URL that Start
// returns, e.g. "http://127.0.0.1:PORT/1.0".
package ovhfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BasePath is the prefix of every route, as on eu.api.ovh.com.
const BasePath = "/1.0"

// Server is the fake API. Create it with New; it is safe for concurrent use.
// Set the exported fields before it serves its first call.
type Server struct {
	// Now is the fake's clock (default time.Now): order dates, expiry,
	// /auth/time and the status lifecycle all read it.
	Now func() time.Time
	// StatusStep is how long a paid order stays in each of checking and
	// delivering before it is delivered. Zero (the default) moves the
	// status one step on each read of GET /me/order/{id}/status instead,
	// which needs no clock at all.
	StatusStep time.Duration
	// Auth says which credentials the fake accepts; see Auth.
	Auth Auth
	// TaxPercent is the tax added to renew orders (default 20).
	TaxPercent int64
	// PaymentVisibleAfter keeps a paid order's status notPaid for that
	// long after the payment, as OVHcloud may while it processes one.
	PaymentVisibleAfter time.Duration
	// KeepExpiredOrders is how long an unpaid order is still known after
	// its expirationDate. Past it, OVHcloud has forgotten the order: its
	// routes answer 404 (terraform-provider-ovh treats that as deleted).
	// Zero (the default) forgets it as soon as it expires.
	KeepExpiredOrders time.Duration
	// OrderLife is how long a new renew order may be paid (its
	// expirationDate; default one day, as in OVHcloud's example).
	OrderLife time.Duration
	// ExactPrices writes every price's value as its exact decimal and
	// orders' without priceInUcents. By default some values are doubles
	// a few ULPs off (45.440000000000005) and some orders carry
	// priceInUcents or null, from a seeded generator (SetSeed).
	ExactPrices bool

	rngMu sync.Mutex
	rng   *mrand.Rand

	mu           sync.Mutex
	services     map[int64]*Service
	serviceOrder []int64
	strategies   map[int64][]Strategy
	orders       map[int64]*Order
	nextOrderID  int64
	methods      map[int64]*PaymentMethod
	methodOrder  []int64
	means        []string
	credential   Credential
	iam          []string // allowed IAM actions; nil: all
	tokens       map[string]issued
	calls        []Call
	faults       []*fault
	latency      time.Duration
	held         chan struct{} // closed by Hold's release; nil when not held
	querySeq     int64
	started      int64

	done    chan struct{}
	closing sync.Once
	ts      *httptest.Server
}

// New returns an empty account that accepts any well-formed credentials,
// whose credential grants what renewbot needs (NeededRules), and whose
// orders may be paid with creditCard, ovhAccount and fidelityAccount.
func New() *Server {
	return &Server{
		Now:         time.Now,
		TaxPercent:  20,
		services:    map[int64]*Service{},
		strategies:  map[int64][]Strategy{},
		orders:      map[int64]*Order{},
		nextOrderID: 123456789,
		methods:     map[int64]*PaymentMethod{},
		tokens:      map[string]issued{},
		means:       []string{"creditCard", "ovhAccount", "fidelityAccount"},
		credential: Credential{
			ID:            987654,
			ApplicationID: 123456,
			Status:        "validated",
			Rules:         NeededRules(),
		},
		rng:  mrand.New(mrand.NewPCG(13, 13)),
		done: make(chan struct{}),
	}
}

// Start serves s on a local port with httptest and returns its base URL,
// e.g. "http://127.0.0.1:41234/1.0", ready for go-ovh. Close stops it.
func (s *Server) Start() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		s.ts = httptest.NewServer(s)
	}
	return s.ts.URL + BasePath
}

// Close stops the server started by Start and releases every call held
// by a hang fault. It is safe to call more than once.
func (s *Server) Close() {
	s.closing.Do(func() { close(s.done) })
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.CloseClientConnections()
		ts.Close()
	}
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// ServeHTTP answers one API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	path := strings.TrimPrefix(r.URL.Path, BasePath)

	s.mu.Lock()
	if s.started == 0 {
		s.started = s.now().Unix()
	}
	s.querySeq++
	qid := fmt.Sprintf("EU.ext-1.%08x.%d.fake", s.started&0xffffffff, s.querySeq)
	idx := len(s.calls)
	s.calls = append(s.calls, Call{
		Method:  r.Method,
		Path:    path,
		Query:   r.URL.Query(),
		Body:    body,
		Header:  r.Header.Clone(),
		Time:    s.now(),
		QueryID: qid,
	})
	latency, held := s.latency, s.held
	f := s.takeFault(r.Method, path)
	s.mu.Unlock()

	rec := &statusWriter{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		if idx < len(s.calls) && s.calls[idx].QueryID == qid {
			s.calls[idx].Status = rec.status
		}
		s.mu.Unlock()
	}()
	w.Header().Set("X-Ovh-QueryID", qid)

	if !s.wait(r, latency) {
		return
	}
	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if f != nil && f.Processed {
		// The call is carried out, then its answer is lost to the fault.
		s.route(discard{header: http.Header{}}, r, path, body)
	}
	if f != nil && f.apply(s, rec, r) {
		return
	}
	if r.URL.Path == TokenPath {
		s.tokenExchange(rec, r, body)
		return
	}
	if r.URL.Path != BasePath && !strings.HasPrefix(r.URL.Path, BasePath+"/") {
		writeError(rec, http.StatusNotFound, "Client::NotFound", "Got an invalid (or empty) URL")
		return
	}
	s.route(rec, r, path, body)
}

// Hold makes every call from now on wait, unanswered, until release is
// called (or the client gives up, or Close): a test can then check what
// happens while OVHcloud has not answered, without depending on how fast
// anything runs. release may be called more than once.
func (s *Server) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.held = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.held == ch {
				s.held = nil
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// wait sleeps d unless the client leaves or the server closes first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// discard is a ResponseWriter that drops the answer.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}

// statusWriter remembers the status for the call record.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// apiError is OVHcloud's error body.
type apiError struct {
	Class   string            `json:"class"`
	Message string            `json:"message"`
	Details map[string]string `json:"details"`
}

// loginError is the body OVHcloud's login layer answers with: an error
// code and no class, e.g. {"errorCode":"INVALID_CREDENTIAL","httpCode":"403
// Forbidden","message":"This credential is not valid"}.
type loginError struct {
	ErrorCode string `json:"errorCode"`
	HTTPCode  string `json:"httpCode"`
	Message   string `json:"message"`
}

// Login-layer refusals (ovh-api.md, "Learned since"; the codes are those
// OVHcloud's own clients know: python-ovh's NotGrantedCall,
// InvalidCredential...).
const (
	codeInvalidCredential = "INVALID_CREDENTIAL"
	codeNotCredential     = "NOT_CREDENTIAL"
	codeInvalidKey        = "INVALID_KEY"
	codeInvalidSignature  = "INVALID_SIGNATURE"
	codeNotGranted        = "NOT_GRANTED_CALL"
	codeQueryTimeOut      = "QUERY_TIME_OUT"
)

func writeLoginError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, loginError{ErrorCode: code, HTTPCode: fmt.Sprintf("%d %s", status, http.StatusText(status)), Message: message})
}

func writeError(w http.ResponseWriter, status int, class, message string) {
	if class == "" {
		class = classFor(status)
	}
	writeJSON(w, status, apiError{Class: class, Message: message, Details: map[string]string{}})
}

// classFor names OVHcloud's error class for a status.
func classFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "Client::BadRequest"
	case http.StatusUnauthorized:
		return "Client::Unauthorized"
	case http.StatusForbidden:
		return "Client::Forbidden"
	case http.StatusNotFound:
		return "Client::NotFound"
	case http.StatusMethodNotAllowed:
		return "Client::MethodNotAllowed"
	case http.StatusConflict:
		return "Client::Conflict"
	case http.StatusTooManyRequests:
		return "Client::TooManyRequests"
	case http.StatusServiceUnavailable:
		return "Server::ServiceUnavailable"
	case http.StatusGatewayTimeout:
		return "Server::GatewayTimeout"
	}
	if status >= 500 {
		return "Server::InternalServerError"
	}
	return "Client::BadRequest"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // OVHcloud does not escape < > &; clients must.
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "", "fake: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pathID reads the numeric segment of a path, as OVHcloud's long ids.
func pathID(seg string) (int64, bool) {
	id, err := strconv.ParseInt(seg, 10, 64)
	return id, err == nil
}

func boolParam(q url.Values, name string) (v, set bool, err error) {
	s := q.Get(name)
	if s == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(s)
	return b, true, err
}
