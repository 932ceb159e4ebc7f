package renew

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// UcentsPerUnit is OVHcloud's priceInUcents scale: 1 € = 100,000,000.
const UcentsPerUnit = 100_000_000

// Money is an amount in micro-cents with its currency and OVHcloud's own
// text ("37.87 €"). Amounts are compared as integers, never as floats.
type Money struct {
	Ucents   int64
	Currency string // ISO 4217, e.g. EUR
	Text     string // as OVHcloud formats it
}

// String returns OVHcloud's text, or a plain rendering when it is missing.
func (m Money) String() string {
	if m.Text != "" {
		return m.Text
	}
	return FormatUcents(m.Ucents) + " " + m.Currency
}

// FormatUcents writes micro-cents as a decimal with two places (or more
// when the amount needs them): 3787000000 -> "37.87".
func FormatUcents(u int64) string {
	neg := u < 0
	if neg {
		u = -u
	}
	whole, frac := u/UcentsPerUnit, u%UcentsPerUnit
	f := fmt.Sprintf("%08d", frac)
	f = strings.TrimRight(f, "0")
	for len(f) < 2 {
		f += "0"
	}
	s := strconv.FormatInt(whole, 10) + "." + f
	if neg {
		s = "-" + s
	}
	return s
}

var errAmount = errors.New("invalid amount")

// ParseUcents reads a decimal amount exactly ("45.44", "100", "0.5") into
// micro-cents, without going through a float.
func ParseUcents(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: empty", errAmount)
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 8 || len(whole) > 10 {
		return 0, fmt.Errorf("%w: %q", errAmount, s)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w: %q", errAmount, s)
		}
	}
	var w, f int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 8-len(frac)), 10, 64)
	}
	u := w*UcentsPerUnit + f
	if neg {
		u = -u
	}
	return u, nil
}
