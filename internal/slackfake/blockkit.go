package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Block Kit's limits, as Slack's reference gives them
// (docs.slack.dev/reference/block-kit: blocks, block elements, composition
// objects, views). The fake checks them with its own code, not the bot's
// (bot/blocks.Validate), so a mistake in one is caught by the other.
const (
	maxMessageBlocks = 50
	maxModalBlocks   = 100
	// maxMessageText bounds the text of all a message's blocks together:
	// Slack refuses longer ones (msg_blocks_too_long) without documenting
	// the count for every block type; 12,000 is the documented total of a
	// markdown block, under the ~13,200 observed for section blocks.
	maxMessageText = 12000
)

// textLen counts a text the way the fake holds Slack to: in UTF-16 code
// units, so a character outside the Basic Multilingual Plane (most emoji)
// counts twice. Slack's reference gives its limits in "characters"
// without saying how it counts them; counting this way leaves a margin.
func textLen(s string) int { return len(utf16.Encode([]rune(s))) }

// blockChecker walks a blocks array and collects what Slack would refuse.
type blockChecker struct {
	modal  bool
	errs   []string
	total  int // text of every text object, for msg_blocks_too_long
	blocks map[string]bool
}

func (c *blockChecker) fail(ptr, format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// checkBlocks checks a message's (or a modal's) blocks: "" when Slack
// would take them, else its error code (invalid_blocks,
// msg_blocks_too_long) and what is wrong.
func checkBlocks(raw []byte, modal bool) (string, []string) {
	if len(raw) == 0 {
		return "", nil
	}
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "invalid_blocks_format", []string{err.Error()}
	}
	c := &blockChecker{modal: modal, blocks: map[string]bool{}}
	limit := maxMessageBlocks
	if modal {
		limit = maxModalBlocks
	}
	if len(blocks) > limit {
		c.fail("/blocks", "no more than %d items allowed", limit)
	}
	for i, b := range blocks {
		c.block(fmt.Sprintf("/blocks/%d", i), b)
	}
	if len(c.errs) > 0 {
		return "invalid_blocks", c.errs
	}
	if !modal && c.total > maxMessageText {
		return "msg_blocks_too_long", []string{fmt.Sprintf("%d characters of text, more than %d", c.total, maxMessageText)}
	}
	return "", nil
}

func (c *blockChecker) block(ptr string, b map[string]any) {
	if id, ok := b["block_id"]; ok {
		s, _ := id.(string)
		c.str(ptr+"/block_id", s, 1, 255)
		if c.blocks[s] {
			c.fail(ptr+"/block_id", "duplicate block_id %q", s)
		}
		c.blocks[s] = true
	}
	switch b["type"] {
	case "header":
		c.text(ptr+"/text", b["text"], 150, true, true)
	case "divider":
	case "section":
		_, hasText := b["text"]
		fields, hasFields := b["fields"].([]any)
		if !hasText && !hasFields {
			c.fail(ptr, "must provide text or fields")
		}
		if hasText {
			c.text(ptr+"/text", b["text"], 3000, false, true)
		}
		if hasFields {
			if len(fields) == 0 || len(fields) > 10 {
				c.fail(ptr+"/fields", "must have 1 to 10 items")
			}
			for i, f := range fields {
				c.text(fmt.Sprintf("%s/fields/%d", ptr, i), f, 2000, false, true)
			}
		}
		if a, ok := b["accessory"]; ok {
			c.element(ptr+"/accessory", a, map[string]bool{})
		}
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > 10 {
			c.fail(ptr+"/elements", "must have 1 to 10 items")
		}
		for i, e := range els {
			p := fmt.Sprintf("%s/elements/%d", ptr, i)
			if m, ok := e.(map[string]any); ok && m["type"] == "image" {
				c.image(p, m)
				continue
			}
			c.text(p, e, 3000, false, true)
		}
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > 25 {
			c.fail(ptr+"/elements", "must have 1 to 25 items")
		}
		ids := map[string]bool{}
		for i, e := range els {
			c.element(fmt.Sprintf("%s/elements/%d", ptr, i), e, ids)
		}
	case "input":
		if !c.modal {
			c.fail(ptr+"/type", "input blocks are for modals")
		}
		c.text(ptr+"/label", b["label"], 2000, true, true)
		if h, ok := b["hint"]; ok {
			c.text(ptr+"/hint", h, 2000, true, true)
		}
		c.element(ptr+"/element", b["element"], map[string]bool{})
	default:
		c.fail(ptr+"/type", "unsupported block type %v", b["type"])
	}
}

