package ovhfake

import (
	"crypto/sha1"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Auth says which credentials the fake accepts. Empty fields accept any
// non-empty value, so a zero Auth takes any well-formed signed call or
// bearer token; calls with neither are refused like OVHcloud refuses them.
type Auth struct {
	ApplicationKey string
	// ApplicationSecret, when set, makes the fake verify X-Ovh-Signature
	// the way OVHcloud does.
	ApplicationSecret string
	ConsumerKey       string
	AccessToken       string // the one bearer token accepted
	// MaxClockSkew, when set, refuses a signed call whose X-Ovh-Timestamp
	// is further than that from the fake's clock (QUERY_TIME_OUT).
	MaxClockSkew time.Duration
}

// authenticate checks a call's credentials; it answers and returns false
// when they are refused, with the shapes of OVHcloud's login layer: an
// unsigned call and an unknown application key get the API's class
// shape (as observed live), the rest an errorCode and no class.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte) bool {
	a := s.Auth
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if bearer == "" || a.AccessToken != "" && !equal(bearer, a.AccessToken) {
			writeLoginError(w, http.StatusUnauthorized, codeInvalidCredential, "This credential is not valid")
			return false
		}
		return true
	}
	ak := r.Header.Get("X-Ovh-Application")
	ck := r.Header.Get("X-Ovh-Consumer")
	ts := r.Header.Get("X-Ovh-Timestamp")
	sig := r.Header.Get("X-Ovh-Signature")
	switch {
	case ak == "":
		writeError(w, http.StatusUnauthorized, "Client::Unauthorized", "You must login first")
		return false
	case a.ApplicationKey != "" && !equal(ak, a.ApplicationKey):
		writeError(w, http.StatusForbidden, "Client::Forbidden", "This application key is invalid")
		return false
	case ck == "" || ts == "" || sig == "":
		writeError(w, http.StatusUnauthorized, "Client::Unauthorized", "You must login first")
		return false
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
			return false
		}
	}
	if a.MaxClockSkew > 0 {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if d := s.now().Sub(time.Unix(sec, 0)); err != nil || d > a.MaxClockSkew || d < -a.MaxClockSkew {
			writeLoginError(w, http.StatusBadRequest, codeQueryTimeOut, "Query out of time")
			return false
		}
	}
	s.mu.Lock()
	c := s.credential
	s.mu.Unlock()
	switch {
	case a.ConsumerKey != "" && !equal(ck, a.ConsumerKey),
		c.Status != "" && c.Status != "validated",
		!c.Expiration.IsZero() && !s.now().Before(c.Expiration):
		// A consumer key that is unknown, revoked, never validated or
		// past its expiry.
		writeLoginError(w, http.StatusForbidden, codeInvalidCredential, "This credential is not valid")
		return false
	}
	return true
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
