package bot

import (
	"errors"
	"strings"
	"testing"

	"github.com/renewbot/renewbot/renew"
)

func TestParseCommand(t *testing.T) {
	for in, want := range map[string]Command{
		"":                      {Kind: KindHelp},
		"  help ":               {Kind: KindHelp},
		"web-front":             {Kind: KindRenew, Service: "web-front"},
		"web-front 1y":          {Kind: KindRenew, Service: "web-front", Period: renew.Period{Months: 12}},
		"vps-1.example.net P3M": {Kind: KindRenew, Service: "vps-1.example.net", Period: renew.Period{Months: 3}},
		"12345 1 year":          {Kind: KindRenew, Service: "12345", Period: renew.Period{Months: 12}},
		"list":                  {Kind: KindList, Days: 30},
		"list 7":                {Kind: KindList, Days: 7},
		"LIST 90d":              {Kind: KindList, Days: 90},
		"status":                {Kind: KindStatus},
		"history":               {Kind: KindHistory},
		"history example.com":   {Kind: KindHistory, Service: "example.com"},
	} {
		got, err := ParseCommand(in)
		if err != nil || got != want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestParseCommandRefusesWithAReason(t *testing.T) {
	for in, says := range map[string]string{
		"web-front 1x":            "not a period",
		"web-front in one year":   "no spaces",
		"list soon":               "not a number of days",
		"list 7 8":                "at most",
		"status now":              "nothing after",
		"history a b":             "at most one service",
		strings.Repeat("a", 2000): "too long",
		"web-front \xff":          "not text",
	} {
		_, err := ParseCommand(in)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseCommand(%q) = %v; want a usage error saying %q", in, err, says)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "web-front", "web-front 1y", "list 30", "status", "history x", "a b c d", "x P1Y6M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCommand(s)
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("ParseCommand(%q): error %v is not a usage error", s, err)
			}
			return
		}
		if c.Kind == KindRenew && (c.Service == "" || strings.ContainsAny(c.Service, " \t\n")) {
			t.Fatalf("ParseCommand(%q) gave service %q", s, c.Service)
		}
		if c.Kind == KindList && (c.Days < 0 || c.Days > 3660) {
			t.Fatalf("ParseCommand(%q) gave %d days", s, c.Days)
		}
	})
}
