package renew

import "testing"

func TestParseUcents(t *testing.T) {
	ok := map[string]int64{
		"45.44": 4_544_000_000, "100": 10_000_000_000, "0.5": 50_000_000, "1.99": 199_000_000,
		"37.87": 3_787_000_000, "0.00000001": 1, "-2.5": -250_000_000, ".5": 50_000_000,
	}
	for in, want := range ok {
		if got, err := ParseUcents(in); err != nil || got != want {
			t.Errorf("ParseUcents(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1.2.3", "1e3", "0.000000001", "12345678901", "1,5", "."} {
		if got, err := ParseUcents(in); err == nil {
			t.Errorf("ParseUcents(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatUcents(t *testing.T) {
	for u, want := range map[int64]string{4_544_000_000: "45.44", 10_000_000_000: "100.00", 50_000_000: "0.50", 1: "0.00000001", -250_000_000: "-2.50"} {
		if got := FormatUcents(u); got != want {
			t.Errorf("FormatUcents(%d) = %q, want %q", u, got, want)
		}
	}
}

// 0.1 + 0.2 is the classic float trap: in micro-cents it is exact.
func TestAmountsCompareExactly(t *testing.T) {
	a, _ := ParseUcents("0.1")
	b, _ := ParseUcents("0.2")
	c, _ := ParseUcents("0.3")
	if a+b != c {
		t.Fatalf("0.1 + 0.2 = %d ucents, want %d", a+b, c)
	}
}
