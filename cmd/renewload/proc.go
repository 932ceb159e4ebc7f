package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The figures of a running process come from /proc (Linux only).

// memory is what /proc/PID/status says of a process's resident memory,
// in bytes.
type memory struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: the most it was ever resident (the peak)
}

// readMemory reads /proc/PID/status (Linux only).
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads VmRSS and VmHWM from a /proc/PID/status document.
func parseStatus(r io.Reader) (memory, error) {
	var m memory
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch key {
		case "VmRSS":
			m.RSS = kilobytes(value)
		case "VmHWM":
			m.HWM = kilobytes(value)
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS in /proc status")
	}
	return m, nil
}

// kilobytes reads a value like "  12345 kB" (kB are KiB in /proc).
func kilobytes(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	return n * 1024
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// cpuTime is the CPU time, user and system, pid has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime (fields 14 and 15) from a /proc/PID/stat
// line. The command name, field 2, is in parentheses and may hold spaces.
func parseStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	fields := strings.Fields(line[i+1:]) // from field 3 on
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("unreadable /proc stat")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unreadable /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// selfCPU is the CPU time renewload itself (load, fakes) has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// phase is the wall time of a phase of the run and the CPU time the bot
// and renewload spent in it.
type phase struct {
	Wall, Bot, Self time.Duration
}

// stopwatch measures a phase.
type stopwatch struct {
	pid        int
	start      time.Time
	bot, self0 time.Duration
}

func startPhase(pid int) stopwatch {
	bot, _ := cpuTime(pid)
	return stopwatch{pid: pid, start: time.Now(), bot: bot, self0: selfCPU()}
}

func (w stopwatch) stop() phase {
	bot, _ := cpuTime(w.pid)
	return phase{Wall: time.Since(w.start), Bot: bot - w.bot, Self: selfCPU() - w.self0}
}

// sampler reads a process's memory at a fixed interval and keeps the
// largest figures, so the peak is known even if VmHWM is reset or missing.
type sampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	peak memory
}

func sampleMemory(pid int, every time.Duration) *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.take(pid)
			select {
			case <-s.done:
				s.take(pid)
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) take(pid int) {
	m, err := readMemory(pid)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.RSS = max(s.peak.RSS, m.RSS)
	s.peak.HWM = max(s.peak.HWM, m.HWM)
}

// stop takes a last sample and returns the peaks.
func (s *sampler) stop() memory {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
