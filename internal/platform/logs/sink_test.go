package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func flush(t *testing.T, s *Sink) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Flush(ctx)
}

func closeSink(t *testing.T, s *Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Close(ctx))
}

func localFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := listSegments(dir)
	require.NoError(t, err)
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

func TestRotateByTimeAndShip(t *testing.T) {
	clock, up, out, dir := newClock(), newUploader(), &syncBuffer{}, t.TempDir()
	log, sink, err := New(Options{Stdout: out, Dir: dir, Uploader: up, Instance: "web-1", Now: clock.Now})
	require.NoError(t, err)
	defer closeSink(t, sink)

	log.Info("one")
	clock.Advance(59 * time.Minute)
	log.Info("two") // same segment: under an hour old
	clock.Advance(2 * time.Minute)
	log.Info("three") // rotates: the first segment is queued
	require.NoError(t, flush(t, sink))

	keys := up.keys()
	require.Equal(t, []string{
		"logs/server/2024/05/06/server-web-1-20240506T070809.123Z.log",
		"logs/server/2024/05/06/server-web-1-20240506T080909.123Z.log",
	}, keys)
	require.Equal(t, out.String(), up.all(), "uploaded bytes are exactly what was logged")
	first := up.objects[keys[0]]
	require.Contains(t, string(first), `"msg":"one"`)
	require.Contains(t, string(first), `"msg":"two"`)
	require.NotContains(t, string(first), `"msg":"three"`)

	require.Equal(t, []string{"server-20240506T070809.123Z.log", "server-20240506T080909.123Z.log"}, localFiles(t, dir))
}

func TestRotateBySize(t *testing.T) {
	clock, up, out := newClock(), newUploader(), &syncBuffer{}
	log, sink, err := New(Options{Stdout: out, Uploader: up, Instance: "i", MaxBytes: 300, Now: clock.Now})
	require.NoError(t, err)
	defer closeSink(t, sink)

	for i := range 20 {
		log.Info("message", "i", i, "pad", strings.Repeat("x", 40))
	}
	require.NoError(t, flush(t, sink))

	keys := up.keys()
	require.Greater(t, len(keys), 5)
	require.Equal(t, sortedKeys(keys), keys, "names sort in write order even within one millisecond")
	for _, k := range keys {
		require.LessOrEqual(t, len(up.objects[k]), 300, k)
		require.True(t, strings.HasSuffix(string(up.objects[k]), "\n"), "segments hold whole lines")
	}
	require.Equal(t, out.String(), up.all())
}

func TestFailedUploadRetriedAtNextRotation(t *testing.T) {
	clock, up, errs := newClock(), newUploader(), &errSink{}
	up.failures = 2
	log, sink, err := New(Options{
		Stdout: &syncBuffer{}, Uploader: up, Instance: "i", Now: clock.Now,
		UploadAttempts: 2, RetryBackoff: time.Millisecond, OnError: errs.add,
	})
	require.NoError(t, err)
	defer closeSink(t, sink)

	log.Info("first")
	err = flush(t, sink)
	require.ErrorContains(t, err, "injected upload failure")
	require.ErrorContains(t, err, "2 attempts")
	require.Empty(t, up.keys())
	require.Len(t, dirEntries(t, sink.dir), 1, "failed segment stays on disk")

	clock.Advance(time.Hour)
	log.Info("second")
	require.NoError(t, flush(t, sink))
	keys := up.keys()
	require.Len(t, keys, 2)
	require.Contains(t, string(up.objects[keys[0]]), `"msg":"first"`)
	require.Contains(t, string(up.objects[keys[1]]), `"msg":"second"`)
	require.Empty(t, dirEntries(t, sink.dir), "spooled segments are deleted once shipped")
}

func TestPendingBacklogIsCapped(t *testing.T) {
	clock, up, errs := newClock(), newUploader(), &errSink{}
	up.failures = -1
	log, sink, err := New(Options{
		Stdout: &syncBuffer{}, Uploader: up, Now: clock.Now, MaxBytes: 100,
		MaxPendingBytes: 250, UploadAttempts: 1, OnError: errs.add,
	})
	require.NoError(t, err)

	for i := range 10 {
		log.Info("line", "i", i) // ~60 bytes each, so a segment per line
	}
	require.Error(t, flush(t, sink))

	sink.mu.Lock()
	pendingBytes, pending := sink.pendingBytes, len(sink.pending)
	sink.mu.Unlock()
	require.LessOrEqual(t, pendingBytes, int64(250))
	require.Len(t, dirEntries(t, sink.dir), pending, "dropped spool files are deleted")
	require.Eventually(t, func() bool { return errs.contains("dropped unshipped segment") }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.Error(t, sink.Close(ctx), "the last round still fails")
}

func TestKeepPrunesOldLocalFiles(t *testing.T) {
	clock, dir := newClock(), t.TempDir()
	foreign := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(foreign, []byte("keep me"), 0o600))
	log, sink, err := New(Options{Stdout: &syncBuffer{}, Dir: dir, Keep: 3, Now: clock.Now})
	require.NoError(t, err)
	defer closeSink(t, sink)

	for i := range 6 {
		log.Info("tick", "i", i)
		clock.Advance(time.Hour)
	}
	require.NoError(t, flush(t, sink))

	require.Equal(t, []string{
		"server-20240506T100809.123Z.log",
		"server-20240506T110809.123Z.log",
		"server-20240506T120809.123Z.log",
	}, localFiles(t, dir))
	require.FileExists(t, foreign, "files that are not segments are never pruned")
	last, err := os.ReadFile(filepath.Join(dir, "server-20240506T120809.123Z.log"))
	require.NoError(t, err)
	require.Contains(t, string(last), `"i":5`)
}

