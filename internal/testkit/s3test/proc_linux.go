package s3test

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the gateway if the test binary dies without running
// its cleanups (e.g. a panic or timeout), so no stray servers pile up.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
