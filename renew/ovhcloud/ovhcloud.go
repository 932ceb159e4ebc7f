// Package ovhcloud implements renew.OVHcloud over OVHcloud's API v1 with
// github.com/ovh/go-ovh: it finds services, reads renewal strategies,
// creates renew orders and pays them.
//
// go-ovh signs the calls; this package sends them itself so that each call
// has its own timeout and context, GETs are retried with backoff, POSTs
// (which spend money) never are, and every refusal becomes a
// *renew.APIError carrying OVHcloud's message and query id.
package ovhcloud

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovh/go-ovh/ovh"

	"github.com/renewbot/renewbot/renew"
)

var _ renew.OVHcloud = (*Client)(nil)

// Config says where OVHcloud is and how to authenticate. Exactly one kind
// of credentials must be complete: ApplicationKey, ApplicationSecret and
// ConsumerKey; or ClientID and ClientSecret (OAuth2); or AccessToken.
type Config struct {
	// Endpoint is a region name (ovh-eu, ovh-ca, ovh-us, kimsufi-eu,
	// kimsufi-ca, soyoustart-eu, soyoustart-ca) or a base URL such as
	// http://127.0.0.1:8081/1.0. Default ovh-eu.
	Endpoint string

	ApplicationKey    string
	ApplicationSecret string
	ConsumerKey       string
	ClientID          string
	ClientSecret      string
	AccessToken       string

	// TokenURL is where an OAuth2 client exchanges its id and secret for
	// an access token. Default: the named endpoint's (go-ovh's table:
	// https://www.ovh.com/auth/oauth2/token for ovh-eu…); required when
	// Endpoint is a base URL (a proxy, a test fake).
	TokenURL string

	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration
	// HTTPClient sends the calls (default a fresh http.Client); its
	// Timeout is ignored in favour of Timeout. It is never modified.
	HTTPClient *http.Client

	// Attempts is how many times a GET is tried (default 4).
	Attempts int
	// Backoff is the first wait between GET attempts (default 250ms); it
	// doubles each time, with full jitter.
	Backoff time.Duration
	// MaxWait caps one wait between attempts, Retry-After included
	// (default 5s).
	MaxWait time.Duration
	// RetryBudget caps the total time a GET spends in retries (default
	// 30s): no attempt starts after it.
	RetryBudget time.Duration

	// Observe, if set, is called once per HTTP attempt with the route as a
	// pattern ("/services/{id}"), the HTTP status (0 when no answer came)
	// and how long the attempt took. For metrics.
	Observe func(method, route string, status int, d time.Duration)
}

// Client calls OVHcloud. It is safe for concurrent use.
type Client struct {
	api  *ovh.Client
	http *http.Client
	cfg  Config

	// go-ovh's NewRequest writes to its own http.Client on every call and
	// fetches the server time once: serialise it.
	signMu sync.Mutex
	kind   kind
	signed bool        // calls are signed with an application key
	synced atomic.Bool // the /auth/time delta is known

	// oauth2 gets and renews an OAuth2 client's access tokens; nil for
	// the other logins.
	oauth2 *tokenSource
}

// New checks cfg and returns a client. It makes no call.
func New(cfg Config) (*Client, error) {
	endpoint, err := endpointURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	kind, err := credentialKind(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 5 * time.Second
	}
	if cfg.RetryBudget <= 0 {
		cfg.RetryBudget = 30 * time.Second
	}
	var transport http.RoundTripper
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		// A copy: the per-attempt context bounds each call, not Timeout.
		c := *cfg.HTTPClient
		c.Timeout = 0
		hc = &c
		transport = cfg.HTTPClient.Transport
	}
	// go-ovh's own client only fetches /auth/time (and OAuth2 tokens go
	// through golang.org/x/oauth2); it gets a private http.Client because
	// go-ovh overwrites its Timeout on every request.
	inner := &http.Client{Transport: transport, Timeout: cfg.Timeout}

	var api *ovh.Client
	switch kind {
	case kindApplication, kindToken:
		// Built by hand rather than with ovh.NewClient so that neither
		// OVH_* variables nor ovh.conf files add credentials behind
		// Config's back.
		api = &ovh.Client{
			AppKey:      cfg.ApplicationKey,
			AppSecret:   cfg.ApplicationSecret,
			ConsumerKey: cfg.ConsumerKey,
			AccessToken: cfg.AccessToken,
		}
		if err := api.SetEndpoint(endpoint); err != nil {
			return nil, fmt.Errorf("OVH_ENDPOINT: %w", err)
		}
	case kindOAuth2:
		if cfg.TokenURL == "" {
			cfg.TokenURL = tokenURLs[endpoint]
		}
		if cfg.TokenURL == "" {
			return nil, fmt.Errorf("OVH_CLIENT_ID and OVH_CLIENT_SECRET work only with OVH_ENDPOINT ovh-eu, ovh-ca or ovh-us, not %q (or give OVH_OAUTH2_TOKEN_URL)", cfg.Endpoint)
		}
		if u, err := url.Parse(cfg.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("OVH_OAUTH2_TOKEN_URL: %q is not an http(s) URL", cfg.TokenURL)
		}
		// The token exchange is done here rather than by go-ovh, whose
		// token source uses http.DefaultClient and a fixed URL: it goes
		// through HTTPClient's transport and honours TokenURL. go-ovh
		// then only builds requests, with no credentials of its own.
		api = &ovh.Client{}
		if err := api.SetEndpoint(endpoint); err != nil {
			return nil, fmt.Errorf("OVH_ENDPOINT: %w", err)
		}
	}
	api.Client = inner
	api.Timeout = cfg.Timeout
	api.UserAgent = "renewbot"
	c := &Client{api: api, http: hc, cfg: cfg, kind: kind, signed: kind == kindApplication}
	if kind == kindOAuth2 {
		c.oauth2 = newTokenSource(cfg, inner)
	}
	return c, nil
}

