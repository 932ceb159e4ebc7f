package ovhfake

import (
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Dates as OVHcloud writes them: RFC 3339 with a numeric offset.
const dateLayout = "2006-01-02T15:04:05-07:00"

func date(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(dateLayout)
	return &s
}

// price is OVHcloud's order.Price; an order's (me.order.Price) may also
// carry priceInUcents, absent, null or a number.
type price struct {
	Value         json.Number     `json:"value"`
	Text          string          `json:"text"`
	CurrencyCode  string          `json:"currencyCode"`
	PriceInUcents json.RawMessage `json:"priceInUcents,omitempty"`
}

func newPrice(ucents int64, currency string) price {
	var text string
	switch currency {
	case "EUR":
		text = fmt.Sprintf("%.2f €", float64(ucents)/1e8)
	case "USD":
		text = fmt.Sprintf("$%.2f", float64(ucents)/1e8)
	default:
		text = fmt.Sprintf("%.2f %s", float64(ucents)/1e8, currency)
	}
	return price{Value: json.Number(decimal(ucents)), Text: text, CurrencyCode: currency}
}

// price writes an amount as OVHcloud does. value is a double: unless
// ExactPrices is set, it is sometimes written a few ULPs off, as a double
// computed by OVHcloud reads (45.440000000000005 for 45.44). An order's
// price (order true) sometimes carries priceInUcents, sometimes null,
// sometimes nothing. The choices come from a seeded generator (SetSeed),
// so a run is repeatable.
func (s *Server) price(ucents int64, currency string, order bool) price {
	p := newPrice(ucents, currency)
	if s.ExactPrices {
		return p
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	if s.rng.IntN(3) == 0 {
		v := float64(ucents) / 1e8
		for range 1 + s.rng.IntN(3) {
			if s.rng.IntN(2) == 0 {
				v = math.Nextafter(v, math.Inf(1))
			} else {
				v = math.Nextafter(v, math.Inf(-1))
			}
		}
		p.Value = json.Number(strconv.FormatFloat(v, 'f', -1, 64))
	}
	if order {
		switch s.rng.IntN(3) {
		case 0:
			p.PriceInUcents = json.RawMessage(strconv.FormatInt(ucents, 10))
		case 1:
			p.PriceInUcents = json.RawMessage("null")
		}
	}
	return p
}

// SetSeed reseeds the generator that picks how prices are written.
func (s *Server) SetSeed(seed uint64) {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	s.rng = mrand.New(mrand.NewPCG(seed, seed))
}

// decimal writes micro-cents as a JSON number without a float: 3787000000
// -> 37.87, 1000000000 -> 10.
func decimal(u int64) string {
	neg := u < 0
	if neg {
		u = -u
	}
	s := strconv.FormatInt(u/1e8, 10)
	if f := strings.TrimRight(fmt.Sprintf("%08d", u%1e8), "0"); f != "" {
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}