func TestFlushLocalOnly(t *testing.T) {
	clock, dir := newClock(), t.TempDir()
	log, sink, err := New(Options{Stdout: &syncBuffer{}, Dir: dir, Format: "text", Now: clock.Now})
	require.NoError(t, err)

	log.Info("before")
	require.NoError(t, flush(t, sink))
	log.Info("after")
	closeSink(t, sink)

	files := localFiles(t, dir)
	require.Len(t, files, 2)
	b, err := os.ReadFile(filepath.Join(dir, files[0]))
	require.NoError(t, err)
	require.Contains(t, string(b), "msg=before")
	require.NotContains(t, string(b), "after")

	log.Info("closed") // must not panic or block; goes to stdout only
	require.ErrorIs(t, sink.Flush(context.Background()), ErrClosed)
}

func TestConcurrentLogging(t *testing.T) {
	const goroutines, perG = 8, 250
	clock, up, dir, out := newClock(), newUploader(), t.TempDir(), &syncBuffer{}
	log, sink, err := New(Options{Stdout: out, Dir: dir, Uploader: up, MaxBytes: 4096, Keep: -1, Now: clock.Now})
	require.NoError(t, err)

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				log.Info("concurrent", "g", g, "i", i)
				if i%50 == 0 {
					clock.Advance(time.Minute)
				}
			}
		})
	}
	wg.Wait()
	closeSink(t, sink)

	seen := map[string]bool{}
	for line := range strings.Lines(up.all()) {
		var rec struct {
			Msg  string
			G, I int
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		seen[fmt.Sprint(rec.G, "/", rec.I)] = true
	}
	require.Len(t, seen, goroutines*perG)
	require.Equal(t, goroutines*perG, strings.Count(up.all(), "\n"))

	var local strings.Builder
	for _, name := range localFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		local.Write(b)
	}
	require.Equal(t, up.all(), local.String())
	require.Equal(t, goroutines*perG, strings.Count(out.String(), "\n"))
}

func TestLoggingDoesNotBlockOnStuckUploader(t *testing.T) {
	up := newUploader()
	up.block = make(chan struct{})
	t.Cleanup(func() { close(up.block) }) // release the leaked Put
	log, sink, err := New(Options{Stdout: &syncBuffer{}, Uploader: up, MaxBytes: 200, UploadTimeout: time.Hour})
	require.NoError(t, err)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 500 { // ~100 segments while the first Put hangs
			log.Info("still logging", "i", i)
		}
	}()
	require.Eventually(t, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return up.callCount() == 1 }, 10*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- sink.Close(ctx) }()
	require.Eventually(t, func() bool {
		select {
		case err := <-closed:
			require.ErrorIs(t, err, context.DeadlineExceeded)
			return true
		default:
			return false
		}
	}, 10*time.Second, time.Millisecond, "Close honours its deadline even if Put never returns")
}

func TestCloseShipsLastSegmentAndRemovesSpool(t *testing.T) {
	up := newUploader()
	log, sink, err := New(Options{Stdout: &syncBuffer{}, Uploader: up})
	require.NoError(t, err)
	log.Warn("bye")
	closeSink(t, sink)
	require.Len(t, up.keys(), 1)
	require.Contains(t, up.all(), `"msg":"bye"`)
	require.NoDirExists(t, sink.dir)
}

func TestNoSinkConfigured(t *testing.T) {
	out := &syncBuffer{}
	log, sink, err := New(Options{Stdout: out, Level: slog.LevelDebug})
	require.NoError(t, err)
	log.Debug("hello")
	require.Contains(t, out.String(), `"msg":"hello"`)
	require.NoError(t, sink.Flush(context.Background()))
	require.NoError(t, sink.Close(context.Background()))
}

func TestBadFormat(t *testing.T) {
	_, _, err := New(Options{Format: "xml"})
	require.ErrorContains(t, err, `unknown format "xml"`)
}

func TestSegmentNames(t *testing.T) {
	start := time.Date(2024, 12, 31, 23, 59, 58, 7e6, time.FixedZone("x", 3600))
	require.Equal(t, "server-20241231T225958.007Z.log", segmentFileName(start))
	require.Equal(t, "p/2024/12/31/server-h-1-20241231T225958.007Z.log", objectKey("p/", "h-1", start))
	got, ok := parseSegmentName("server-20241231T225958.007Z.log")
	require.True(t, ok)
	require.True(t, got.Equal(start))
	for _, bad := range []string{"server-x.log", "other-20241231T225958.007Z.log", "server-20241231T225958.007Z.txt"} {
		_, ok := parseSegmentName(bad)
		require.False(t, ok, bad)
	}
}

func dirEntries(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	e, err := os.ReadDir(dir)
	require.NoError(t, err)
	return e
}
