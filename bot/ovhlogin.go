package bot

import (
	"errors"
	"fmt"

	"github.com/renewbot/renewbot/bot/blocks"
	"github.com/renewbot/renewbot/renew"
)

// OVHLoginText words a refusal of OVHcloud's login layer (the bot's
// credentials refused, or a call they are not allowed to make) for the
// person who acted and for `renewbot check`, or returns "" for any other
// error. It says what an admin must do: create new credentials, or grant
// the missing access rule or IAM action.
func OVHLoginText(err error) string {
	var api *renew.APIError
	if !errors.As(err, &api) {
		return ""
	}
	var msg string
	switch {
	case errors.Is(err, renew.ErrCredential):
		msg = "OVHcloud refused the bot's credentials: they are invalid, expired or revoked. Nothing was ordered or paid. " +
			"An admin must create new ones (README, \"OVHcloud credentials\") and restart the bot"
	case errors.Is(err, renew.ErrNotGranted):
		grant := "the access rule this call needs"
		if api.Grant != "" {
			grant = "`" + blocks.Escape(api.Grant) + "`"
		}
		msg = "OVHcloud refused this call: the bot's credentials are valid but not allowed to make it. Nothing was ordered or paid. " +
			"An admin must grant " + grant + " (README, \"OVHcloud credentials\")"
	default:
		return ""
	}
	detail := blocks.Escape(api.Message)
	if api.Code != "" {
		detail = api.Code + ": " + detail
	}
	msg += fmt.Sprintf(" (OVHcloud: %s", detail)
	if api.QueryID != "" {
		msg += fmt.Sprintf("; query id `%s`", blocks.Escape(api.QueryID))
	}
	return msg + ")."
}
