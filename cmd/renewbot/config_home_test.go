package main

import (
	"os"
	"testing"
)

// RENEWBOT_REMINDER_AT without a zone is in RENEWBOT_TIMEZONE; with one,
// in its own.
func TestReminderAtInTheTimezone(t *testing.T) {
	t.Setenv("RENEWBOT_TIMEZONE", "Europe/Paris")
	for at, want := range map[string]string{"": "09:00 Europe/Paris", "07:30": "07:30 Europe/Paris", "09:00 UTC": "09:00 UTC", "08:00 Asia/Tokyo": "08:00 Asia/Tokyo"} {
		t.Setenv("RENEWBOT_REMINDER_AT", at)
		if at == "" {
			os.Unsetenv("RENEWBOT_REMINDER_AT") // the default
		}
		c, err := loadEnv()
		if err != nil {
			t.Fatal(err)
		}
		if got := c.reminderAt().String(); got != want {
			t.Errorf("RENEWBOT_REMINDER_AT=%q: %s, want %s", at, got, want)
		}
	}
}
