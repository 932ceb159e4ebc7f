package ovhcloud

import (
	"slices"
	"testing"

	"github.com/renewbot/renewbot/internal/ovhfake"
)

func TestMissing(t *testing.T) {
	for name, c := range map[string]struct {
		granted []Rule
		missing []Rule
	}{
		"all":            {[]Rule{{"GET", "/*"}, {"POST", "/*"}}, nil},
		"exact":          {NeededRules, nil},
		"read only":      {[]Rule{{"GET", "/*"}}, []Rule{{"POST", "/service/*/renew"}, {"POST", "/me/order/*/pay"}, {"POST", "/me/order/*/payWithRegisteredPaymentMean"}}},
		"narrow service": {append(slices.Clone(NeededRules[:2]), NeededRules[3:]...), []Rule{{"GET", "/service/*"}}},
		"nothing":        {nil, NeededRules},
		"literal":        {[]Rule{{"GET", "/services/12345"}}, NeededRules},
	} {
		if got := Missing(c.granted, NeededRules); !slices.Equal(got, c.missing) && !(len(got) == 0 && len(c.missing) == 0) {
			t.Errorf("%s: Missing = %v, want %v", name, got, c.missing)
		}
	}
}

// The fake OVHcloud grants what the README lists; both lists must agree.
func TestNeededRulesMatchTheFake(t *testing.T) {
	fake := ovhfake.NeededRules()
	if len(fake) != len(NeededRules) {
		t.Fatalf("the fake lists %d rules, the adapter %d", len(fake), len(NeededRules))
	}
	for i, r := range fake {
		if r.Method != NeededRules[i].Method || r.Path != NeededRules[i].Path {
			t.Errorf("rule %d: fake %v, adapter %v", i, r, NeededRules[i])
		}
	}
}