// element checks an interactive element; ids collects the action_ids of
// its block, which must be unique there.
func (c *blockChecker) element(ptr string, v any, ids map[string]bool) {
	e, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be an object")
		return
	}
	if id, ok := e["action_id"]; ok {
		s, _ := id.(string)
		c.str(ptr+"/action_id", s, 1, 255)
		if ids[s] {
			c.fail(ptr+"/action_id", "duplicate action_id %q in the block", s)
		}
		ids[s] = true
	}
	if cf, ok := e["confirm"]; ok {
		c.confirm(ptr+"/confirm", cf)
	}
	switch e["type"] {
	case "button":
		c.text(ptr+"/text", e["text"], 75, true, true)
		c.optStr(ptr+"/value", e, "value", 1, 2000)
		c.optStr(ptr+"/url", e, "url", 1, 3000)
		if st, ok := e["style"]; ok && st != "primary" && st != "danger" {
			c.fail(ptr+"/style", "must be primary or danger")
		}
	case "static_select":
		if p, ok := e["placeholder"]; ok {
			c.text(ptr+"/placeholder", p, 150, true, true)
		}
		opts, hasOpts := e["options"].([]any)
		groups, hasGroups := e["option_groups"].([]any)
		if hasOpts == hasGroups {
			c.fail(ptr, "must provide exactly one of options and option_groups")
		}
		if hasOpts {
			c.options(ptr+"/options", opts)
		}
		if hasGroups {
			if len(groups) == 0 || len(groups) > 100 {
				c.fail(ptr+"/option_groups", "must have 1 to 100 items")
			}
			for i, g := range groups {
				p := fmt.Sprintf("%s/option_groups/%d", ptr, i)
				gm, _ := g.(map[string]any)
				c.text(p+"/label", gm["label"], 75, true, true)
				os, _ := gm["options"].([]any)
				c.options(p+"/options", os)
			}
		}
	case "overflow":
		opts, _ := e["options"].([]any)
		if len(opts) < 2 || len(opts) > 5 {
			c.fail(ptr+"/options", "must have 2 to 5 items")
		}
		c.options(ptr+"/options", opts)
	case "plain_text_input":
		if p, ok := e["placeholder"]; ok {
			c.text(ptr+"/placeholder", p, 150, true, true)
		}
		if n, ok := e["max_length"].(float64); ok && (n < 1 || n > 3000) {
			c.fail(ptr+"/max_length", "must be 1 to 3000")
		}
	case "image":
		c.image(ptr, e)
	default:
		c.fail(ptr+"/type", "unsupported element type %v", e["type"])
	}
}

func (c *blockChecker) options(ptr string, opts []any) {
	if len(opts) == 0 || len(opts) > 100 {
		c.fail(ptr, "must have 1 to 100 items")
	}
	for i, o := range opts {
		p := fmt.Sprintf("%s/%d", ptr, i)
		om, ok := o.(map[string]any)
		if !ok {
			c.fail(p, "must be an object")
			continue
		}
		c.text(p+"/text", om["text"], 75, true, true)
		c.optStr(p+"/value", om, "value", 1, 150)
		if _, ok := om["value"]; !ok {
			c.fail(p+"/value", "is required")
		}
		if d, ok := om["description"]; ok {
			c.text(p+"/description", d, 75, true, true)
		}
	}
}

