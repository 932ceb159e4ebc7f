package renew

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Period is a renewal period. OVHcloud writes them as ISO 8601 durations
// (P1M, P1Y, P2Y); serviceInfos counts months. Renewals are whole months or
// years, so a period is kept as a number of months plus days for the rare
// day-based durations.
type Period struct {
	Months int
	Days   int
}

var errPeriod = errors.New("invalid period")

// ParsePeriod reads an ISO 8601 duration (P1Y, P3M, P1Y6M, P30D) or the
// short forms people type (1y, 3m, 12m, 1 year, 6 months).
func ParsePeriod(s string) (Period, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return Period{}, fmt.Errorf("%w: empty", errPeriod)
	}
	if strings.HasPrefix(in, "p") {
		return parseISO(in[1:], s)
	}
	// Short forms: a number followed by a unit word.
	i := 0
	for i < len(in) && in[i] >= '0' && in[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 {
		return Period{}, fmt.Errorf("%w: %q", errPeriod, s)
	}
	n, _ := strconv.Atoi(in[:i])
	if n == 0 {
		return Period{}, fmt.Errorf("%w: %q is zero", errPeriod, s)
	}
	switch strings.TrimSpace(in[i:]) {
	case "y", "yr", "yrs", "year", "years":
		return Period{Months: 12 * n}, nil
	case "m", "mo", "month", "months":
		return Period{Months: n}, nil
	case "d", "day", "days":
		return Period{Days: n}, nil
	}
	return Period{}, fmt.Errorf("%w: %q", errPeriod, s)
}

// parseISO reads the part of an ISO 8601 duration after "P". Time parts
// (T...) are refused: no renewal is counted in hours.
func parseISO(rest, orig string) (Period, error) {
	if rest == "" {
		return Period{}, fmt.Errorf("%w: %q", errPeriod, orig)
	}
	var p Period
	seen := ""
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 4 {
			return Period{}, fmt.Errorf("%w: %q", errPeriod, orig)
		}
		n, _ := strconv.Atoi(rest[:i])
		unit := rest[i]
		// Units must come in order Y, M, W, D and only once.
		order := "ymwd"
		pos := strings.IndexByte(order, unit)
		if pos < 0 || strings.ContainsAny(seen, order[pos:]) {
			return Period{}, fmt.Errorf("%w: %q", errPeriod, orig)
		}
		seen += string(unit)
		switch unit {
		case 'y':
			p.Months += 12 * n
		case 'm':
			p.Months += n
		case 'w':
			p.Days += 7 * n
		case 'd':
			p.Days += n
		}
		rest = rest[i+1:]
	}
	if p.IsZero() {
		return Period{}, fmt.Errorf("%w: %q is zero", errPeriod, orig)
	}
	return p, nil
}

// IsZero reports whether the period is empty (no filter).
func (p Period) IsZero() bool { return p.Months == 0 && p.Days == 0 }

// ISO returns the canonical ISO 8601 form: whole years as PnY, else months.
func (p Period) ISO() string {
	if p.IsZero() {
		return "P0D"
	}
	var b strings.Builder
	b.WriteByte('P')
	if p.Months%12 == 0 && p.Months > 0 {
		fmt.Fprintf(&b, "%dY", p.Months/12)
	} else if p.Months > 0 {
		fmt.Fprintf(&b, "%dM", p.Months)
	}
	if p.Days > 0 {
		fmt.Fprintf(&b, "%dD", p.Days)
	}
	return b.String()
}

// String gives the period in words: "1 month", "3 months", "1 year",
// "18 months".
func (p Period) String() string {
	var parts []string
	switch {
	case p.Months > 0 && p.Months%12 == 0:
		parts = append(parts, plural(p.Months/12, "year"))
	case p.Months > 0:
		parts = append(parts, plural(p.Months, "month"))
	}
	if p.Days > 0 {
		parts = append(parts, plural(p.Days, "day"))
	}
	if len(parts) == 0 {
		return "no period"
	}
	return strings.Join(parts, " ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
