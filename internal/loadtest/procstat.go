package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. Reading it needs
// sysconf (cgo), but the kernel fixes it at 100 for user space on every architecture Go runs
// Linux on, so the constant is exact.
const clockTicks = 100

// ProcStats is a sum over processes at one moment.
type ProcStats struct {
	CPUTicks uint64 // user + system time since each process started, in clock ticks
	RSSBytes uint64 // resident memory
	// AnonBytes is the part of RSSBytes that no file backs: heaps, stacks, SQLite's page
	// caches; 0 where the kernel does not report it. Most of the rest is the executable's own
	// pages, which its size fixes, not the load: a Flowgate binary has about 200 MB of them
	// resident before main runs.
	AnonBytes uint64
}

// ReadProcStats reads and sums /proc/<pid>/stat and /proc/<pid>/status of pids.
func ReadProcStats(pids []int) (ProcStats, error) {
	var sum ProcStats
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return sum, fmt.Errorf("read CPU time of process %d: %w", pid, err)
		}
		ticks, err := parseStatTicks(stat)
		if err != nil {
			return sum, fmt.Errorf("process %d: %w", pid, err)
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return sum, fmt.Errorf("read memory of process %d: %w", pid, err)
		}
		rss, anon, err := memoryOf(status)
		if err != nil {
			return sum, fmt.Errorf("process %d: %w", pid, err)
		}
		sum.CPUTicks += ticks
		sum.RSSBytes += rss
		sum.AnonBytes += anon
	}
	return sum, nil
}

// parseStatTicks returns utime+stime (fields 14 and 15) of a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may itself hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStatTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat has no command name: %q", truncate(stat, 100))
	}
	fields := bytes.Fields(stat[i+1:]) // starts at field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("stat has %d fields after the command name, want more than %d", len(fields), stime)
	}
	u, err := strconv.ParseUint(string(fields[utime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat utime: %w", err)
	}
	s, err := strconv.ParseUint(string(fields[stime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat stime: %w", err)
	}
	return u + s, nil
}

// memoryOf reads resident memory, and the anonymous part of it, from /proc/<pid>/status.
// RssAnon came with Linux 4.5 and some sandboxes (gVisor) leave it out: without it the
// anonymous part is unknown (0), and RSS is still measured.
func memoryOf(status []byte) (rss, anon uint64, err error) {
	if rss, err = statusBytes(status, "VmRSS"); err != nil {
		return 0, 0, err
	}
	anon, _ = statusBytes(status, "RssAnon")
	return rss, anon, nil
}

// statusBytes returns a memory line of /proc/<pid>/status ("VmRSS", "RssAnon") in bytes.
func statusBytes(status []byte, field string) (uint64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(field+":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", field, bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return kb * 1024, nil
	}
	// Kernel threads and zombies have no memory lines; a server that exited shows up this way.
	return 0, fmt.Errorf("status has no %s line (has the process exited?)", field)
}
