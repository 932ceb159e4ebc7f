package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/renewbot/renewbot/bot/blocks"
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
	KindSpend        // /renew spend [YYYY-MM]
)

// Command is a parsed /renew command.
type Command struct {
	Kind Kind
	// Service is KindRenew's and KindHistory's SERVICE: the whole text
	// after the command word, as one name, or the quoted name. Period goes
	// with it: a quoted name may be followed by one.
	Service string
	Period  renew.Period
	// Or lists, for an unquoted SERVICE PERIOD of several words, the other
	// ways to read them, to try in order when no service is named Service:
	// the last word as a period ("web-front 1y"), then the last two ("web-front
	// 1 year"). A display name may have spaces; a period never does more
	// than once.
	Or []Reading
	// NotPeriod is the last word when it looks like a mistyped period
	// ("1x"), for the answer when no service has the name.
	NotPeriod string
	Days      int // KindList
	// Month is KindSpend's YYYY-MM, checked; "" for this month.
	Month string
}

// Reading is one way to read the words of /renew SERVICE [PERIOD].
type Reading struct {
	Service string
	Period  renew.Period
}

// Readings returns the ways to read a KindRenew command, in the order to
// try them: the whole text as a name first.
func (c Command) Readings() []Reading {
	return append([]Reading{{Service: c.Service, Period: c.Period}}, c.Or...)
}

// maxCommand bounds what is parsed, in characters (runes), the unit the
// refusal reports: Slack caps the text far below, and nothing longer is a
// service name.
const maxCommand = 1000

// errUsage is a command the parser cannot read.
var errUsage = errors.New("usage")

// usageError says, in one line, why a command cannot be read, and gives a
// hint: the usage of what was typed, or where to find it.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return "usage: " + e.msg }
func (e *usageError) Unwrap() error { return errUsage }

// Text is the answer to the person who typed the command: one line that
// says what is wrong, and one with the hint.
func (e *usageError) Text() string { return e.msg + "\n" + e.hint }

const (
	hintHelp    = "Type `/renew help` for the commands and examples."
	hintPeriod  = "Write a period like `1y`, `3m`, `1 year` or `P1Y`: `/renew \"example.com website\" 1y`."
	hintList    = "Usage: `/renew list [DAYS]`, like `/renew list 7`."
	hintStatus  = "Usage: `/renew status`."
	hintHistory = "Usage: `/renew history [SERVICE]`, like `/renew history web-front`."
	hintSpend   = "Usage: `/renew spend [YYYY-MM]`, like `/renew spend 2026-11`; without a month, this month."
	hintQuote   = "Put a name with spaces between quotes: `/renew \"example.com website\" 1y`."
)

func usage(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// code shows what someone typed in a code span, safely.
func code(s string) string {
	return "`" + blocks.Escape(strings.ReplaceAll(s, "`", "'")) + "`"
}

// ParseCommand reads the text after /renew. Words are separated by
// spaces. A service name may have spaces: between quotes ("example.com
// website" 1y), it is read as it is; without, the whole text is a name
// first, and a period at its end second (see Command.Or).
func ParseCommand(text string) (Command, error) {
	switch n := utf8.RuneCountInString(text); {
	case n > maxCommand:
		return Command{}, usage(hintHelp, "That command is too long: %d characters, at most %d.", n, maxCommand)
	case !utf8.ValidString(text):
		return Command{}, usage(hintHelp, "That command is not text: it holds bytes that are not UTF-8.")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Command{Kind: KindHelp}, nil
	}
	if quote(text) {
		c, err := quoted(text, usage(hintPeriod, "After a quoted name, only a period like `1y` may follow."))
		c.Kind = KindRenew
		return c, err
	}
	// Any space separates words: a tab, a newline, a no-break space.
	all := strings.Fields(text)
	first, words := all[0], all[1:]
	rest := strings.TrimSpace(text[len(first):])
	switch strings.ToLower(first) {
	case "help", "-h", "--help", "?":
		return Command{Kind: KindHelp}, nil
	case "list", "ls":
		c := Command{Kind: KindList, Days: 30}
		switch len(words) {
		case 0:
		case 1:
			d, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(words[0]), "d"))
			if err != nil || d < 0 || d > 3660 {
				return Command{}, usage(hintList, "%s is not a number of days from 0 to 3660.", code(words[0]))
			}
			c.Days = d
		default:
			return Command{}, usage(hintList, "`/renew list` takes one number of days at most.")
		}
		return c, nil
	case "status":
		if len(words) > 0 {
			return Command{}, usage(hintStatus, "`/renew status` takes nothing after it.")
		}
		return Command{Kind: KindStatus}, nil
	case "spend", "spent":
		switch len(words) {
		case 0:
			return Command{Kind: KindSpend}, nil
		case 1:
			if _, err := renew.ParseMonth(words[0], nil); err != nil {
				return Command{}, usage(hintSpend, "%s is not a month like `2026-11`.", code(words[0]))
			}
			return Command{Kind: KindSpend, Month: words[0]}, nil
		}
		return Command{}, usage(hintSpend, "`/renew spend` takes one month at most.")
	case "history":
		c := Command{Kind: KindHistory}
		switch {
		case len(words) == 0:
		case quote(rest):
			q, err := quoted(rest, usage(hintHistory, "`/renew history` takes one service, without a period."))
			if err != nil {
				return Command{}, err
			}
			if !q.Period.IsZero() {
				return Command{}, usage(hintHistory, "`/renew history` takes one service, without a period.")
			}
			c.Service = q.Service
		default:
			c.Service = strings.Join(words, " ")
		}
		return c, nil
	}
	return unquoted(all), nil
}

