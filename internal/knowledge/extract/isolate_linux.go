package extract

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"syscall"
	"time"
)

// executable is the image this process runs. /proc/self/exe stays that image
// even when the file on disk was replaced by an upgrade, so parent and child
// always speak the same protocol.
func executable() (string, error) { return "/proc/self/exe", nil }

// setLimits caps the calling process: its address space at what it maps now
// plus memory, its CPU time at timeout plus a second. The parent's deadline
// normally comes first; the CPU limit is there should the parent be gone.
// Address space rather than resident memory is what the kernel can cap per
// process; it over-counts a little, which only makes the bound stricter.
func setLimits(memory int64, timeout time.Duration) error {
	mapped, err := vmSize()
	if err != nil {
		return err
	}
	as := mapped + uint64(memory)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: as, Max: as}); err != nil {
		return fmt.Errorf("RLIMIT_AS: %w", err)
	}
	cpu := uint64(math.Ceil(timeout.Seconds())) + 1
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: cpu, Max: cpu}); err != nil {
		return fmt.Errorf("RLIMIT_CPU: %w", err)
	}
	return nil
}

// vmSize is the address space this process maps, from /proc/self/status.
func vmSize() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := bytes.CutPrefix(s.Bytes(), []byte("VmSize:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmSize %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmSize in /proc/self/status")
}

// maxRSS is a finished child's peak resident memory in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // Linux reports kilobytes
	}
	return 0
}
