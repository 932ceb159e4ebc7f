package console

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mrkdwn renders Slack's mrkdwn as terminal text: mentions read @name
// (users names them, and channels: #name), dates their fallback, links "text (url)", *bold*
// goes through bold (nil drops the asterisks), the known :emoji: become
// characters, and &lt; &gt; &amp; read < > &.
func Mrkdwn(s string, users map[string]string, bold func(string) string) string {
	if bold == nil {
		bold = func(s string) string { return s }
	}
	s = clean(s)
	// Order matters: <…> are markup only before entities are decoded, and
	// a decoded "*" or "<" must not become markup.
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteString(escapeMarkup(special(s[i+1:i+j], users)))
		s = s[i+j+1:]
	}
	return unescape(emoji(emphasis(b.String(), bold)))
}

// markupGuard stands in for '*' inside mentions and links while emphasis
// is parsed: "<mailto:a*b*c>" is a link, not bold.
const markupGuard = '\uE000'

func escapeMarkup(s string) string { return strings.ReplaceAll(s, "*", string(markupGuard)) }

// special renders what Slack writes between < and >.
func special(s string, users map[string]string) string {
	body, label, hasLabel := strings.Cut(s, "|")
	switch {
	case strings.HasPrefix(body, "@"):
		if name, ok := users[body[1:]]; ok {
			return "@" + name
		}
		if hasLabel && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		return body
	case strings.HasPrefix(body, "#"):
		if name, ok := users[body[1:]]; ok { // the console's own channel
			return "#" + name
		}
		if hasLabel && label != "" {
			return "#" + label
		}
		return body
	case strings.HasPrefix(body, "!subteam^"):
		if hasLabel && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		return "@" + strings.TrimPrefix(body, "!subteam^")
	case strings.HasPrefix(body, "!date^"):
		return label // Slack shows the fallback when it cannot format
	case body == "!here" || body == "!channel" || body == "!everyone":
		return "@" + body[1:]
	case strings.HasPrefix(body, "!"):
		if hasLabel {
			return label
		}
		return body[1:]
	}
	if hasLabel && label != "" && label != body {
		return label + " (" + body + ")"
	}
	return strings.TrimPrefix(body, "mailto:")
}

// emphasis renders *bold* the way Slack reads it: the asterisks hug the
// text and stand at word boundaries, on one line.
func emphasis(s string, bold func(string) string) string {
	if !strings.Contains(s, "*") {
		return strings.ReplaceAll(s, string(markupGuard), "*")
	}
	var b strings.Builder
	for {
		i := openBold(s)
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := closeBold(s, i+1)
		if j < 0 {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(bold(s[i+1 : j]))
		s = s[j+1:]
	}
	return strings.ReplaceAll(b.String(), string(markupGuard), "*")
}

// openBold finds an opening '*': at the start or after a non-word
// character, and followed by a non-space.
func openBold(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '*' {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+1:])
		if (i == 0 || !word(before)) && i+1 < len(s) && !unicode.IsSpace(after) && after != '*' {
			return i
		}
	}
	return -1
}

// closeBold finds the '*' that closes one opened before from: on the same
// line, after a non-space, and followed by a non-word character.
func closeBold(s string, from int) int {
	for j := from; j < len(s); j++ {
		switch s[j] {
		case '\n':
			return -1
		case '*':
			before, _ := utf8.DecodeLastRuneInString(s[:j])
			after, _ := utf8.DecodeRuneInString(s[j+1:])
			if j > from && !unicode.IsSpace(before) && (j+1 == len(s) || !word(after)) {
				return j
			}
		}
	}
	return -1
}

func word(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// clean replaces control characters but newlines and tabs: text from
// OVHcloud or from a person must not drive the terminal (escape
// sequences, carriage returns that overwrite a line).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// unescape decodes the three entities Slack asks senders to escape.
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entities.Replace(s)
}

var entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// emojis are the shortcodes renewbot's messages use, and a few common
// ones; any other shortcode shows as typed.
var emojis = map[string]string{
	"construction":            "🚧",
	"test_tube":               "🧪",
	"hourglass_flowing_sand":  "⏳",
	"hourglass":               "⌛",
	"raised_hand":             "✋",
	"white_check_mark":        "✅",
	"heavy_check_mark":        "✔️",
	"x":                       "❌",
	"no_entry_sign":           "🚫",
	"no_entry":                "⛔",
	"warning":                 "⚠️",
	"grey_question":           "❔",
	"question":                "❓",
	"information_source":      "ℹ️",
	"calendar":                "📆",
	"date":                    "📅",
	"bell":                    "🔔",
	"moneybag":                "💰",
	"memo":                    "📝",
	"speech_balloon":          "💬",
	"credit_card":             "💳",
	"rotating_light":          "🚨",
	"arrows_counterclockwise": "🔄",
	"repeat":                  "🔁",
	"wave":                    "👋",
	"tada":                    "🎉",
	"lock":                    "🔒",
	"red_circle":              "🔴",
	"large_orange_circle":     "🟠",
	"large_yellow_circle":     "🟡",
	"large_green_circle":      "🟢",
	"white_circle":            "⚪",
}

// emoji replaces the known :shortcodes: of s.
func emoji(s string) string {
	if strings.Count(s, ":") < 2 {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], ':')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if e, ok := emojis[name]; ok {
			b.WriteString(s[:i] + e)
			s = s[i+j+2:]
			continue
		}
		// Not a known shortcode: keep the first colon, and let the second
		// start the next candidate ("12:30:45", "note: :x:").
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}
