//go:build !linux

package extract

import (
	"os"
	"time"
)

func executable() (string, error) { return os.Executable() }

// setLimits sets no OS limits here: only Linux is a production target. The
// parent's deadline still kills a child that runs too long, and the soft
// memory limit set by ServeChild still makes its collector work harder.
func setLimits(int64, time.Duration) error { return nil }

func maxRSS(*os.ProcessState) int64 { return 0 }
