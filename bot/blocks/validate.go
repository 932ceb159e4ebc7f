package blocks

import (
	"errors"
	"fmt"

	"github.com/slack-go/slack"
)

// Block Kit's limits that Validate checks (docs.slack.dev/reference/block-kit).
const (
	maxHeaderText    = 150
	maxSectionText   = 3000
	maxFields        = 10
	maxFieldText     = 2000
	maxContextItems  = 10
	maxActionItems   = 25
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxActionID      = 255
	maxBlockID       = 255
	maxURL           = 3000
	maxPlaceholder   = 150
	maxOptionValue   = 150
	maxOptionGroups  = 100
	maxConfirmTitle  = 100
	maxConfirmText   = 300
	maxConfirmButton = 30
)

// Validate checks blocks against the Block Kit limits Slack enforces, so a
// message that would be refused (invalid_blocks) is caught by a test, not
// by a user. It knows the block and element types this package renders
// (header, section, context, actions, divider; buttons and static selects)
// and refuses the others rather than pass them unchecked.
func Validate(blocks []slack.Block) error { return validate(blocks, maxBlocks) }

// validate is Validate for a surface that holds up to limit blocks.
func validate(blocks []slack.Block, limit int) error {
	if len(blocks) == 0 {
		return errors.New("no blocks")
	}
	if len(blocks) > limit {
		return fmt.Errorf("%d blocks, more than %d", len(blocks), limit)
	}
	var errs []error
	for i, b := range blocks {
		if err := validateBlock(b); err != nil {
			errs = append(errs, fmt.Errorf("block %d (%s): %w", i, b.BlockType(), err))
		}
	}
	return errors.Join(errs...)
}

func validateBlock(b slack.Block) error {
	if err := maxLen("block_id", b.ID(), maxBlockID); err != nil {
		return err
	}
	switch b := b.(type) {
	case *slack.HeaderBlock:
		return text("text", b.Text, maxHeaderText, true)
	case *slack.SectionBlock:
		if b.Text == nil && len(b.Fields) == 0 {
			return errors.New("a section needs a text or fields")
		}
		if b.Text != nil {
			if err := text("text", b.Text, maxSectionText, false); err != nil {
				return err
			}
		}
		if len(b.Fields) > maxFields {
			return fmt.Errorf("%d fields, more than %d", len(b.Fields), maxFields)
		}
		for i, f := range b.Fields {
			if err := text(fmt.Sprintf("field %d", i), f, maxFieldText, false); err != nil {
				return err
			}
		}
		if b.Accessory != nil {
			return accessory(b.Accessory)
		}
		return nil
	case *slack.ContextBlock:
		els := b.ContextElements.Elements
		if len(els) == 0 || len(els) > maxContextItems {
			return fmt.Errorf("%d context elements, want 1 to %d", len(els), maxContextItems)
		}
		for i, e := range els {
			t, ok := e.(*slack.TextBlockObject)
			if !ok {
				return fmt.Errorf("context element %d: cannot check %T", i, e)
			}
			if err := text(fmt.Sprintf("context element %d", i), t, maxSectionText, false); err != nil {
				return err
			}
		}
		return nil
	case *slack.ActionBlock:
		if b.Elements == nil || len(b.Elements.ElementSet) == 0 || len(b.Elements.ElementSet) > maxActionItems {
			return fmt.Errorf("actions need 1 to %d elements", maxActionItems)
		}
		ids := map[string]bool{}
		for i, e := range b.Elements.ElementSet {
			id, err := element(e)
			if err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			// Slack wants action ids unique within a block.
			if id != "" && ids[id] {
				return fmt.Errorf("element %d: action_id %q twice in one block", i, id)
			}
			ids[id] = true
		}
		return nil
	case *slack.DividerBlock:
		return nil
	}
	return fmt.Errorf("cannot check %T", b)
}

func accessory(a *slack.Accessory) error {
	switch {
	case a.ButtonElement != nil:
		return button(a.ButtonElement)
	case a.SelectElement != nil:
		return selectMenu(a.SelectElement)
	}
	return errors.New("cannot check this accessory")
}

func element(e slack.BlockElement) (actionID string, err error) {
	switch e := e.(type) {
	case *slack.ButtonBlockElement:
		return e.ActionID, button(e)
	case *slack.SelectBlockElement:
		return e.ActionID, selectMenu(e)
	}
	return "", fmt.Errorf("cannot check %T", e)
}

