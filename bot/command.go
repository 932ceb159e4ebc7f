package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/renewbot/renewbot/renew"
)

// Kind is what a /renew command asks for.
type Kind int

const (
	KindHelp    Kind = iota
	KindRenew        // /renew SERVICE [PERIOD]
	KindList         // /renew list [DAYS]
	KindStatus       // /renew status
	KindHistory      // /renew history [SERVICE]
)

// Command is a parsed /renew command.
type Command struct {
	Kind    Kind
	Service string       // KindRenew, KindHistory
	Period  renew.Period // KindRenew; zero for every period
	Days    int          // KindList
}

// maxCommand bounds what is parsed: Slack caps the text far below, and
// nothing longer is a service name.
const maxCommand = 1000

// errUsage is a command the parser cannot read; its message says why.
var errUsage = errors.New("usage")

// ParseCommand reads the text after /renew. Words are separated by
// spaces; a service name never contains one.
func ParseCommand(text string) (Command, error) {
	if len(text) > maxCommand || !utf8.ValidString(text) {
		return Command{}, fmt.Errorf("%w: that command is too long or not text", errUsage)
	}
	words := strings.Fields(text)
	if len(words) == 0 {
		return Command{Kind: KindHelp}, nil
	}
	switch strings.ToLower(words[0]) {
	case "help", "-h", "--help", "?":
		return Command{Kind: KindHelp}, nil
	case "list", "ls":
		c := Command{Kind: KindList, Days: 30}
		switch len(words) {
		case 1:
		case 2:
			d, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(words[1]), "d"))
			if err != nil || d < 0 || d > 3660 {
				return Command{}, fmt.Errorf("%w: `%s` is not a number of days (0 to 3660)", errUsage, words[1])
			}
			c.Days = d
		default:
			return Command{}, fmt.Errorf("%w: `/renew list` takes at most a number of days", errUsage)
		}
		return c, nil
	case "status":
		if len(words) > 1 {
			return Command{}, fmt.Errorf("%w: `/renew status` takes nothing after it", errUsage)
		}
		return Command{Kind: KindStatus}, nil
	case "history":
		switch len(words) {
		case 1:
			return Command{Kind: KindHistory}, nil
		case 2:
			return Command{Kind: KindHistory, Service: words[1]}, nil
		}
		return Command{}, fmt.Errorf("%w: `/renew history` takes at most one service", errUsage)
	}
	c := Command{Kind: KindRenew, Service: words[0]}
	switch len(words) {
	case 1:
	case 2:
		p, err := renew.ParsePeriod(words[1])
		if err != nil {
			return Command{}, fmt.Errorf("%w: `%s` is not a period; write it like `1y`, `3m` or `P1Y`", errUsage, words[1])
		}
		c.Period = p
	case 3:
		// "1 year", "3 months": a number and a unit typed apart.
		p, err := renew.ParsePeriod(words[1] + words[2])
		if err != nil {
			return Command{}, fmt.Errorf("%w: `%s %s` is not a period; write it like `1y`, `3m` or `P1Y`", errUsage, words[1], words[2])
		}
		c.Period = p
	default:
		return Command{}, fmt.Errorf("%w: a service name has no spaces; type `/renew SERVICE [PERIOD]`", errUsage)
	}
	return c, nil
}
