// Package renew is renewbot's domain: OVHcloud services and their renewal
// strategies, renewal requests and their state machine, the team's approval
// policy, and the interfaces the domain needs from storage and from OVHcloud.
//
// It imports neither Slack, nor SQL drivers, nor go-ovh: adapters live in
// sub-packages (renew/ovhcloud, renew/sqlstore) and the Slack transport in
// package bot.
package renew

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors. Adapters and the Renewer wrap them with %w; only the
// transport turns them into words for a user.
var (
	// ErrNotFound: no service, request or order by that name or id.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request is no longer in a state that allows the
	// action (someone else acted first, or it has finished).
	ErrConflict = errors.New("request state changed")
	// ErrNoStrategies: OVHcloud offers no way to renew the service (or none
	// for the requested period).
	ErrNoStrategies = errors.New("no renewal strategies")
	// ErrStrategyGone: the strategy chosen on the message is no longer
	// offered by OVHcloud.
	ErrStrategyGone = errors.New("strategy no longer offered")
	// ErrOrderExpired: the renew order passed its expiration date.
	ErrOrderExpired = errors.New("order expired")
	// ErrOrderNotPayable: OVHcloud says the order is not waiting for
	// payment (already paid, cancelled...).
	ErrOrderNotPayable = errors.New("order not payable")
	// ErrDenied: the policy refuses the action; see DeniedError.
	ErrDenied = errors.New("denied by policy")
	// ErrOverLimit: the amount is above RENEWBOT_MAX_AMOUNT.
	ErrOverLimit = errors.New("amount above the limit")
	// ErrPaymentUnknown: a pay call's outcome is not known (timeout, cut
	// connection); the order status must be checked before paying again.
	ErrPaymentUnknown = errors.New("payment outcome unknown")
	// ErrPaymentPending: the order is in a state where an earlier pay
	// call may have gone through (documents requested, being cancelled):
	// nothing is paid until the order status settles it.
	ErrPaymentPending = errors.New("an earlier payment may have gone through")
	// ErrOrderUnknown: the renew order call got no clear answer; an order
	// may exist on OVHcloud, unpaid (it expires on its own).
	ErrOrderUnknown = errors.New("order outcome unknown")
	// ErrOtherChannel: a button was clicked in another channel than the
	// request's (a forwarded or copied message).
	ErrOtherChannel = errors.New("request belongs to another channel")
	// ErrPaidNotRecorded: OVHcloud took the payment but the store could
	// not record it. Nobody must pay again.
	ErrPaidNotRecorded = errors.New("paid, but not recorded")
	// ErrDryRun: dry-run mode never pays.
	ErrDryRun = errors.New("dry run: nothing is paid")
	// ErrUnavailable: a dependency (Slack, OVHcloud) could not answer and
	// the action was refused rather than guessed.
	ErrUnavailable = errors.New("unavailable")
	// ErrServiceBusy: another open request renews the service; see
	// BusyError.
	ErrServiceBusy = errors.New("another request is open for the service")
	// ErrStaleApproval: an approval click shown for an earlier round of
	// approval (a replay, or a message from before a failed payment).
	ErrStaleApproval = errors.New("approval from an earlier attempt")
	// ErrRenewedElsewhere: the service's expiry moved since the
	// strategies were shown; see RenewedElsewhereError.
	ErrRenewedElsewhere = errors.New("service renewed elsewhere")
	// ErrCredential: OVHcloud's login layer refused the bot's credentials
	// (invalid, expired or revoked; a wrong secret or signature). Nothing
	// the call asked for was done.
	ErrCredential = errors.New("OVHcloud credentials refused")
	// ErrNotGranted: the credentials are valid but not allowed to make
	// this call (a missing access rule or IAM permission). Nothing the
	// call asked for was done.
	ErrNotGranted = errors.New("OVHcloud call not granted")
)

// BusyError says which request holds a service. It wraps ErrServiceBusy.
type BusyError struct {
	ServiceID int64
	// Holder is the request that holds the service, as stored; nil when
	// it could not be read.
	Holder *Request
}

func (e *BusyError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("service %d: another request is open", e.ServiceID)
	}
	return fmt.Sprintf("service %d: request %s is %s", e.ServiceID, e.Holder.ID, e.Holder.State)
}

func (e *BusyError) Unwrap() error { return ErrServiceBusy }

// RenewedElsewhereError says the service was renewed outside this
// request: its expiry moved from Was to Now. It wraps ErrRenewedElsewhere.
type RenewedElsewhereError struct {
	Service  Service
	Was, Now time.Time
}

func (e *RenewedElsewhereError) Error() string {
	return fmt.Sprintf("%s renewed elsewhere meanwhile: expiry moved from %s to %s",
		e.Service.Name, e.Was.Format(time.DateOnly), e.Now.Format(time.DateOnly))
}

func (e *RenewedElsewhereError) Unwrap() error { return ErrRenewedElsewhere }

