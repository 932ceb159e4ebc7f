package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

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
