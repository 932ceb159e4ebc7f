package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// floodRow is one flood of one run: the bot and the floor.
type floodRow struct {
	run        int
	kind       floodKind
	bot, floor side
}

func (r floodRow) ratio() float64 {
	if r.floor.acks.P99 <= 0 {
		return 0
	}
	return float64(r.bot.acks.P99) / float64(r.floor.acks.P99)
}

// missed lists the targets the row misses.
func (r floodRow) missed() []string {
	var out []string
	if r.bot.failed > 0 || r.floor.failed > 0 {
		out = append(out, fmt.Sprintf("%d failed acks (floor %d)", r.bot.failed, r.floor.failed))
	}
	if r.ratio() > targetFloodRatio {
		out = append(out, fmt.Sprintf("ack p99 %.1f× the floor's (target ≤ %.0f×)", r.ratio(), targetFloodRatio))
	}
	if r.bot.peakRSS > targetFloodPeakRSS {
		out = append(out, fmt.Sprintf("peak RSS %s (target ≤ %s)", mebibytes(r.bot.peakRSS), mebibytes(targetFloodPeakRSS)))
	}
	if r.bot.idleRSS > targetFloodIdleRSS {
		out = append(out, fmt.Sprintf("idle RSS %s (target ≤ %s)", mebibytes(r.bot.idleRSS), mebibytes(targetFloodIdleRSS)))
	}
	return out
}

// floodReport is the report of renewload flood.
type floodReport struct {
	o    floodOptions
	cpus int
	rows []floodRow
}

// Missed lists every target missed, by run and flood.
func (r floodReport) Missed() []string {
	var out []string
	for _, row := range r.rows {
		for _, m := range row.missed() {
			out = append(out, fmt.Sprintf("run %d, %s: %s", row.run, row.kind.name, m))
		}
	}
	return out
}

// Markdown is the report: the targets table, then what renewbot did.
func (r floodReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## renewload flood: %d requests per flood, %d at once\n\n", r.o.n, r.o.c)
	fmt.Fprintf(&b, "renewbot on its sandbox OVHcloud account, a stub Slack answering ok at once, the defaults%s; "+
		"the floor: slack-go's signature check, the form parsed, an empty 200. Each flood on fresh servers, "+
		"the floor first in odd runs, renewbot first in even ones; %d CPUs shared by renewload, the stub and the server.\n\n", extraEnv(r.o.env), r.cpus)
	b.WriteString("| run | flood | renewbot ack p50 / p99 / max | floor ack p50 / p99 / max | p99 ratio (≤ 2) | renewbot idle RSS (≤ 20 MiB) | renewbot peak RSS (≤ 48 MiB) | floor peak RSS | met |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, row := range r.rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %.1f× | %s | %s | %s | %s |\n", row.run, row.kind.title,
			durations(row.bot.acks), durations(row.floor.acks), row.ratio(),
			mebibytes(row.bot.idleRSS), mebibytes(row.bot.peakRSS), mebibytes(row.floor.peakRSS), verdict(met(len(row.missed()) == 0)))
	}
	b.WriteString("\n| run | flood | renewbot acks/s | floor acks/s | CPU per request: renewbot / floor | failed (floor) | busy: in the ack / renewbot_busy_total | answers \"busy\" to response_url | goroutines (most seen) | RSS after | log lines | Slack calls |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, row := range r.rows {
		fmt.Fprintf(&b, "| %d | %s | %.0f | %.0f | %s / %s | %d (%d) | %d / %s | %d | %s | %s | %d | %s |\n", row.run, row.kind.title,
			ackRate(row.bot), ackRate(row.floor), perRequest(row.bot), perRequest(row.floor), row.bot.failed, row.floor.failed, row.bot.busyAcks, unknown(row.bot.busy),
			row.bot.slack.busy, unknown(int64(row.bot.goroutines)), mebibytes(row.bot.afterRSS), row.bot.logLines, calls(row.bot.slack.calls))
	}
	var errs []string
	for _, row := range r.rows {
		for _, e := range append(row.bot.errors, row.floor.errors...) {
			errs = append(errs, fmt.Sprintf("run %d, %s: %s", row.run, row.kind.name, e))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nErrors:\n\n")
		for _, e := range errs {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}
	return b.String()
}

func ackRate(s side) float64 {
	if s.wall <= 0 {
		return 0
	}
	return float64(s.acks.N) / s.wall.Seconds()
}

// perRequest is the server's CPU time (user and system, from /proc, in
// 10 ms ticks) during the flood per request sent; the bot's includes the
// work it did meanwhile.
func perRequest(s side) string {
	if s.cpu <= 0 || s.acks.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f µs", float64(s.cpu.Microseconds())/float64(s.acks.N+s.failed))
}

func unknown(v int64) string {
	if v <= 0 && v != 0 {
		return "n/a"
	}
	return strconv.FormatInt(v, 10)
}

func calls(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func mebibytes(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