func button(b *slack.ButtonBlockElement) error {
	if err := text("button text", b.Text, maxButtonText, true); err != nil {
		return err
	}
	if err := maxLen("action_id", b.ActionID, maxActionID); err != nil {
		return err
	}
	if err := maxLen("value", b.Value, maxButtonValue); err != nil {
		return err
	}
	if err := maxLen("url", b.URL, maxURL); err != nil {
		return err
	}
	if b.Style != slack.StyleDefault && b.Style != slack.StylePrimary && b.Style != slack.StyleDanger {
		return fmt.Errorf("style %q", b.Style)
	}
	if b.Confirm != nil {
		return confirm(b.Confirm)
	}
	return nil
}

func confirm(c *slack.ConfirmationBlockObject) error {
	if err := text("confirm title", c.Title, maxConfirmTitle, true); err != nil {
		return err
	}
	if err := text("confirm text", c.Text, maxConfirmText, false); err != nil {
		return err
	}
	if err := text("confirm button", c.Confirm, maxConfirmButton, true); err != nil {
		return err
	}
	if c.Deny != nil {
		return text("deny button", c.Deny, maxConfirmButton, true)
	}
	return nil
}

func selectMenu(s *slack.SelectBlockElement) error {
	if s.Type != slack.OptTypeStatic {
		return fmt.Errorf("cannot check a %q select", s.Type)
	}
	if err := maxLen("action_id", s.ActionID, maxActionID); err != nil {
		return err
	}
	if s.Placeholder != nil {
		if err := text("placeholder", s.Placeholder, maxPlaceholder, true); err != nil {
			return err
		}
	}
	if (len(s.Options) == 0) == (len(s.OptionGroups) == 0) {
		return errors.New("a static select needs options or option groups, not both")
	}
	if len(s.OptionGroups) > maxOptionGroups {
		return fmt.Errorf("%d option groups, more than %d", len(s.OptionGroups), maxOptionGroups)
	}
	all := s.Options
	for i, g := range s.OptionGroups {
		if err := text(fmt.Sprintf("option group %d label", i), g.Label, maxOptionText, true); err != nil {
			return err
		}
		if len(g.Options) == 0 {
			return fmt.Errorf("option group %d is empty", i)
		}
		all = append(all[:len(all):len(all)], g.Options...)
	}
	// Slack caps a select at 100 options; counting the groups' options
	// together stays safe whichever way it counts them.
	if len(all) > maxOptions {
		return fmt.Errorf("%d options, more than %d", len(all), maxOptions)
	}
	seen := map[string]bool{}
	for i, o := range all {
		if err := text(fmt.Sprintf("option %d", i), o.Text, maxOptionText, true); err != nil {
			return err
		}
		if o.Description != nil {
			if err := text(fmt.Sprintf("option %d description", i), o.Description, maxOptionText, true); err != nil {
				return err
			}
		}
		if o.Value == "" || runes(o.Value) > maxOptionValue {
			return fmt.Errorf("option %d: value of %d characters, want 1 to %d", i, runes(o.Value), maxOptionValue)
		}
		if seen[o.Value] {
			return fmt.Errorf("option %d: value %q twice", i, o.Value)
		}
		seen[o.Value] = true
	}
	return nil
}

// text checks a text object: present, of a known type, not empty, within
// max characters, plain_text where Slack wants it.
func text(what string, t *slack.TextBlockObject, max int, plainOnly bool) error {
	if t == nil {
		return fmt.Errorf("%s: missing", what)
	}
	switch t.Type {
	case slack.PlainTextType:
	case slack.MarkdownType:
		if plainOnly {
			return fmt.Errorf("%s: must be plain_text", what)
		}
		if t.Emoji != nil {
			return fmt.Errorf("%s: emoji is for plain_text only", what)
		}
	default:
		return fmt.Errorf("%s: text type %q", what, t.Type)
	}
	if t.Text == "" {
		return fmt.Errorf("%s: empty", what)
	}
	return maxLen(what, t.Text, max)
}

func maxLen(what, s string, max int) error {
	if n := runes(s); n > max {
		return fmt.Errorf("%s: %d characters, more than %d", what, n, max)
	}
	return nil
}
