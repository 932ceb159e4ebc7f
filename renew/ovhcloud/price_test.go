package ovhcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/renewbot/renewbot/internal/ovhfake"
	"github.com/renewbot/renewbot/renew"
)

// decodePrice decodes an order.Price the way the adapter receives it.
func decodePrice(t *testing.T, raw string) price {
	t.Helper()
	var p price
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return p
}

// A whole number of cents, written as the nearest double or as a double a
// few ULPs away (45.440000000000005), in every form JSON allows, reads
// back as exactly that many cents.
func TestPriceDoublesReadAsCents(t *testing.T) {
	seed := uint64(20261126)
	rng := rand.New(rand.NewPCG(seed, seed))
	for range 20000 {
		cents := rng.Int64N(1_000_000_000) // up to 10 million euros
		v := float64(cents) / 100
		for range rng.IntN(4) {
			if rng.IntN(2) == 0 {
				v = math.Nextafter(v, math.Inf(1))
			} else {
				v = math.Nextafter(v, math.Inf(-1))
			}
		}
		for _, s := range []string{
			strconv.FormatFloat(v, 'f', -1, 64), // 45.440000000000005
			strconv.FormatFloat(v, 'g', 17, 64), // 45.440000000000005 or 4.5440000000000005e+01
			strconv.FormatFloat(v, 'e', -1, 64), // 4.5440000000000005e+01
			strconv.FormatFloat(v, 'E', 20, 64), // more digits than the double has
		} {
			p := decodePrice(t, fmt.Sprintf(`{"value": %s, "text": "x", "currencyCode": "EUR"}`, s))
			m, err := p.money("test")
			if err != nil || m.Ucents != cents*1_000_000 {
				t.Fatalf("seed %d: value %s = %d, %v; want %d cents (%d ucents)", seed, s, m.Ucents, err, cents, cents*1_000_000)
			}
		}
	}
}

// Any double reads as the double rounded half away from zero to the
// currency's smallest unit, computed exactly; never an error.
func TestPriceAnyDoubleRoundsExactly(t *testing.T) {
	seed := uint64(13)
	rng := rand.New(rand.NewPCG(seed, seed))
	for range 20000 {
		v := rng.Float64() * math.Pow(10, float64(rng.IntN(9))) // 0 to 10^8
		if rng.IntN(10) == 0 {
			v = -v // refunds and credits are negative
		}
		for _, cur := range []string{"EUR", "XOF", "TND"} {
			s := strconv.FormatFloat(v, 'g', -1, 64)
			p := decodePrice(t, fmt.Sprintf(`{"value": %s, "text": "x", "currencyCode": %q}`, s, cur))
			m, err := p.money("test")
			if err != nil {
				t.Fatalf("seed %d: %s %s: %v", seed, s, cur, err)
			}
			digits := minorUnits(cur)
			exact := new(big.Float).SetPrec(2000).SetFloat64(v)
			exact.Mul(exact, new(big.Float).SetFloat64(math.Pow(10, float64(digits))))
			half := new(big.Float).SetFloat64(0.5)
			if v < 0 {
				exact.Sub(exact, half)
			} else {
				exact.Add(exact, half)
			}
			units, _ := exact.Int(nil) // truncates toward zero
			want := units.Int64() * int64(math.Pow(10, float64(8-digits)))
			if m.Ucents != want {
				t.Fatalf("seed %d: %s %s = %d ucents, want %d", seed, s, cur, m.Ucents, want)
			}
		}
	}
}

// priceInUcents wins over the double when present; null falls back to it.
func TestPriceInUcentsPreferred(t *testing.T) {
	for raw, want := range map[string]int64{
		`{"value": 45.440000000000005, "text": "45.44 €", "currencyCode": "EUR", "priceInUcents": 4544000000}`: 4544000000,
		`{"value": 0.0049, "text": "0.00 €", "currencyCode": "EUR", "priceInUcents": 490000}`:                  490000,
		`{"value": 45.440000000000005, "text": "45.44 €", "currencyCode": "EUR", "priceInUcents": null}`:       4544000000,
		`{"value": 45.445, "text": "45.45 €", "currencyCode": "EUR"}`:                                          4545000000,
		`{"value": 1500, "text": "1500 XOF", "currencyCode": "XOF"}`:                                           150000000000,
	} {
		m, err := decodePrice(t, raw).money("test")
		if err != nil || m.Ucents != want {
			t.Errorf("%s = %d, %v; want %d", raw, m.Ucents, err, want)
		}
	}
	for _, raw := range []string{
		`{"value": 1e300, "currencyCode": "EUR"}`,
		`{"value": 1, "currencyCode": "EUR", "priceInUcents": 1.5}`,
	} {
		if _, err := decodePrice(t, raw).money("test"); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

// Orders whose prices the fake writes as doubles a few ULPs off, with or
// without priceInUcents, are read with the exact amounts the fake holds:
// never "created but cannot be read".
func TestOrdersWithDoublePricesAreRead(t *testing.T) {
	e := setup(t)
	e.fake.SetSeed(42)
	ctx := context.Background()
	for _, months := range []int{1, 3, 6, 12, 1, 3, 6, 12, 1, 3, 6, 12, 1, 3, 6, 12} {
		o, err := e.c.CreateOrder(ctx, ovhfake.WebFrontID, renew.OrderInput{Period: renew.Period{Months: months}, Services: []int64{ovhfake.WebFrontID}})
		if err != nil {
			t.Fatalf("P%dM: %v", months, err)
		}
		held, _ := e.fake.Order(o.ID)
		if o.PriceWithoutTax.Ucents != held.PriceWithoutTax || o.Tax.Ucents != held.Tax || o.PriceWithTax.Ucents != held.PriceWithTax {
			t.Fatalf("order %d read as %d + %d = %d, the fake holds %d + %d = %d", o.ID,
				o.PriceWithoutTax.Ucents, o.Tax.Ucents, o.PriceWithTax.Ucents, held.PriceWithoutTax, held.Tax, held.PriceWithTax)
		}
	}
}
