package ovhcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/renewbot/renewbot/renew"
)

// tokenSource gets an OAuth2 service account's access tokens (client
// credentials grant, scope "all", as go-ovh asks), reuses one until it
// expires, and can drop it when OVHcloud refuses it earlier.
type tokenSource struct {
	cfg clientcredentials.Config
	hc  *http.Client

	mu  sync.Mutex
	src oauth2.TokenSource
}

func newTokenSource(cfg Config, hc *http.Client) *tokenSource {
	return &tokenSource{
		cfg: clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL, Scopes: []string{"all"}},
		hc:  hc,
	}
}

// token returns a valid access token, exchanging the client's id and
// secret for one when there is none.
func (t *tokenSource) token() (string, error) {
	t.mu.Lock()
	if t.src == nil {
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, t.hc)
		t.src = t.cfg.TokenSource(ctx) // reuses a token until it expires; safe for concurrent use
	}
	src := t.src
	t.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return "", tokenError(err)
	}
	return tok.AccessToken, nil
}

// reset drops the current token: the next call gets a new one.
func (t *tokenSource) reset() {
	t.mu.Lock()
	t.src = nil
	t.mu.Unlock()
}

// tokenError turns a failed token exchange into the domain's errors: a
// refusal (RFC 6749's invalid_client…) is an *renew.APIError the user is
// told about as refused credentials; no answer at all is unavailable.
// Either way no API call was sent.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := &renew.APIError{Status: re.Response.StatusCode, Code: re.ErrorCode, Message: re.ErrorDescription}
		if e.Message == "" {
			e.Message = "the OAuth2 token exchange was refused"
		}
		if e.Status == http.StatusBadRequest && e.Code == "invalid_client" {
			e.Status = http.StatusUnauthorized // RFC 6749 §5.2 allows either for a client that failed to authenticate
		}
		return fmt.Errorf("ovhcloud: OAuth2 token: %w", e)
	}
	return fmt.Errorf("ovhcloud: OAuth2 token: %w: %w: %w", errNoToken, renew.ErrUnavailable, err)
}

// errNoToken marks a token exchange that got no answer: a GET may try
// again; a POST was not sent.
var errNoToken = errors.New("no access token")
