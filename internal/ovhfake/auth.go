package ovhfake

import (
	"crypto/sha1"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
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
}

// authenticate checks a call's credentials; it answers and returns false
// when they are refused.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte) bool {
	a := s.Auth
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if bearer == "" || a.AccessToken != "" && !equal(bearer, a.AccessToken) {
			writeError(w, http.StatusUnauthorized, "Client::Unauthorized", "Invalid token")
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
		writeError(w, http.StatusForbidden, "Client::Forbidden", "Invalid application key")
		return false
	case ck == "" || ts == "" || sig == "":
		writeError(w, http.StatusUnauthorized, "Client::Unauthorized", "You must login first")
		return false
	case a.ConsumerKey != "" && !equal(ck, a.ConsumerKey):
		writeError(w, http.StatusForbidden, "Client::Forbidden", "Invalid credentials")
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
			writeError(w, http.StatusBadRequest, "Client::BadRequest", "Invalid signature")
			return false
		}
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