func (c *blockChecker) confirm(ptr string, v any) {
	cf, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be an object")
		return
	}
	c.text(ptr+"/title", cf["title"], 100, true, true)
	c.text(ptr+"/text", cf["text"], 300, false, true)
	c.text(ptr+"/confirm", cf["confirm"], 30, true, true)
	c.text(ptr+"/deny", cf["deny"], 30, true, true)
	if st, ok := cf["style"]; ok && st != "primary" && st != "danger" {
		c.fail(ptr+"/style", "must be primary or danger")
	}
}

func (c *blockChecker) image(ptr string, e map[string]any) {
	c.optStr(ptr+"/image_url", e, "image_url", 1, 3000)
	c.optStr(ptr+"/alt_text", e, "alt_text", 1, 2000)
}

// text checks a text object: plain_text or mrkdwn, 1 to max long;
// plainOnly refuses mrkdwn; emoji is for plain_text, verbatim for mrkdwn.
func (c *blockChecker) text(ptr string, v any, max int, plainOnly, required bool) {
	if v == nil {
		if required {
			c.fail(ptr, "is required")
		}
		return
	}
	t, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be a text object")
		return
	}
	switch t["type"] {
	case "plain_text":
		if _, ok := t["verbatim"]; ok {
			c.fail(ptr+"/verbatim", "is for mrkdwn")
		}
	case "mrkdwn":
		if plainOnly {
			c.fail(ptr+"/type", "must be plain_text")
		}
		if _, ok := t["emoji"]; ok {
			c.fail(ptr+"/emoji", "is for plain_text")
		}
	default:
		c.fail(ptr+"/type", "must be plain_text or mrkdwn")
	}
	s, _ := t["text"].(string)
	c.total += textLen(s)
	c.str(ptr+"/text", s, 1, max)
}

func (c *blockChecker) str(ptr, s string, min, max int) {
	switch n := textLen(s); {
	case n < min:
		c.fail(ptr, "must be at least %d characters", min)
	case n > max:
		c.fail(ptr, "must be less than %d characters", max+1)
	}
}

func (c *blockChecker) optStr(ptr string, m map[string]any, key string, min, max int) {
	v, ok := m[key]
	if !ok {
		return
	}
	s, isStr := v.(string)
	if !isStr {
		c.fail(ptr, "must be a string")
		return
	}
	c.str(ptr, s, min, max)
}

// checkView checks a modal for views.open: "" when Slack would take it,
// else invalid_arguments and what is wrong.
func checkView(raw []byte) (string, []string) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "invalid_arguments", []string{err.Error()}
	}
	c := &blockChecker{modal: true, blocks: map[string]bool{}}
	if v["type"] != "modal" {
		c.fail("/view/type", "must be modal")
	}
	c.text("/view/title", v["title"], 24, true, true)
	for _, k := range []string{"submit", "close"} {
		if t, ok := v[k]; ok {
			c.text("/view/"+k, t, 24, true, true)
		}
	}
	c.optStr("/view/private_metadata", v, "private_metadata", 0, 3000)
	c.optStr("/view/callback_id", v, "callback_id", 0, 255)
	if _, ok := v["submit"]; !ok {
		// Slack: submit is required when an input block is within the
		// blocks array.
		list, _ := v["blocks"].([]any)
		for i, b := range list {
			if m, _ := b.(map[string]any); m["type"] == "input" {
				c.fail(fmt.Sprintf("/view/blocks/%d", i), "an input block needs the view to have a submit button")
				break
			}
		}
	}
	blocks, _ := json.Marshal(v["blocks"])
	if code, errs := checkBlocks(blocks, true); code != "" {
		for _, e := range errs {
			c.errs = append(c.errs, strings.Replace(e, "[json-pointer:/blocks", "[json-pointer:/view/blocks", 1))
		}
	}
	if len(c.errs) > 0 {
		return "invalid_arguments", c.errs
	}
	return "", nil
}
