package loadtest

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// shProcess runs a shell script as if it were flowgate.
func shProcess(t *testing.T, script string, timeout time.Duration) (*Process, error) {
	t.Helper()
	return StartProcess(context.Background(), ProcessSpec{
		Name: "fake", Bin: "/bin/sh", Args: []string{"-c", script}, Ready: apiLine,
		ReadyTimeout: timeout, LogPath: filepath.Join(t.TempDir(), "fake.log"),
	})
}

func TestStartProcessWaitsForTheReadyLineAndStopsOnSIGTERM(t *testing.T) {
	p, err := shProcess(t, `echo '{"level":"INFO","msg":"starting"}'
echo 'API key DefaultKey (shown once, keep it): key-123'
echo 'Flowgate API: http://[::]:4321/api/v1'
echo after ready
exec sleep 600`, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"Flowgate API: http://[::]:4321/api/v1", "4321"}, p.Match)
	require.Equal(t, "key-123", p.Key)
	require.Positive(t, p.PID())

	start := time.Now()
	require.NoError(t, p.Stop(30*time.Second), "SIGTERM ends it: no kill needed")
	require.Less(t, time.Since(start), 20*time.Second)
	require.Contains(t, p.Tail(2), "Flowgate API")
}

func TestStartProcessReportsAnEarlyExitWithItsLog(t *testing.T) {
	_, err := shProcess(t, `echo 'flowgate: open database: no such host' >&2; exit 1`, time.Minute)
	require.ErrorContains(t, err, "exited before it was ready")
	require.ErrorContains(t, err, "no such host")
}

func TestStartProcessGivesUpAfterItsTimeout(t *testing.T) {
	_, err := shProcess(t, `echo still starting; exec sleep 600`, 200*time.Millisecond)
	require.ErrorContains(t, err, "no ready line within 200ms")
	require.ErrorContains(t, err, "still starting")
}

func TestProcessStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	p, err := StartProcess(context.Background(), ProcessSpec{
		Name: "stubborn", Bin: "/bin/sh", Args: []string{"-c", `trap '' TERM; echo ready; while :; do :; done`},
		Ready: regexp.MustCompile(`^ready$`), LogPath: filepath.Join(t.TempDir(), "stubborn.log"),
	})
	require.NoError(t, err)
	require.ErrorContains(t, p.Stop(100*time.Millisecond), "was killed")
}
