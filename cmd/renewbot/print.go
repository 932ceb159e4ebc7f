package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/renewbot/renewbot/bot"
	"github.com/renewbot/renewbot/bot/console"
)

// printer is a bot.Poster that prints what the bot would post as terminal
// text, the way the console shows it, with nothing to click: for
// `remind --dry-run`. Updates and ephemeral answers are left out.
type printer struct {
	mu  sync.Mutex
	out io.Writer
}

var _ bot.Poster = (*printer)(nil)

func (p *printer) Post(_ context.Context, channel string, m bot.Message) (string, error) {
	text := console.Mrkdwn(m.Text, nil, nil) + "\n"
	if len(m.Blocks) > 0 {
		text, _ = console.Render(m.Blocks, console.Options{Static: true})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintf(p.out, "%s\n", strings.TrimRight(text, "\n"))
	return "", err
}

func (p *printer) Update(context.Context, string, string, bot.Message) error { return nil }
func (p *printer) Ephemeral(context.Context, bot.Target, bot.Message) error  { return nil }