// unquoted reads SERVICE [PERIOD] without quotes: the whole text as a
// name, else with its last word or two as a period.
func unquoted(words []string) Command {
	c := Command{Kind: KindRenew, Service: strings.Join(words, " ")}
	n := len(words)
	if n >= 2 {
		last := words[n-1]
		if p, err := renew.ParsePeriod(last); err == nil {
			c.Or = append(c.Or, Reading{Service: strings.Join(words[:n-1], " "), Period: p})
		} else if periodish(last) {
			c.NotPeriod = last
		}
	}
	if n >= 3 {
		// "1 year", "3 months": a number and a unit typed apart.
		if p, err := renew.ParsePeriod(words[n-2] + words[n-1]); err == nil && digits(words[n-2]) && letters(words[n-1]) {
			c.Or = append(c.Or, Reading{Service: strings.Join(words[:n-2], " "), Period: p})
			c.NotPeriod = ""
		}
	}
	return c
}

// periodish reports whether a word looks like an attempt at a period: a
// number with something after it (1x, 2yrs…), or P and a digit.
func periodish(w string) bool {
	lw := strings.ToLower(w)
	if strings.HasPrefix(lw, "p") && len(lw) > 1 && lw[1] >= '0' && lw[1] <= '9' {
		return true
	}
	i := 0
	for i < len(lw) && lw[i] >= '0' && lw[i] <= '9' {
		i++
	}
	return i > 0 && i < len(lw)
}

func digits(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

func letters(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return w != ""
}

// Quotes: a name between quotes may have spaces. Typewriter and typographic
// quotes both work: phones and some keyboards turn one into the other.
const (
	doubleQuotes = "\"“”„«»"
	singleQuotes = "'‘’‚"
)

// quote reports whether s starts with a quote.
func quote(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.ContainsRune(doubleQuotes+singleQuotes, r)
}

// quoted reads "NAME" [PERIOD]: the name between the quotes s starts
// with, and an optional period after it. afterName is the error for
// anything else after the name.
func quoted(s string, afterName error) (Command, error) {
	open, size := utf8.DecodeRuneInString(s)
	family := doubleQuotes
	if strings.ContainsRune(singleQuotes, open) {
		family = singleQuotes
	}
	body := s[size:]
	end := strings.IndexFunc(body, func(r rune) bool { return strings.ContainsRune(family, r) })
	if end < 0 {
		return Command{}, usage(hintQuote, "The quote before %s is not closed.", code(clipWords(body, 40)))
	}
	_, closeSize := utf8.DecodeRuneInString(body[end:])
	name := strings.Join(strings.Fields(body[:end]), " ")
	if name == "" {
		return Command{}, usage(hintQuote, "There is no name between the quotes.")
	}
	c := Command{Service: name}
	after := strings.Fields(body[end+closeSize:])
	switch len(after) {
	case 0:
		return c, nil
	case 1, 2:
		p, err := renew.ParsePeriod(strings.Join(after, ""))
		if err != nil || len(after) == 2 && !(digits(after[0]) && letters(after[1])) {
			return Command{}, usage(hintPeriod, "%s is not a period.", code(strings.Join(after, " ")))
		}
		c.Period = p
		return c, nil
	}
	return Command{}, afterName
}

// clipWords shortens s for an error message, on a character boundary.
func clipWords(s string, max int) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s))
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// usageText is what a person reads for a command the parser refused: one
// line that says why, and a hint.
func usageText(err error) string {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.Text()
	}
	return "I can't read that command.\n" + hintHelp
}
