package ovhcloud

import "strings"

// NeededRules are the access rules renewbot's credential must grant, as
// the README lists them.
var NeededRules = []Rule{
	{"GET", "/services"},
	{"GET", "/services/*"},
	{"GET", "/service/*"},
	{"POST", "/service/*/renew"},
	{"GET", "/me/payment/method"},
	{"GET", "/me/payment/method/*"},
	{"GET", "/me/order/*"},
	{"POST", "/me/order/*/pay"},
	{"POST", "/me/order/*/payWithRegisteredPaymentMean"},
}

// Missing returns the rules of need that granted does not cover. A
// granted rule's "*" matches anything, "/" included, as OVHcloud's do.
func Missing(granted, need []Rule) []Rule {
	var out []Rule
	for _, n := range need {
		covered := false
		for _, g := range granted {
			if strings.EqualFold(g.Method, n.Method) && globMatch(g.Path, n.Path) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, n)
		}
	}
	return out
}

// globMatch reports whether pattern, where "*" matches any run of
// characters ("/" too, unlike path.Match), matches s. The needed rules hold "*" too: a granted "*"
// covers them, a granted literal segment does not.
func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}
