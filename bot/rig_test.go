package bot

import "github.com/renewbot/renewbot/renew"

// newTestRenewer is a Renewer enough for what never reaches the store or
// OVHcloud: acks, refusals, help.
func newTestRenewer() *renew.Renewer {
	return &renew.Renewer{Policy: &renew.Policy{}}
}
