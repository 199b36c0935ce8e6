package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flowgateProcess is `flowgate start` running as its own process.
type flowgateProcess struct {
	cmd     *exec.Cmd
	api, ui string
	match   []string // submatches of the line that said the process was ready
	key     string   // the DefaultKey it printed, if it made one
	exited  chan error
	output  *lockedWriter
}

// buildFlowgate compiles the real binary, once for the whole package.
func buildFlowgate(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flowgate-bin-")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "flowgate")
		build := exec.Command("go", "build", "-o", binPath, "../cmd/flowgate")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("%w: %s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

var (
	binOnce         sync.Once
	binDir, binPath string
	binErr          error
)

var (
	keyLine = regexp.MustCompile(`API key DefaultKey \(shown once, keep it\): (\S+)`)
	apiLine = regexp.MustCompile(`Flowgate API: http://(?:\[::\]|[^:/]+):(\d+)/api/v1`)
	uiLine  = regexp.MustCompile(`Temporal Web UI: (http://\S+)`)
)

// startFlowgate runs `flowgate start` with only HOME set (plus free ports) and waits for it to
// print its addresses.
func startFlowgate(t *testing.T, bin, home string, env ...string) *flowgateProcess {
	t.Helper()
	env = append([]string{"HOME=" + home, "PORT=0", "FLOWGATE_TEMPORAL_PORT=0", "FLOWGATE_TEMPORAL_UI_PORT=0"}, env...)
	p := runFlowgate(t, bin, "start", env, apiLine)
	p.api = "http://127.0.0.1:" + p.match[1]
	return p
}

// runFlowgate runs `flowgate <command>` with env (and PATH) and waits until a line of its
// output matches ready; the lines before it are scanned for the Web UI address.
func runFlowgate(t *testing.T, bin, command string, env []string, ready *regexp.Regexp) *flowgateProcess {
	t.Helper()
	cmd := exec.Command(bin, command)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &flowgateProcess{cmd: cmd, exited: make(chan error, 1), output: &lockedWriter{}}
	cmd.Stderr = p.output
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(io.TeeReader(stdout, p.output))
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.exited <- cmd.Wait()
	}()
	timeout := time.After(90 * time.Second)
	for p.match == nil {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "flowgate %s exited before it was ready:\n%s", command, p.output.String())
			if m := uiLine.FindStringSubmatch(l); m != nil {
				p.ui = m[1]
			}
			if m := keyLine.FindStringSubmatch(l); m != nil {
				p.key = m[1]
			}
			p.match = ready.FindStringSubmatch(l)
		case <-timeout:
			t.Fatalf("flowgate %s did not start:\n%s", command, p.output.String())
		}
	}
	go func() {
		for range lines { // keep draining so the process never blocks on stdout
		}
	}()
	return p
}

// interrupt sends Ctrl-C and requires a clean exit within the shutdown deadline.
func (p *flowgateProcess) interrupt(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-p.exited:
		require.NoError(t, err, "flowgate must exit 0 on Ctrl-C:\n%s", p.output.String())
		p.exited <- err // for the cleanup
	case <-time.After(45 * time.Second):
		t.Fatalf("flowgate did not stop on Ctrl-C:\n%s", p.output.String())
	}
}

func TestFlowgateStartOnAFreshMachine(t *testing.T) {
	bin := buildFlowgate(t)
	home := t.TempDir()
	p := startFlowgate(t, bin, home)

	resp, err := http.Get(p.api + "/api/v1/ping")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "pong", string(body))

	require.NotEmpty(t, p.ui, "the Temporal Web UI address is printed")
	require.Eventually(t, func() bool {
		resp, err := http.Get(p.ui)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "the Web UI answers")

	for _, f := range []string{"database.sqlite", "temporal.db", "encryption.key"} {
		require.FileExists(t, filepath.Join(home, ".flowgate", f))
	}
	key, err := os.ReadFile(filepath.Join(home, ".flowgate", "encryption.key"))
	require.NoError(t, err)

	require.Len(t, p.key, 43, "the first start makes a DefaultKey and shows it once")
	h := &harness{t: t, base: p.api, key: p.key}
	status, _ := h.do("GET", "/api/v1/verify/apikey/"+p.key, nil)
	require.Equal(t, 200, status)
	flowID := h.createFlow("kept", `{"nodes":[],"edges":[]}`, nil)
	p.interrupt(t)

	// A restart reuses the data directory: same key, same flows, same Temporal state.
	p2 := startFlowgate(t, bin, home)
	require.Empty(t, p2.key, "the key is not shown again")
	h2 := &harness{t: t, base: p2.api, key: p.key}
	var got map[string]any
	h2.doJSON("GET", "/api/v1/chatflows/"+flowID, nil, 200, &got)
	require.Equal(t, "kept", got["name"])
	key2, err := os.ReadFile(filepath.Join(home, ".flowgate", "encryption.key"))
	require.NoError(t, err)
	require.Equal(t, key, key2)
	p2.interrupt(t)
	require.False(t, strings.Contains(p2.output.String(), "panic"), p2.output.String())
}

func TestFlowgateStartWithAnExistingTemporal(t *testing.T) {
	bin := buildFlowgate(t)
	home := t.TempDir()
	p := startFlowgate(t, bin, home, "TEMPORAL_ADDRESS="+temporalAddr, "TEMPORAL_NAMESPACE=default",
		"QUEUE_NAME=cmd-existing-temporal")
	require.Empty(t, p.ui, "no embedded server, so no Web UI of our own")
	require.NoFileExists(t, filepath.Join(home, ".flowgate", "temporal.db"))
	h := &harness{t: t, base: p.api}
	status, _ := h.do("GET", "/api/v1/ping", nil)
	require.Equal(t, 200, status)
	p.interrupt(t)
}

func TestQueueModeNeedsATemporalAddress(t *testing.T) {
	bin := buildFlowgate(t)
	cmd := exec.Command(bin, "start")
	cmd.Env = []string{"HOME=" + t.TempDir(), "MODE=queue", "PORT=0"}
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "MODE=queue needs TEMPORAL_ADDRESS")
}
