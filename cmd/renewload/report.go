package main

import (
	"fmt"
	"strings"
	"time"
)

// The targets of the load benchmark (issue 5).
const (
	targetAckP99  = 100 * time.Millisecond
	targetAckMax  = 3 * time.Second
	targetPeakRSS = 100_000_000 // bytes
	targetIdleRSS = 30_000_000  // bytes
)

// Report is a run's figures and the setting they were measured in.
type Report struct {
	Options  options
	CPUs     int
	Result   *Result
	IdleRSS  int64 // after start and -settle; 0 when unknown
	PeakRSS  int64 // VmHWM at the end of the load
	AfterRSS int64 // once every command was answered
}

// row is one line of the report; ok is nil when there is no target.
type row struct {
	measure, value, target string
	ok                     *bool
}

func met(ok bool) *bool { return &ok }

func (r *Report) rows() []row {
	rows := tallyRows("commands", "message", r.Result.Commands)
	if c := r.Result.Clicks; c != nil {
		rows = append(rows, tallyRows("clicks", "order", *c)...)
	}
	return append(rows,
		phaseRow("CPU time while the commands are acked", r.Result.Acking),
		phaseRow("CPU time of the whole run", r.Result.Run),
		row{measure: "OVHcloud calls", value: fmt.Sprintf("%d (%.1f per command)", r.Result.OVHCalls, float64(r.Result.OVHCalls)/float64(r.Options.n))},
		memoryRow("idle RSS", r.IdleRSS, targetIdleRSS),
		memoryRow("peak RSS (VmHWM)", r.PeakRSS, targetPeakRSS),
		memoryRow("RSS after the run", r.AfterRSS, 0),
	)
}

// tallyRows reports on the commands or the clicks; answer names what a
// successful one leads to: the posted message, or the order shown in it.
func tallyRows(what, answer string, t Tally) []row {
	accepted := ""
	if what == "commands" {
		accepted = fmt.Sprintf(" (%d accepted, %d busy)", t.Acked-t.Busy, t.Busy)
	}
	return []row{
		{what + " acked", fmt.Sprintf("%d of %d%s, %d failed", t.Acked, t.Sent, accepted, t.Failed), "none failed", met(t.Failed == 0)},
		{what + ": ack latency p50 / p99 / max", durations(t.Ack),
			"p99 < 100 ms, max < 3 s",
			met(t.Ack.P99 < targetAckP99 && t.Ack.Max < targetAckMax)},
		{what + ": acks per second", fmt.Sprintf("%.0f", t.AckRate), "", nil},
		{what + ": answers", fmt.Sprintf("%d %ss, %d busy, %d errors, %d unanswered", t.Posted, answer, t.Busy, t.Ephemeral, t.Unanswered),
			"none unanswered", met(t.Unanswered == 0)},
		{what + ": time to the " + answer + " p50 / p99 / max", durations(t.E2E), "", nil},
		{what + ": " + answer + "s per second", fmt.Sprintf("%.1f", t.PostRate), "", nil},
	}
}

func phaseRow(measure string, p phase) row {
	return row{measure: measure, value: fmt.Sprintf("bot %s, renewload %s, in %s", ms(p.Bot), ms(p.Self), ms(p.Wall))}
}

func memoryRow(measure string, bytes, target int64) row {
	r := row{measure: measure, value: megabytes(bytes)}
	if target > 0 {
		r.target = "< " + megabytes(target)
		if bytes > 0 {
			r.ok = met(bytes < target)
		}
	}
	return r
}

// Missed lists the targets the run missed.
func (r *Report) Missed() []string {
	var out []string
	for _, row := range r.rows() {
		if row.ok != nil && !*row.ok {
			out = append(out, fmt.Sprintf("%s: %s (target %s)", row.measure, row.value, row.target))
		}
	}
	return out
}

// Markdown is the report: a heading, the bot's settings, the table and the
// most frequent errors.
func (r *Report) Markdown() string {
	o := r.Options
	var b strings.Builder
	fmt.Fprintf(&b, "## renewload: %d × `/renew %s`, %d at once, OVHcloud answering in %s\n\n", o.n, o.service, o.c, o.latency)
	fmt.Fprintf(&b, "Bot: RENEWBOT_WORKERS=%s, RENEWBOT_QUEUE=%s%s; %d CPUs shared by renewload, the fakes and the bot.\n\n",
		setting(o.workers, 0), setting(o.queue, -1), extraEnv(o.env), r.CPUs)
	b.WriteString("| measure | value | target | met |\n| --- | --- | --- | --- |\n")
	for _, row := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", row.measure, row.value, row.target, verdict(row.ok))
	}
	errs := r.Result.Commands.Errors
	if c := r.Result.Clicks; c != nil {
		errs = append(errs, c.Errors...)
	}
	if len(errs) > 0 {
		b.WriteString("\nMost frequent errors:\n\n")
		for _, e := range errs {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}
	return b.String()
}

func setting(v, unset int) string {
	if v == unset {
		return "default"
	}
	return fmt.Sprint(v)
}

func extraEnv(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return ", " + strings.Join(env, ", ")
}

func verdict(ok *bool) string {
	switch {
	case ok == nil:
		return ""
	case *ok:
		return "yes"
	}
	return "**NO**"
}

func durations(s summary) string {
	if s.N == 0 {
		return "n/a"
	}
	return ms(s.P50) + " / " + ms(s.P99) + " / " + ms(s.Max)
}

// ms writes a duration in milliseconds below 1 s, in seconds above.
func ms(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func megabytes(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}
