package renew

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Policy is the team's approval policy (RENEWBOT_* variables).
type Policy struct {
	// Approvers and Requesters hold Slack user ids (U…, W…) and user
	// group ids (S…). Empty Requesters means anyone may ask; empty
	// Approvers means anyone but the requester may approve.
	Approvers  []string
	Requesters []string
	// Channels where the bot acts; empty means any.
	Channels []string
	// SelfApproval lets the requester approve their own request.
	SelfApproval bool
	// Approvals is how many distinct approvers a payment needs (>= 1).
	Approvals int
	// MaxAmount is the largest amount with tax that may be ordered and
	// paid, in micro-cents; 0 means no limit.
	MaxAmount int64
	// TTL is how long a request waits for a choice or an approval.
	TTL time.Duration
	// Directory expands user groups; nil when no group is configured.
	Directory Directory
}

// Directory answers who is in a Slack user group.
type Directory interface {
	Members(ctx context.Context, group string) ([]string, error)
}

// IsGroup reports whether a Slack id names a user group.
func IsGroup(id string) bool { return strings.HasPrefix(id, "S") }

// NeedApprovals returns how many approvals a payment needs.
func (p *Policy) NeedApprovals() int {
	if p.Approvals < 1 {
		return 1
	}
	return p.Approvals
}

// CheckChannel refuses channels outside the list.
func (p *Policy) CheckChannel(channel string) error {
	if len(p.Channels) == 0 || slices.Contains(p.Channels, channel) {
		return nil
	}
	return &DeniedError{Rule: RuleChannel, Detail: strings.Join(p.Channels, ",")}
}

// CheckRequester refuses users who may not ask for renewals.
func (p *Policy) CheckRequester(ctx context.Context, user string) error {
	if len(p.Requesters) == 0 {
		return nil
	}
	ok, err := p.member(ctx, p.Requesters, user)
	if err != nil {
		return err
	}
	if !ok {
		return &DeniedError{Rule: RuleRequester}
	}
	return nil
}

// CheckApprover refuses users who may not approve r.
func (p *Policy) CheckApprover(ctx context.Context, r *Request, user string) error {
	if !p.SelfApproval && (user == r.RequestedBy) {
		return &DeniedError{Rule: RuleSelfApproval}
	}
	return p.checkApproverList(ctx, user)
}

func (p *Policy) checkApproverList(ctx context.Context, user string) error {
	if len(p.Approvers) == 0 {
		return nil
	}
	ok, err := p.member(ctx, p.Approvers, user)
	if err != nil {
		return err
	}
	if !ok {
		return &DeniedError{Rule: RuleApprover}
	}
	return nil
}

// CheckCancel lets the requester, whoever typed /renew, or an approver
// cancel.
func (p *Policy) CheckCancel(ctx context.Context, r *Request, user string) error {
	if user == r.RequestedBy || user == r.InitiatedBy {
		return nil
	}
	err := p.checkApproverList(ctx, user)
	var d *DeniedError
	if errors.As(err, &d) && d.Rule == RuleApprover {
		return &DeniedError{Rule: RuleCancel}
	}
	return err
}

// member reports whether user is listed, directly or through a group. A
// group that cannot be read refuses: the policy fails closed.
func (p *Policy) member(ctx context.Context, list []string, user string) (bool, error) {
	if slices.Contains(list, user) {
		return true, nil
	}
	for _, id := range list {
		if !IsGroup(id) {
			continue
		}
		if p.Directory == nil {
			return false, &DeniedError{Rule: RuleDirectory, Detail: "no directory to read group " + id}
		}
		members, err := p.Directory.Members(ctx, id)
		if err != nil {
			return false, &DeniedError{Rule: RuleDirectory, Detail: "cannot read user group " + id + ": " + err.Error()}
		}
		if slices.Contains(members, user) {
			return true, nil
		}
	}
	return false, nil
}
