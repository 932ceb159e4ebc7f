package ovhfake

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Auth says which credentials the fake accepts. Empty fields accept any
// non-empty value, so a zero Auth takes any well-formed signed call,
// client id and secret, or bearer token; calls with none are refused like
// OVHcloud refuses them.
type Auth struct {
	ApplicationKey string
	// ApplicationSecret, when set, makes the fake verify X-Ovh-Signature
	// the way OVHcloud does.
	ApplicationSecret string
	ConsumerKey       string
	AccessToken       string // the one bearer token accepted, besides the OAuth2 ones the fake issued
	// ClientID and ClientSecret are the OAuth2 service account the token
	// endpoint (TokenPath) accepts.
	ClientID     string
	ClientSecret string
	// TokenMethod is what GET /auth/details says of an access token's
	// login: account (default), user or provider.
	TokenMethod string
	// MaxClockSkew, when set, refuses a signed call whose X-Ovh-Timestamp
	// is further than that from the fake's clock (QUERY_TIME_OUT).
	MaxClockSkew time.Duration
	// KeyErrorCode answers an unknown application key in the login
	// layer's shape, 403 INVALID_KEY, as OVHcloud's own client tests saw
	// it (docs/ovhcloud-api.md [S12]); without it, 403 Client::Forbidden
	// with a class [S11]. OVHcloud has answered both ways.
	KeyErrorCode bool
}

// TokenPath is where the fake serves the OAuth2 token exchange (client
// credentials), at its root like www.ovh.com/auth/oauth2/token: give the
// OVHcloud client the server's URL with this path as its token URL.
const TokenPath = "/auth/oauth2/token"

// TokenTTL is how long an OAuth2 access token the fake issues lives.
const TokenTTL = time.Hour

// The ways to log in, as GET /auth/details' method names them.
const (
	methodAccount = "account"
	methodOAuth2  = "oauth2_client_credentials"
)

// login is who made a call.
type login struct {
	appKey bool   // signed with an application key: access rules apply
	method string // /auth/details' method
	user   string // the OAuth2 client id, for /auth/details
}

// issued is an OAuth2 access token the fake gave out.
type issued struct {
	client  string
	expires time.Time
}

// authenticate checks a call's credentials; it answers and returns false
// when they are refused, with the shapes of OVHcloud's login layer: an
// unsigned call and an unknown application key get the API's class
// shape (as observed live), the rest an errorCode and no class.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte) (login, bool) {
	a := s.Auth
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		s.mu.Lock()
		tok, oauth2 := s.tokens[bearer]
		s.mu.Unlock()
		switch {
		case oauth2 && s.now().Before(tok.expires):
			return login{method: methodOAuth2, user: tok.client}, true
		case oauth2, bearer == "", a.AccessToken != "" && !equal(bearer, a.AccessToken):
			// Expired, revoked or never issued.
			writeLoginError(w, http.StatusUnauthorized, codeInvalidCredential, "This credential is not valid")
			return login{}, false
		}
		m := a.TokenMethod
		if m == "" {
			m = methodAccount
		}
		return login{method: m}, true
	}
	ak := r.Header.Get("X-Ovh-Application")
	ck := r.Header.Get("X-Ovh-Consumer")
	ts := r.Header.Get("X-Ovh-Timestamp")
	sig := r.Header.Get("X-Ovh-Signature")
	switch {
	case ak == "":
		writeError(w, http.StatusUnauthorized, "Client::Unauthorized", "You must login first")
		return login{}, false
	case a.ApplicationKey != "" && !equal(ak, a.ApplicationKey) && a.KeyErrorCode:
		writeLoginError(w, http.StatusForbidden, codeInvalidKey, "This application key is invalid")
		return login{}, false
	case a.ApplicationKey != "" && !equal(ak, a.ApplicationKey):
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This application key is invalid")
		return login{}, false
	case ck == "" || ts == "" || sig == "":
		writeError(w, http.StatusUnauthorized, "Client::Unauthorized", "You must login first")
		return login{}, false
	}
	if a.ApplicationSecret != "" {
		// OVHcloud signs secret+consumer+METHOD+full URL+body+timestamp.
		target := "http://" + r.Host + r.URL.RequestURI()
		if r.TLS != nil {
			target = "https://" + r.Host + r.URL.RequestURI()
		}
		h := sha1.Sum(fmt.Appendf(nil, "%s+%s+%s+%s+%s+%s", a.ApplicationSecret, ck, r.Method, target, body, ts))
		if !equal(sig, fmt.Sprintf("$1$%x", h)) {
			writeLoginError(w, http.StatusBadRequest, codeInvalidSignature, "Invalid signature")
			return login{}, false
		}
	}
	if a.MaxClockSkew > 0 {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if d := s.now().Sub(time.Unix(sec, 0)); err != nil || d > a.MaxClockSkew || d < -a.MaxClockSkew {
			writeLoginError(w, http.StatusBadRequest, codeQueryTimeOut, "Query out of time")
			return login{}, false
		}
	}
	s.mu.Lock()
	c := s.credential
	s.mu.Unlock()
	switch {
	case a.ConsumerKey != "" && !equal(ck, a.ConsumerKey):
		writeLoginError(w, http.StatusForbidden, codeNotCredential, "This credential does not exist")
		return login{}, false
	case c.Status != "" && c.Status != "validated",
		!c.Expiration.IsZero() && !s.now().Before(c.Expiration):
		// A consumer key that is revoked, never validated or past its
		// expiry.
		writeLoginError(w, http.StatusForbidden, codeInvalidCredential, "This credential is not valid")
		return login{}, false
	}
	return login{appKey: true, method: methodAccount}, true
}

