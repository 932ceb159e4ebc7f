package bot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/renewbot/renewbot/renew"
)

var (
	oneYear    = renew.Period{Months: 12}
	threeMonth = renew.Period{Months: 3}
)

func TestParseCommand(t *testing.T) {
	for in, want := range map[string]Command{
		"":                      {Kind: KindHelp},
		"  help ":               {Kind: KindHelp},
		"web-front":             {Kind: KindRenew, Service: "web-front"},
		"web-front 1y":          {Kind: KindRenew, Service: "web-front 1y", Or: []Reading{{"web-front", oneYear}}},
		"vps-1.example.net P3M": {Kind: KindRenew, Service: "vps-1.example.net P3M", Or: []Reading{{"vps-1.example.net", threeMonth}}},
		"12345 1 year":          {Kind: KindRenew, Service: "12345 1 year", Or: []Reading{{"12345", oneYear}}},
		"web-front\t1y\n":       {Kind: KindRenew, Service: "web-front 1y", Or: []Reading{{"web-front", oneYear}}},
		// A display name with spaces: the whole text first.
		"example.com website":    {Kind: KindRenew, Service: "example.com website"},
		"example.com website 1y": {Kind: KindRenew, Service: "example.com website 1y", Or: []Reading{{"example.com website", oneYear}}},
		"backup 2 3m":            {Kind: KindRenew, Service: "backup 2 3m", Or: []Reading{{"backup 2", threeMonth}}},
		"web-front 1x":           {Kind: KindRenew, Service: "web-front 1x", NotPeriod: "1x"},
		// Quoted: the name as it is, then a period; keywords lose their
		// meaning.
		`"example.com website"`:          {Kind: KindRenew, Service: "example.com website"},
		`"example.com  website" 1y`:      {Kind: KindRenew, Service: "example.com website", Period: oneYear},
		`'example.com website' 1 year`:   {Kind: KindRenew, Service: "example.com website", Period: oneYear},
		"“example.com website” P1Y":      {Kind: KindRenew, Service: "example.com website", Period: oneYear},
		`"list"`:                         {Kind: KindRenew, Service: "list"},
		"list":                           {Kind: KindList, Days: 30},
		"list 7":                         {Kind: KindList, Days: 7},
		"LIST 90d":                       {Kind: KindList, Days: 90},
		"status":                         {Kind: KindStatus},
		"history":                        {Kind: KindHistory},
		"history example.com":            {Kind: KindHistory, Service: "example.com"},
		"history example.com website":    {Kind: KindHistory, Service: "example.com website"},
		`history "example.com  website"`: {Kind: KindHistory, Service: "example.com website"},
	} {
		got, err := ParseCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

// A command that cannot be read gets one line that says why, and a hint.
func TestParseCommandRefusesWithAReason(t *testing.T) {
	for in, says := range map[string]string{
		"list soon":               "`soon` is not a number of days from 0 to 3660.\nUsage: `/renew list [DAYS]`, like `/renew list 7`.",
		"list 7 8":                "`/renew list` takes one number of days at most.\nUsage: `/renew list [DAYS]`",
		"status now":              "`/renew status` takes nothing after it.\nUsage: `/renew status`.",
		`history "a b" 1y`:        "`/renew history` takes one service, without a period.\nUsage: `/renew history [SERVICE]`",
		strings.Repeat("a", 2000): "That command is too long: 2000 characters, at most 1000.\nType `/renew help`",
		strings.Repeat("é", 1001): "That command is too long: 1001 characters, at most 1000.\nType `/renew help`",
		"web-front \xff":          "not text",
		`"example.com website 1y`: "The quote before `example.com website 1y` is not closed.\nPut a name with spaces between quotes",
		`"" 1y`:                   "There is no name between the quotes.",
		`"example.com" 1x`:        "`1x` is not a period.\nWrite a period like `1y`",
		`"example.com" in a year`: "After a quoted name, only a period like `1y` may follow.",
		`"<!channel>" 1x <b>`:     "`1x &lt;b&gt;` is not a period.",
		`"a" <!here>`:             "`&lt;!here&gt;` is not a period.",
	} {
		_, err := ParseCommand(in)
		text := usageText(err)
		if !errors.Is(err, errUsage) || !strings.Contains(text, says) || strings.Count(text, "\n") != 1 {
			t.Errorf("ParseCommand(%q) = %v, reads %q; want a usage error saying %q, in one line and a hint", in, err, text, says)
		}
	}
}

// The limit counts characters, as the refusal says: 600 accented letters
// (1,200 bytes) are a name, not a command too long.
func TestParseCommandCountsCharacters(t *testing.T) {
	name := strings.Repeat("é", 600)
	if c, err := ParseCommand(name); err != nil || c.Kind != KindRenew || c.Service != name {
		t.Errorf("ParseCommand(600 × é) = %+v, %v; want the renewal of that name", c.Kind, usageText(err))
	}
	if _, err := ParseCommand(strings.Repeat("a", 1000)); err != nil {
		t.Errorf("ParseCommand(1000 characters) refused: %s", usageText(err))
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "web-front", "web-front 1y", "list 30", "status", "history x", "a b c d", "x P1Y6M",
		`"a b" 1y`, `'a b`, "“a b” 1 year", `history "a b"`, "a 1 year"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCommand(s)
		if err != nil {
			if !errors.Is(err, errUsage) || strings.Count(usageText(err), "\n") != 1 {
				t.Fatalf("ParseCommand(%q): error %q is not a usage error of one line and a hint", s, usageText(err))
			}
			return
		}
		name := func(n string) bool {
			return n != "" && utf8.ValidString(n) && n == strings.Join(strings.Fields(n), " ")
		}
		switch c.Kind {
		case KindRenew:
			rs := c.Readings()
			for i, r := range rs {
				if !name(r.Service) {
					t.Fatalf("ParseCommand(%q): reading %d has service %q", s, i, r.Service)
				}
				if i > 0 && (r.Period.IsZero() || len(r.Service) >= len(rs[i-1].Service)) {
					t.Fatalf("ParseCommand(%q): reading %d %+v does not split a period off a shorter name", s, i, r)
				}
			}
		case KindHistory:
			if c.Service != "" && !name(c.Service) {
				t.Fatalf("ParseCommand(%q) gave history of %q", s, c.Service)
			}
		case KindList:
			if c.Days < 0 || c.Days > 3660 {
				t.Fatalf("ParseCommand(%q) gave %d days", s, c.Days)
			}
		}
	})
}
