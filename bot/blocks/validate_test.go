package blocks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestValidateCatches(t *testing.T) {
	ok := slack.NewSectionBlock(mrkdwn("fine"), nil, nil)
	long := func(n int) string { return strings.Repeat("x", n) }
	btn := func(text, value string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(ActionChoose, value, plain(text))
	}
	opts := func(n int) []*slack.OptionBlockObject {
		var os []*slack.OptionBlockObject
		for i := range n {
			os = append(os, slack.NewOptionBlockObject(fmt.Sprint(i), plain("o"), nil))
		}
		return os
	}
	fields := func(n int) []*slack.TextBlockObject {
		var fs []*slack.TextBlockObject
		for range n {
			fs = append(fs, mrkdwn("f"))
		}
		return fs
	}
	many := make([]slack.Block, maxBlocks+1)
	for i := range many {
		many[i] = ok
	}
	for name, bs := range map[string][]slack.Block{
		"no blocks":        nil,
		"51 blocks":        many,
		"long header":      {slack.NewHeaderBlock(plain(long(151)))},
		"mrkdwn header":    {slack.NewHeaderBlock(mrkdwn("h"))},
		"long section":     {slack.NewSectionBlock(mrkdwn(long(3001)), nil, nil)},
		"empty section":    {slack.NewSectionBlock(nil, nil, nil)},
		"empty text":       {slack.NewSectionBlock(mrkdwn(""), nil, nil)},
		"11 fields":        {slack.NewSectionBlock(nil, fields(11), nil)},
		"long field":       {slack.NewSectionBlock(nil, []*slack.TextBlockObject{mrkdwn(long(2001))}, nil)},
		"long button":      {slack.NewActionBlock("", btn(long(76), "v"))},
		"long value":       {slack.NewActionBlock("", btn("b", long(2001)))},
		"long action id":   {slack.NewActionBlock("", slack.NewButtonBlockElement(long(256), "v", plain("b")))},
		"long accessory":   {slack.NewSectionBlock(mrkdwn("s"), nil, slack.NewAccessory(btn(long(76), "v")))},
		"same action ids":  {slack.NewActionBlock("", btn("a", "1"), btn("b", "2"))},
		"11 context items": {slack.NewContextBlock("", mrkdwn("1"), mrkdwn("2"), mrkdwn("3"), mrkdwn("4"), mrkdwn("5"), mrkdwn("6"), mrkdwn("7"), mrkdwn("8"), mrkdwn("9"), mrkdwn("10"), mrkdwn("11"))},
		"101 options":      {slack.NewActionBlock("", slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("p"), ActionChooseSelect, opts(101)...))},
		"101 grouped":      {slack.NewActionBlock("", slack.NewOptionsGroupSelectBlockElement(slack.OptTypeStatic, plain("p"), ActionChooseSelect, slack.NewOptionGroupBlockElement(plain("a"), opts(60)...), slack.NewOptionGroupBlockElement(plain("b"), opts(41)...)))},
		"long option text": {slack.NewActionBlock("", slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("p"), ActionChooseSelect, slack.NewOptionBlockObject("v", plain(long(76)), nil)))},
		"no options":       {slack.NewActionBlock("", slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("p"), ActionChooseSelect))},
		"long confirm":     {slack.NewActionBlock("", btn("b", "v").WithConfirm(slack.NewConfirmationBlockObject(plain("t"), mrkdwn("x"), plain(long(31)), plain("no"))))},
		"unchecked block":  {slack.NewImageBlock("https://example.com/a.png", "alt", "", nil)},
		"emoji on mrkdwn":  {slack.NewSectionBlock(&slack.TextBlockObject{Type: slack.MarkdownType, Text: "x", Emoji: new(true)}, nil, nil)},
	} {
		if err := Validate(bs); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	if err := Validate([]slack.Block{ok, slack.NewDividerBlock(), header("h")}); err != nil {
		t.Errorf("Validate refused valid blocks: %v", err)
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"ééééé", 4, "ééé…"},
	} {
		if got := clip(c.in, c.max); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
	// An entity is never cut in half.
	if got := esc("a&b", 4); got != "a…" {
		t.Errorf("esc = %q", got)
	}
	if got := esc("a&bc", 7); got != "a&amp;…" {
		t.Errorf("esc = %q", got)
	}
	if got := line("web\nfront\t<x>", 50); got != "web front &lt;x&gt;" {
		t.Errorf("line = %q", got)
	}
}

func TestMentions(t *testing.T) {
	for in, want := range map[string]string{
		"U0AAAAAAA01": "<@U0AAAAAAA01>",
		"W0AAAAAAA01": "<@W0AAAAAAA01>",
		"":            "someone",
		"U1> <!here":  "U1&gt; &lt;!here",
	} {
		if got := user(in); got != want {
			t.Errorf("user(%q) = %q, want %q", in, got, want)
		}
	}
	if got := approver("S0EEEEEEE05"); got != "<!subteam^S0EEEEEEE05>" {
		t.Errorf("approver = %q", got)
	}
}

func TestTogether(t *testing.T) {
	s := manyRequest(2).Options[1]
	if got := together(s, 100); got != "vps-1.example.net (VPS Value 1-2-40) + backup-01.example.net (Backup Storage)" {
		t.Errorf("together = %q", got)
	}
	if got := together(s, 60); got != "vps-1.example.net (VPS Value 1-2-40) + 1 more" {
		t.Errorf("together = %q", got)
	}
	s.Details = nil
	if got := together(s, 100); got != "service 1001 + service 5001" {
		t.Errorf("together without details = %q", got)
	}
}