// allowed applies the grant of a call: an application key's access rules
// (NOT_GRANTED_CALL, the login layer's shape), or for an OAuth2 or token
// login the IAM actions set by SetIAM (a 403 whose details name the
// missing action, as go-ovh's APIError reads them).
func (s *Server) allowed(w http.ResponseWriter, who login, rt route, method, path string) bool {
	if rt.IAM == "" {
		return true // /auth/*
	}
	s.mu.Lock()
	rules, iam := s.credential.Rules, s.iam
	s.mu.Unlock()
	if who.appKey {
		if !granted(rules, method, path) {
			writeLoginError(w, http.StatusForbidden, codeNotGranted, "This call has not been granted")
			return false
		}
		return true
	}
	if iam != nil && !slices.Contains(iam, rt.IAM) && !slices.Contains(iam, "account:apiovh:*") {
		writeJSON(w, http.StatusForbidden, apiError{
			Class:   "Client::Forbidden",
			Message: "User not granted for this request",
			Details: map[string]string{"unauthorizedActionsByAuthentication": "", "unauthorizedActionsByIAM": rt.IAM},
		})
		return false
	}
	return true
}

// SetIAM sets the IAM actions OAuth2 and access-token logins are allowed
// (e.g. "account:apiovh:me/order/pay"; "account:apiovh:*" allows every
// route); nil, the default, allows everything. Application keys are
// governed by their access rules instead (SetCredential).
func (s *Server) SetIAM(actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if actions == nil {
		actions = []string{}
	}
	s.iam = slices.Clone(actions)
}

// AllowAllIAM returns to the default: every IAM action allowed.
func (s *Server) AllowAllIAM() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iam = nil
}

// tokenExchange serves POST TokenPath: OAuth2's client credentials grant
// (RFC 6749 §4.4), the client authenticated with HTTP Basic or form
// fields, as golang.org/x/oauth2 does it. Refusals use RFC 6749's error
// shape.
func (s *Server) tokenExchange(w http.ResponseWriter, r *http.Request, body []byte) {
	oauthError := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthError(http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	a := s.Auth
	switch {
	case form.Get("grant_type") != "client_credentials":
		oauthError(http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	case id == "" || secret == "" || a.ClientID != "" && !equal(id, a.ClientID) || a.ClientSecret != "" && !equal(secret, a.ClientSecret):
		oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	tok := "fake-oauth2-" + rand.Text()
	s.mu.Lock()
	s.tokens[tok] = issued{client: id, expires: s.now().Add(TokenTTL)}
	s.mu.Unlock()
	scope := form.Get("scope")
	if scope == "" {
		scope = "all"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}{tok, "Bearer", int(TokenTTL / time.Second), scope})
}

// TokensIssued counts the OAuth2 access tokens the fake gave out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// authDetails serves GET /auth/details (auth.Details): who is logged in
// and how. allowedRoutes is an application key's access rules, null (every
// route) for the other logins.
func (s *Server) authDetails(w http.ResponseWriter, r *http.Request, _ int64, body []byte) {
	who, _ := s.authenticate(discard{header: http.Header{}}, r, body)
	type rule struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	}
	var routes []rule
	var user, desc *string
	if who.appKey {
		s.mu.Lock()
		for _, x := range s.credential.Rules {
			routes = append(routes, rule{x.Method, x.Path})
		}
		s.mu.Unlock()
	}
	if who.user != "" {
		u, d := who.user, "OAuth2 service account "+who.user
		user, desc = &u, &d
	}
	out, _ := json.Marshal(routes)
	if routes == nil {
		out = []byte("null")
	}
	writeJSON(w, http.StatusOK, struct {
		AllowedRoutes json.RawMessage `json:"allowedRoutes"`
		Description   *string         `json:"description"`
		Method        string          `json:"method"`
		Roles         []string        `json:"roles"`
		User          *string         `json:"user"`
	}{out, desc, who.method, nil, user})
}

// granted reports whether the credential's rules allow a call.
func granted(rules []Rule, method, path string) bool {
	if rules == nil {
		return true
	}
	for _, r := range rules {
		if !strings.EqualFold(r.Method, method) {
			continue
		}
		if glob(r.Path, path) {
			return true
		}
	}
	return false
}

// glob matches OVHcloud's rule paths, where "*" stands for any text,
// slashes included.
func glob(pattern, s string) bool {
	head, rest, star := strings.Cut(pattern, "*")
	if !star {
		return pattern == s
	}
	if !strings.HasPrefix(s, head) {
		return false
	}
	s = s[len(head):]
	for i := 0; i <= len(s); i++ {
		if glob(rest, s[i:]) {
			return true
		}
	}
	return false
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
