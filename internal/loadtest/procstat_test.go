package loadtest

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStatCountsFieldsFromTheLastParenthesis(t *testing.T) {
	// A command name with spaces and a parenthesis, as a process may set it.
	stat := []byte("4242 (flow gate) x) S 1 4242 4242 0 -1 4194560 1 2 3 4 700 55 0 0 20 0 12 0 100 0 0\n")
	ticks, err := parseStatTicks(stat)
	require.NoError(t, err)
	require.Equal(t, uint64(755), ticks)

	_, err = parseStatTicks([]byte("4242 (short) S 1"))
	require.Error(t, err)
}

func TestStatusBytesReadsTheNamedLine(t *testing.T) {
	status := []byte("Name:\tflowgate\nVmPeak:\t 999 kB\nVmRSS:\t   2048 kB\nRssAnon:\t  512 kB\nThreads:\t12\n")
	rss, err := statusBytes(status, "VmRSS")
	require.NoError(t, err)
	require.Equal(t, uint64(2048*1024), rss)
	anon, err := statusBytes(status, "RssAnon")
	require.NoError(t, err)
	require.Equal(t, uint64(512*1024), anon)

	_, err = statusBytes([]byte("Name:\tkthreadd\n"), "VmRSS")
	require.ErrorContains(t, err, "no VmRSS")
	_, err = statusBytes([]byte("VmRSS:\t12 MB\n"), "VmRSS")
	require.ErrorContains(t, err, "unexpected VmRSS line")
}

// Memory is RSS and its anonymous part; a kernel without RssAnon still gives RSS, with the
// anonymous part unknown (0).
func TestMemoryOfToleratesAMissingRssAnon(t *testing.T) {
	rss, anon, err := memoryOf([]byte("Name:\tflowgate\nVmRSS:\t   2048 kB\nRssAnon:\t  512 kB\n"))
	require.NoError(t, err)
	require.Equal(t, []uint64{2048 * 1024, 512 * 1024}, []uint64{rss, anon})

	rss, anon, err = memoryOf([]byte("Name:\tflowgate\nVmRSS:\t   2048 kB\n"))
	require.NoError(t, err)
	require.Equal(t, []uint64{2048 * 1024, 0}, []uint64{rss, anon})

	_, _, err = memoryOf([]byte("Name:\tkthreadd\n"))
	require.ErrorContains(t, err, "no VmRSS")
}

func TestSamplerMeasuresThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	pid := os.Getpid()
	s := startSampler([]int{pid, pid}, time.Millisecond, time.Now())
	// Burn CPU until the kernel has charged this process at least two more ticks, so the
	// figure cannot be zero (bounded, in case /proc stops moving).
	before, err := ReadProcStats([]int{pid})
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		now, err := ReadProcStats([]int{pid})
		require.NoError(t, err)
		if now.CPUTicks >= before.CPUTicks+2 {
			break
		}
	}
	r := s.finish()
	require.Empty(t, r.Error)
	require.Equal(t, []int{pid, pid}, r.PIDs)
	require.Greater(t, r.RSSEndMB, 1.0, "summed over both entries")
	require.Greater(t, r.AnonEndMB, 0.0)
	require.Less(t, r.AnonEndMB, r.RSSEndMB, "a Go binary's own pages are resident and file-backed")
	require.GreaterOrEqual(t, r.RSSPeakMB, r.RSSEndMB)
	require.GreaterOrEqual(t, r.Samples, 2)
	require.Greater(t, r.CPUPercent, 0.0)
	require.GreaterOrEqual(t, r.CPUSeconds, 2.0/clockTicks, "the two ticks burnt above")
}

func TestSamplerReportsAVanishedProcess(t *testing.T) {
	r := startSampler([]int{1 << 30}, time.Hour, time.Now()).finish()
	require.Contains(t, r.Error, "process")
}
