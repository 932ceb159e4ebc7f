package renew

import (
	"context"
	"errors"
	"testing"
)

type directory map[string][]string

func (d directory) Members(_ context.Context, group string) ([]string, error) {
	if m, ok := d[group]; ok {
		return m, nil
	}
	return nil, errors.New("slack is down")
}

func rule(err error) Rule {
	var d *DeniedError
	if errors.As(err, &d) {
		return d.Rule
	}
	return ""
}

func TestPolicyApprover(t *testing.T) {
	ctx := context.Background()
	r := &Request{RequestedBy: "UALICE", InitiatedBy: "UCAROL"}
	p := &Policy{Approvers: []string{"UBOB", "SOPS"}, Directory: directory{"SOPS": {"UDAVE"}}}
	for user, want := range map[string]Rule{
		"UBOB": "", "UDAVE": "", "UALICE": RuleSelfApproval, "UEVE": RuleApprover,
	} {
		if got := rule(p.CheckApprover(ctx, r, user)); got != want {
			t.Errorf("CheckApprover(%s) refused by %q, want %q", user, got, want)
		}
	}
	p.SelfApproval = true
	p.Approvers = append(p.Approvers, "UALICE")
	if err := p.CheckApprover(ctx, r, "UALICE"); err != nil {
		t.Errorf("self-approval on: %v", err)
	}
}

func TestPolicyFailsClosedWhenGroupsCannotBeRead(t *testing.T) {
	p := &Policy{Approvers: []string{"SOPS"}, Directory: directory{}}
	err := p.CheckApprover(context.Background(), &Request{RequestedBy: "UALICE"}, "UBOB")
	if rule(err) != RuleDirectory || !errors.Is(err, ErrDenied) {
		t.Fatalf("got %v, want a directory refusal", err)
	}
}

func TestPolicyEmptyListsAllowAnyoneButTheRequester(t *testing.T) {
	p := &Policy{}
	ctx := context.Background()
	r := &Request{RequestedBy: "UALICE"}
	if err := p.CheckApprover(ctx, r, "UBOB"); err != nil {
		t.Errorf("approver: %v", err)
	}
	if rule(p.CheckApprover(ctx, r, "UALICE")) != RuleSelfApproval {
		t.Error("the requester approved their own request")
	}
	if err := p.CheckRequester(ctx, "UANY"); err != nil {
		t.Errorf("requester: %v", err)
	}
	if err := p.CheckChannel("CANY"); err != nil {
		t.Errorf("channel: %v", err)
	}
	p.Channels = []string{"COPS"}
	if rule(p.CheckChannel("CANY")) != RuleChannel {
		t.Error("a channel outside the list was allowed")
	}
}

func TestPolicyCancel(t *testing.T) {
	p := &Policy{Approvers: []string{"UBOB"}}
	r := &Request{RequestedBy: "UALICE", InitiatedBy: "UCAROL"}
	for user, want := range map[string]Rule{"UALICE": "", "UCAROL": "", "UBOB": "", "UEVE": RuleCancel} {
		if got := rule(p.CheckCancel(context.Background(), r, user)); got != want {
			t.Errorf("CheckCancel(%s) = %q, want %q", user, got, want)
		}
	}
}

func TestStateMachine(t *testing.T) {
	for _, c := range []struct {
		from, to State
		ok       bool
	}{
		{StateProposed, StateOrdering, true},
		{StateAwaitingApproval, StatePaying, true},
		{StatePaying, StateUnknown, true},
		{StatePaymentFailed, StatePaying, true},
		{StatePaid, StateDelivered, true},
		{StatePaid, StatePaying, false},
		{StateDelivered, StatePaying, false},
		{StateCancelled, StatePaying, false},
		{StateProposed, StatePaying, false},
		{StateUnknown, StatePaying, false},
	} {
		if got := CanMove(c.from, c.to); got != c.ok {
			t.Errorf("CanMove(%s, %s) = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	for _, s := range []State{StateDelivered, StateFailed, StateCancelled, StateExpired} {
		if !s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
}
