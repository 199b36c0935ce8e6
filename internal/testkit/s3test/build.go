package s3test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/platform/filelock"
)

// Version is the pinned versitygw release; it builds with this repo's Go toolchain.
const Version = "v1.8.0"

const (
	gatewayPkg   = "github.com/versity/versitygw/cmd/versitygw"
	binaryEnv    = "FLOWGATE_VERSITYGW"
	buildTimeout = 15 * time.Minute // a cold module cache downloads a few hundred MB
)

var (
	binMu   sync.Mutex // serializes lookups within this process; the file lock covers others
	binPath string
)

// Binary returns the path of the versitygw binary, building it on first use. Concurrent test
// processes wait on a file lock instead of building twice.
func Binary() (string, error) {
	if p := os.Getenv(binaryEnv); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", binaryEnv, p, err)
		}
		return p, nil
	}
	binMu.Lock()
	defer binMu.Unlock()
	if binPath != "" {
		return binPath, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate user cache dir: %w", err)
	}
	dir := filepath.Join(cache, "flowgate-test-tools", "versitygw-"+Version)
	bin := filepath.Join(dir, "versitygw")
	if checkExecutable(bin) == nil {
		binPath = bin
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create tool cache dir: %w", err)
	}
	unlock, err := filelock.Lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("lock tool cache dir: %w", err)
	}
	defer unlock()
	// Another process may have finished the build while we waited for the lock.
	if checkExecutable(bin) != nil {
		if err := build(dir, bin); err != nil {
			return "", err
		}
	}
	binPath = bin
	return bin, nil
}

// build installs the gateway into a private temp dir and renames it into place, so a
// half-written binary is never visible under its final name.
func build(dir, bin string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			return fmt.Errorf("build versitygw: go tool not found: %w", err)
		}
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("build versitygw: %w", err)
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", gatewayPkg+"@"+Version)
	cmd.Dir = tmp // outside any module, so the repo's go.mod and GOFLAGS play no part
	cmd.Env = append(envWithout(os.Environ(), "GOFLAGS", "GOBIN", "GOWORK", "CGO_ENABLED", "GOTOOLCHAIN"),
		"GOFLAGS=", "GOBIN="+tmp, "GOWORK=off", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build versitygw %s (go install, %s): %w\n%s",
			Version, time.Since(start).Round(time.Second), err, tail(out, 4000))
	}
	if err := os.Rename(filepath.Join(tmp, "versitygw"), bin); err != nil {
		return fmt.Errorf("build versitygw: install binary: %w", err)
	}
	return nil
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// envWithout drops the named variables from env.
func envWithout(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