// AlreadyRenewedError says another request By paid, is paying, or may
// have paid, for renewing the service from the same expiry as this one:
// paying again would renew it twice. By's state tells which (delivered:
// the expiry moved since this request read it). It wraps
// ErrRenewedElsewhere.
type AlreadyRenewedError struct {
	Renewal Renewal
	// By is the request that claimed that renewal, as stored; nil when it
	// could not be read.
	By *Request
}

func (e *AlreadyRenewedError) Error() string {
	by := "another request"
	if e.By != nil {
		by = fmt.Sprintf("request %s (%s)", e.By.ID, e.By.State)
	}
	name := e.Renewal.Name
	if name == "" {
		name = fmt.Sprintf("service %d", e.Renewal.ServiceID)
	}
	return fmt.Sprintf("%s, expiring %s, is already renewed by %s", name, e.Renewal.From.Format(time.DateOnly), by)
}

func (e *AlreadyRenewedError) Unwrap() error { return ErrRenewedElsewhere }

// StaleApprovalError is a click for attempt Got while the request is at
// attempt Want. It wraps ErrStaleApproval.
type StaleApprovalError struct {
	ID        string
	Got, Want int
}

func (e *StaleApprovalError) Error() string {
	return fmt.Sprintf("request %s: approval for attempt %d, now at attempt %d", e.ID, e.Got, e.Want)
}

func (e *StaleApprovalError) Unwrap() error { return ErrStaleApproval }

// APIError is a refusal from OVHcloud, carried through the domain so the
// transport can show OVHcloud's own message and the query id support asks for.
//
// OVHcloud answers in two shapes: its API refuses with a Class
// ({"class":"Client::NotFound","message":…}), its login layer with an error
// code and no class ({"errorCode":"INVALID_CREDENTIAL","httpCode":"403
// Forbidden","message":…}). errors.Is tells the kinds apart: ErrNotFound,
// ErrCredential, ErrNotGranted.
type APIError struct {
	Status  int    // HTTP status
	Class   string // e.g. Client::Forbidden; empty for login-layer refusals
	Code    string // login layer's errorCode: INVALID_CREDENTIAL, NOT_GRANTED_CALL, INVALID_SIGNATURE…
	Message string
	QueryID string // X-Ovh-QueryID
	// Grant names what would allow a call refused for lack of rights: the
	// access rule an application key lacks ("POST /me/order/*/pay") or
	// the IAM actions an OAuth2 login lacks ("account:apiovh:me/order/pay").
	Grant string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("ovhcloud: %d %s", e.Status, e.Message)
	if e.QueryID != "" {
		s += " (query id " + e.QueryID + ")"
	}
	return s
}

// credentialCodes are the login layer's refusals of the credentials
// themselves, as OVHcloud's clients name them (python-ovh's exceptions).
var credentialCodes = []string{"INVALID_CREDENTIAL", "NOT_CREDENTIAL", "INVALID_KEY", "INVALID_SIGNATURE"}

// Is lets errors.Is hold for ErrNotFound (a 404 of the API), ErrCredential
// (the credentials were refused: any 401, or one of the login layer's
// credential codes) and ErrNotGranted (the call is not granted).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == 404 && e.Code == ""
	case ErrCredential:
		return e.Status == 401 || slices.Contains(credentialCodes, e.Code)
	case ErrNotGranted:
		return e.Code == "NOT_GRANTED_CALL" || e.Status == 403 && e.Grant != ""
	}
	return false
}

// AmbiguousError lists the services a query matched when it matched several.
type AmbiguousError struct {
	Query   string
	Matches []Service
}

func (e *AmbiguousError) Error() string {
	names := make([]string, len(e.Matches))
	for i, s := range e.Matches {
		names[i] = s.Name
	}
	return fmt.Sprintf("%q matches %d services: %s", e.Query, len(e.Matches), strings.Join(names, ", "))
}

// Rule names a policy rule, so the transport can explain a refusal.
type Rule string

const (
	RuleSelfApproval Rule = "self_approval" // the requester tried to approve
	RuleApprover     Rule = "approver"      // not in RENEWBOT_APPROVERS
	RuleRequester    Rule = "requester"     // not in RENEWBOT_REQUESTERS
	RuleChannel      Rule = "channel"       // not in RENEWBOT_CHANNELS
	RuleCancel       Rule = "cancel"        // neither requester nor approver
	RuleDirectory    Rule = "directory"     // group membership could not be read
)

// DeniedError is a policy refusal. It wraps ErrDenied.
type DeniedError struct {
	Rule   Rule
	Detail string // e.g. the allowed channels, or why a lookup failed
}

func (e *DeniedError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("denied (%s)", e.Rule)
	}
	return fmt.Sprintf("denied (%s): %s", e.Rule, e.Detail)
}

func (e *DeniedError) Unwrap() error { return ErrDenied }

// StateError says what state a request was in when an action needed another.
// It wraps ErrConflict.
type StateError struct {
	ID    string
	State State
}

func (e *StateError) Error() string {
	return fmt.Sprintf("request %s is %s", e.ID, e.State)
}

func (e *StateError) Unwrap() error { return ErrConflict }
