package bot

import (
	"sync"
	"sync/atomic"
)

// The redraw locks live only while a refresh holds or waits for one: a
// request that ends on another replica, a final redraw that was dropped
// or a request without a message leaves nothing behind, so the map stays
// as small as the refreshes under way.

// redraw serialises the updates of one request's message.
type redraw struct {
	mu sync.Mutex // held while an update is under way
	// waiting says a refresh waits for mu: it will read the state after
	// any change made until it takes mu.
	waiting atomic.Bool
	users   int // refreshes holding or waiting for it; under Bot.locksMu
}

// lockFor returns request id's redraw, counted as used until unlockFor.
func (b *Bot) lockFor(id string) *redraw {
	b.locksMu.Lock()
	defer b.locksMu.Unlock()
	if b.locks == nil {
		b.locks = map[string]*redraw{}
	}
	rd := b.locks[id]
	if rd == nil {
		rd = &redraw{}
		b.locks[id] = rd
	}
	rd.users++
	return rd
}

// unlockFor ends a use of lockFor; the last one forgets the redraw.
func (b *Bot) unlockFor(id string, rd *redraw) {
	b.locksMu.Lock()
	defer b.locksMu.Unlock()
	if rd.users--; rd.users == 0 {
		delete(b.locks, id)
	}
}

// redrawsHeld is how many requests have a redraw lock, for tests.
func (b *Bot) redrawsHeld() int {
	b.locksMu.Lock()
	defer b.locksMu.Unlock()
	return len(b.locks)
}
