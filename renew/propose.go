package renew

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ProposeInput is a /renew command.
type ProposeInput struct {
	Channel string
	User    string
	Query   string // service name, display name or numeric id
	Period  Period // zero for all periods
}

// NoStrategiesError says no strategy matched, and which periods OVHcloud
// offers. It wraps ErrNoStrategies.
type NoStrategiesError struct {
	Service Service
	Period  Period
	Offered []Period
}

func (e *NoStrategiesError) Error() string {
	return fmt.Sprintf("no renewal strategy for %s (%s)", e.Service.Name, e.Period)
}

func (e *NoStrategiesError) Unwrap() error { return ErrNoStrategies }

// Propose resolves the service, reads its strategies and stores a proposed
// request whose options the message will show.
func (rn *Renewer) Propose(ctx context.Context, in ProposeInput) (*Request, error) {
	if err := rn.Policy.CheckChannel(in.Channel); err != nil {
		return nil, err
	}
	if err := rn.Policy.CheckRequester(ctx, in.User); err != nil {
		return nil, err
	}
	// A numeric id needs no lookup: read the service and its strategies
	// at the same time, halving the wait for the message.
	type strategies struct {
		list []Strategy
		err  error
	}
	var early chan strategies
	if id, err := strconv.ParseInt(strings.TrimSpace(in.Query), 10, 64); err == nil && id > 0 {
		early = make(chan strategies, 1)
		go func() {
			list, err := rn.OVH.Strategies(ctx, id)
			early <- strategies{list, err}
		}()
	}
	svc, err := rn.Resolve(ctx, in.Query)
	if err != nil {
		return nil, err
	}
	// Tell at once when another request is renewing the service: it
	// would win any order this proposal could make.
	if h, err := rn.Store.Holder(ctx, svc.ID); err != nil {
		return nil, fmt.Errorf("service %s: %w", svc.Name, err)
	} else if h != nil {
		return nil, &BusyError{ServiceID: svc.ID, Holder: h}
	}
	// And when a payment already renews it from this expiry, OVHcloud
	// not having delivered it yet: the expiry read here is stale.
	if !svc.Expiration.IsZero() {
		if err := rn.alreadyRenewed(ctx, []Renewal{{ServiceID: svc.ID, Name: svc.Name, From: svc.Expiration}}); err != nil {
			return nil, err
		}
	}
	var all []Strategy
	if early != nil {
		got := <-early
		all, err = got.list, got.err
	} else {
		all, err = rn.OVH.Strategies(ctx, svc.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("strategies of %s: %w", svc.Name, err)
	}
	opts := all
	if !in.Period.IsZero() {
		opts = slices.DeleteFunc(slices.Clone(all), func(s Strategy) bool { return s.Period != in.Period })
	}
	if len(opts) == 0 {
		return nil, &NoStrategiesError{Service: svc, Period: in.Period, Offered: periods(all)}
	}
	now := rn.now()
	r := &Request{
		ID:          NewID(),
		State:       StateProposed,
		Channel:     in.Channel,
		InitiatedBy: in.User,
		Service:     svc,
		Options:     opts,
		DryRun:      rn.DryRun,
		CreatedAt:   now,
		UpdatedAt:   now,
		ExpiresAt:   now.Add(rn.ttl()),
	}
	ev := Event{At: now, Actor: in.User, Action: "proposed", To: StateProposed,
		Detail: fmt.Sprintf("%s: %d strategies", svc.Name, len(opts))}
	if err := rn.Store.Create(ctx, r, ev); err != nil {
		return nil, fmt.Errorf("store request: %w", err)
	}
	return r, nil
}

func (rn *Renewer) ttl() time.Duration {
	if rn.Policy.TTL > 0 {
		return rn.Policy.TTL
	}
	return 24 * time.Hour
}

func periods(ss []Strategy) []Period {
	var out []Period
	for _, s := range ss {
		if !slices.Contains(out, s.Period) {
			out = append(out, s.Period)
		}
	}
	return out
}

// Resolve finds one service by numeric id, service name or display name.
func (rn *Renewer) Resolve(ctx context.Context, query string) (Service, error) {
	query = strings.TrimSpace(query)
	if id, err := strconv.ParseInt(query, 10, 64); err == nil && id > 0 {
		svc, err := rn.OVH.Service(ctx, id)
		if err != nil {
			return Service{}, fmt.Errorf("service %d: %w", id, err)
		}
		return svc, nil
	}
	ids, err := rn.OVH.ServiceIDs(ctx, query)
	if err != nil {
		return Service{}, fmt.Errorf("find %q: %w", query, err)
	}
	switch {
	case len(ids) == 1:
		svc, err := rn.OVH.Service(ctx, ids[0])
		if err != nil {
			return Service{}, fmt.Errorf("service %d: %w", ids[0], err)
		}
		return svc, nil
	case len(ids) > 1:
		matches := make([]Service, 0, len(ids))
		for _, id := range ids {
			svc, err := rn.OVH.Service(ctx, id)
			if err != nil {
				return Service{}, fmt.Errorf("service %d: %w", id, err)
			}
			matches = append(matches, svc)
		}
		return Service{}, &AmbiguousError{Query: query, Matches: matches}
	}
	if rn.Lookup == nil {
		return Service{}, fmt.Errorf("service %q: %w", query, ErrNotFound)
	}
	all, err := rn.Lookup(ctx)
	if err != nil {
		return Service{}, fmt.Errorf("list services: %w", err)
	}
	var matches []Service
	for _, s := range all {
		if s.DisplayName != "" && strings.EqualFold(s.DisplayName, query) {
			matches = append(matches, s)
		}
	}
	switch len(matches) {
	case 0:
		return Service{}, fmt.Errorf("service %q: %w", query, ErrNotFound)
	case 1:
		// Read it again: the list may be cached, and the request keeps
		// the expiry it renews from.
		svc, err := rn.OVH.Service(ctx, matches[0].ID)
		if err != nil {
			return Service{}, fmt.Errorf("service %d: %w", matches[0].ID, err)
		}
		return svc, nil
	}
	return Service{}, &AmbiguousError{Query: query, Matches: matches}
}