// tokenURLs are OVHcloud's OAuth2 token endpoints by API endpoint, as
// go-ovh v1.9.0 knows them (its tokensURLs, unexported).
var tokenURLs = map[string]string{
	ovh.OvhEU: "https://www.ovh.com/auth/oauth2/token",
	ovh.OvhCA: "https://ca.ovh.com/auth/oauth2/token",
	ovh.OvhUS: "https://us.ovhcloud.com/auth/oauth2/token",
}

// Login says which kind of credentials the client uses: "application
// key", "OAuth2 client" or "access token".
func (c *Client) Login() string {
	switch c.kind {
	case kindApplication:
		return "application key"
	case kindOAuth2:
		return "OAuth2 client"
	}
	return "access token"
}

// SignedWithApplicationKey reports whether calls are signed with an
// application key, whose access rules GET /auth/currentCredential lists;
// the other logins are granted calls by IAM policies.
func (c *Client) SignedWithApplicationKey() bool { return c.kind == kindApplication }

// endpointURL resolves a region name or checks a base URL.
func endpointURL(e string) (string, error) {
	e = strings.TrimSpace(e)
	if e == "" {
		e = "ovh-eu"
	}
	if !strings.Contains(e, "/") {
		u, ok := ovh.Endpoints[e]
		if !ok {
			names := make([]string, 0, len(ovh.Endpoints))
			for n := range ovh.Endpoints {
				names = append(names, n)
			}
			slices.Sort(names)
			return "", fmt.Errorf("OVH_ENDPOINT: unknown region %q (expected one of %s, or a base URL)", e, strings.Join(names, ", "))
		}
		return u, nil
	}
	e = strings.TrimRight(e, "/")
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("OVH_ENDPOINT: %q is not an http(s) base URL like https://eu.api.ovh.com/1.0", e)
	}
	return e, nil
}

type kind int

const (
	kindApplication kind = iota + 1
	kindOAuth2
	kindToken
)

// credentialKind picks the one kind of credentials cfg fills, naming the
// missing variable of a half-filled kind.
func credentialKind(cfg Config) (kind, error) {
	type field struct{ name, value string }
	kinds := []struct {
		kind   kind
		fields []field
	}{
		{kindApplication, []field{{"OVH_APPLICATION_KEY", cfg.ApplicationKey}, {"OVH_APPLICATION_SECRET", cfg.ApplicationSecret}, {"OVH_CONSUMER_KEY", cfg.ConsumerKey}}},
		{kindOAuth2, []field{{"OVH_CLIENT_ID", cfg.ClientID}, {"OVH_CLIENT_SECRET", cfg.ClientSecret}}},
		{kindToken, []field{{"OVH_ACCESS_TOKEN", cfg.AccessToken}}},
	}
	var found kind
	var set []string
	var errs []error
	for _, k := range kinds {
		var have, missing []string
		for _, f := range k.fields {
			if strings.TrimSpace(f.value) != "" {
				have = append(have, f.name)
			} else {
				missing = append(missing, f.name)
			}
		}
		if len(have) == 0 {
			continue
		}
		set = append(set, have[0])
		found = k.kind
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("%s is missing (%s is set)", strings.Join(missing, " and "), strings.Join(have, " and ")))
		}
	}
	switch {
	case len(set) > 1:
		return 0, fmt.Errorf("OVH credentials: set only one kind, not %s", strings.Join(set, " and "))
	case len(errs) > 0:
		return 0, fmt.Errorf("OVH credentials: %w", errors.Join(errs...))
	case found == 0:
		return 0, errors.New("OVH credentials: set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY; or OVH_CLIENT_ID and OVH_CLIENT_SECRET; or OVH_ACCESS_TOKEN")
	}
	return found, nil
}
