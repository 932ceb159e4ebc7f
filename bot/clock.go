package bot

import "time"

// Clock is the time the bot's pacing and its sampled logs read and wait
// on. Tests inject one they step by hand, so what they check never
// depends on how fast the machine is.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
