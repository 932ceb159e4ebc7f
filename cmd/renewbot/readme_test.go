package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The README's Slack setup names every channel the bot must be invited
// to: each variable of Config that names a channel.
func TestReadmeInvitesToEveryChannel(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "### 1. The Slack app")
	end := strings.Index(readme, "### 2. OVHcloud credentials")
	if start < 0 || end < start {
		t.Fatal("no Slack app section in the README")
	}
	setup := readme[start:end]
	if !strings.Contains(setup, "/invite @renewbot") {
		t.Error("the Slack setup does not say how to invite the bot")
	}
	var channels []string
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		if v := typ.Field(i).Tag.Get("envconfig"); strings.Contains(v, "CHANNEL") {
			channels = append(channels, v)
		}
	}
	if len(channels) < 3 {
		t.Fatalf("channel variables %v: the team's, the audit and the reminder channel at least", channels)
	}
	for _, v := range channels {
		if !strings.Contains(setup, "`"+v+"`") {
			t.Errorf("the README's Slack setup does not ask to invite the bot to %s", v)
		}
	}
}
