package ovhcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/renewbot/renewbot/renew"
)

// price is OVHcloud's order.Price: value is a JSON double (the schema's
// type), so it may read 45.440000000000005 for 45.44 €. Order prices may
// also carry priceInUcents (me.order.Price), an exact integer, possibly
// null; strategies carry theirs beside the price.
type price struct {
	Value         json.Number  `json:"value"`
	Text          string       `json:"text"`
	CurrencyCode  string       `json:"currencyCode"`
	PriceInUcents *json.Number `json:"priceInUcents"`
}

// money reads a price exactly: priceInUcents when OVHcloud gives it, else
// the double rounded to the currency's smallest unit (the cent), which is
// what an order amount is. It never goes through a float64.
func (p price) money(what string) (renew.Money, error) {
	m := renew.Money{Currency: p.CurrencyCode, Text: p.Text}
	if p.PriceInUcents != nil {
		u, err := strconv.ParseInt(p.PriceInUcents.String(), 10, 64)
		if err != nil {
			return renew.Money{}, fmt.Errorf("ovhcloud: %s: priceInUcents %q: %w", what, p.PriceInUcents.String(), err)
		}
		m.Ucents = u
		return m, nil
	}
	u, err := roundUcents(p.Value.String(), p.CurrencyCode)
	if err != nil {
		return renew.Money{}, fmt.Errorf("ovhcloud: %s: %w", what, err)
	}
	m.Ucents = u
	return m, nil
}

// minorUnits is how many decimals a currency's smallest unit has (ISO
// 4217), for the currencies of OVHcloud's order.CurrencyCodeEnum: 2 but
// for XOF (0), TND (3) and loyalty points (0).
func minorUnits(currency string) int {
	switch strings.TrimSpace(currency) {
	case "XOF", "points":
		return 0
	case "TND":
		return 3
	}
	return 2
}

var errPrice = errors.New("not a price")

// roundUcents reads a JSON number (any form JSON allows: 45.44,
// 45.440000000000005, 4.544e1) exactly and rounds it, half away from zero,
// to the currency's smallest unit, in micro-cents.
func roundUcents(value, currency string) (int64, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(value))
	if !ok || value == "" {
		return 0, fmt.Errorf("%w: value %q", errPrice, value)
	}
	digits := minorUnits(currency)
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	r.Mul(r, new(big.Rat).SetInt(unit))
	// Round half away from zero: truncate |r| + 1/2.
	neg := r.Sign() < 0
	r.Abs(r)
	r.Add(r, big.NewRat(1, 2))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	// Micro-cents per smallest unit: 10^8 / 10^digits.
	n.Mul(n, new(big.Int).Quo(big.NewInt(renew.UcentsPerUnit), unit))
	if !n.IsInt64() {
		return 0, fmt.Errorf("%w: value %q is out of range", errPrice, value)
	}
	u := n.Int64()
	if neg {
		u = -u
	}
	return u, nil
}
