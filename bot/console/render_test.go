package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.txt")

// users names the ids the bot/blocks goldens mention.
var users = map[string]string{"U0AAAAAAA01": "alice", "U0BBBBBBB02": "bob", "U0CCCCCCC03": "carol"}

// TestRenderBlocksGoldens renders every message bot/blocks keeps as a
// golden, so the console shows each state of a request readably.
func TestRenderBlocksGoldens(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("..", "blocks", "testdata", "*.golden.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no bot/blocks goldens found: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".golden.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var bs slack.Blocks
			if err := json.Unmarshal(raw, &bs); err != nil {
				t.Fatal(err)
			}
			text, elems := Render(bs.BlockSet, Options{Users: users})
			var b strings.Builder
			b.WriteString(text)
			if len(elems) > 0 {
				b.WriteString("\n-- clicks --\n")
				for _, e := range elems {
					fmt.Fprintf(&b, "[%d] %s %s=%s", e.N, e.Type, e.ActionID, e.Value)
					if e.Confirm != nil {
						fmt.Fprintf(&b, " confirm %q %q [%s|%s]", e.Confirm.Title, e.Confirm.Text, e.Confirm.Yes, e.Confirm.No)
					}
					b.WriteString("\n")
				}
			}
			for i, e := range elems {
				if e.N != i+1 {
					t.Errorf("element %d numbered %d", i+1, e.N)
				}
			}
			golden(t, name, b.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.txt")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !*update {
		// A message bot/blocks added since: it renders, which is what
		// this test can say without a golden. Not a failure, so adding a
		// message to bot/blocks needs no change here.
		t.Logf("no %s yet (run go test ./bot/console -update to add it):\n%s", path, got)
		return
	}
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/console -update)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs from %s (run go test ./bot/console -update and review the diff):\n%s", name, path, got)
	}
}

func TestMrkdwn(t *testing.T) {
	bold := func(s string) string { return "<b>" + s + "</b>" }
	for _, c := range []struct{ in, want string }{
		{"*Paid* 95.04 € by <@U0BBBBBBB02>.", "<b>Paid</b> 95.04 € by @bob."},
		{"<@U0ZZZZZZZ09> and <@U0ZZZZZZZ08|zed>", "@U0ZZZZZZZ09 and @zed"},
		{"expires <!date^1795770000^{date_short_pretty} at {time}|2026-11-27 09:00 UTC>", "expires 2026-11-27 09:00 UTC"},
		{"<!subteam^S0EEEEEEE05> or <!subteam^S01|@ops>", "@S0EEEEEEE05 or @ops"},
		{"<!channel> &amp; &lt;b&gt;", "@channel & <b>"},
		{"&lt;!channel&gt; stays text", "<!channel> stays text"},
		{"<https://ovh.com|OVHcloud> <https://x.example> <mailto:a@b.c>", "OVHcloud (https://ovh.com) https://x.example a@b.c"},
		{":white_check_mark: done at 12:30:45 :unknown_one:", "✅ done at 12:30:45 :unknown_one:"},
		{"2*3*4 and a * b * c", "2*3*4 and a * b * c"},
		{"*one* *two*\n*not\nbold*", "<b>one</b> <b>two</b>\n*not\nbold*"},
		{"<mailto:a*b*c@x.y>", "a*b*c@x.y"},
		{"&ast;*x*", "&ast;<b>x</b>"},
		{"&lt;b&gt;*b*&lt;/b&gt;", "<b><b>b</b></b>"},
		{"a\x1b[31mred\x07\r\nb\tc", "a\uFFFD[31mred\uFFFD\uFFFD\nb\tc"},
	} {
		if got := Mrkdwn(c.in, users, bold); got != c.want {
			t.Errorf("Mrkdwn(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Mrkdwn("*bold*", nil, nil); got != "bold" {
		t.Errorf("without bold: %q", got)
	}
}

func TestUserID(t *testing.T) {
	for name, want := range map[string]string{"alice": "U0ALICE01", "bob": "U0BOB0001", "Carol": "U0CAROL01", "alexandra": "U0ALEXANDRA1", "U0XYZ1234": "U0XYZ1234", "W0ABC12": "W0ABC12"} {
		if got, err := UserID(name); err != nil || got != want {
			t.Errorf("UserID(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, bad := range []string{"", "9lives", "bob smith", "<@U1>", strings.Repeat("a", 21)} {
		if id, err := UserID(bad); err == nil {
			t.Errorf("UserID(%q) = %q, want an error", bad, id)
		}
	}
}

// A printout shows buttons without numbers: nothing can be clicked there.
func TestRenderStatic(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "blocks", "testdata", "digest_reminders.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bs slack.Blocks
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Fatal(err)
	}
	text, _ := Render(bs.BlockSet, Options{Static: true})
	if !strings.Contains(text, "  [Renew…]   suspended-box") || strings.Contains(text, "[1]") {
		t.Errorf("static render:\n%s", text)
	}
}
