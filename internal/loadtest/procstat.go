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
		rss, err := parseVmRSS(status)
		if err != nil {
			return sum, fmt.Errorf("process %d: %w", pid, err)
		}
		sum.CPUTicks += ticks
		sum.RSSBytes += rss
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

// parseVmRSS returns the VmRSS line of /proc/<pid>/status in bytes.
func parseVmRSS(status []byte) (uint64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	// Kernel threads and zombies have no VmRSS; a server that exited shows up this way.
	return 0, fmt.Errorf("status has no VmRSS line (has the process exited?)")
}
