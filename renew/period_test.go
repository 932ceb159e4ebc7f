package renew

import (
	"testing"
)

func TestParsePeriod(t *testing.T) {
	ok := map[string]Period{
		"P1M": {Months: 1}, "P3M": {Months: 3}, "P1Y": {Months: 12}, "p2y": {Months: 24},
		"P1Y6M": {Months: 18}, "P30D": {Days: 30}, "P2W": {Days: 14},
		"1y": {Months: 12}, "3m": {Months: 3}, "12m": {Months: 12}, "6 months": {Months: 6},
		"1year": {Months: 12}, "2years": {Months: 24}, " 1Y ": {Months: 12},
	}
	for in, want := range ok {
		got, err := ParsePeriod(in)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT1H", "P1M1Y", "P1Y1Y", "0m", "P0Y", "y", "1", "1x", "P-1Y", "99999y", "1y2"} {
		if p, err := ParsePeriod(in); err == nil {
			t.Errorf("ParsePeriod(%q) = %v, want an error", in, p)
		}
	}
}

func TestPeriodWordsAndISO(t *testing.T) {
	for _, c := range []struct {
		p          Period
		words, iso string
	}{
		{Period{Months: 1}, "1 month", "P1M"},
		{Period{Months: 3}, "3 months", "P3M"},
		{Period{Months: 12}, "1 year", "P1Y"},
		{Period{Months: 24}, "2 years", "P2Y"},
		{Period{Months: 18}, "18 months", "P18M"},
		{Period{Days: 1}, "1 day", "P1D"},
	} {
		if got := c.p.String(); got != c.words {
			t.Errorf("%v.String() = %q, want %q", c.p, got, c.words)
		}
		if got := c.p.ISO(); got != c.iso {
			t.Errorf("%v.ISO() = %q, want %q", c.p, got, c.iso)
		}
		back, err := ParsePeriod(c.p.ISO())
		if err != nil || back != c.p {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v", c.p.ISO(), back, err, c.p)
		}
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"P1Y", "P3M", "1y", "3m", "P1Y6M", "P30D", "6 months", "PT1H", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		if p.IsZero() || p.Months < 0 || p.Days < 0 {
			t.Fatalf("ParsePeriod(%q) = %v: a parsed period is positive", s, p)
		}
		back, err := ParsePeriod(p.ISO())
		if err != nil || back != p {
			t.Fatalf("round trip of %q through %q gave %v, %v", s, p.ISO(), back, err)
		}
	})
}
