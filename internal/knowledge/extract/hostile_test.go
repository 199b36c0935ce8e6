package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// within runs f and fails the test if it has not returned after d. A parser
// that loops for ever is left spinning, but the test fails rather than hangs.
func within[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
		panic("unreachable")
	}
}

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hostileDir, name))
	require.NoError(t, err)
	return data
}

type extraction struct {
	text string
	err  error
}

func extractSeed(t *testing.T, e Extractor, name string) extraction {
	t.Helper()
	data := readSeed(t, name)
	return within(t, 20*time.Second, func() extraction {
		text, err := e.Text(context.Background(), name, "", bytes.NewReader(data), int64(len(data)))
		return extraction{text, err}
	})
}

// TestSelfReferencingPDFsAreRefused: page trees that contain themselves made
// the PDF reader loop for ever (issue 13); they are refused on sight.
func TestSelfReferencingPDFsAreRefused(t *testing.T) {
	for name, object := range map[string]string{
		"pdf-kids-self.pdf":  "2 0 R", // the root lists itself
		"pdf-kids-cycle.pdf": "3 0 R", // through a child's /Kids
		"pdf-dag.pdf":        "3 0 R", // no cycle, but 2^40 paths
	} {
		t.Run(name, func(t *testing.T) {
			got := extractSeed(t, Extractor{}, name)
			require.ErrorIs(t, got.err, ErrUnreadable)
			require.EqualError(t, got.err, "file "+name+" could not be read: corrupt PDF: the page tree reaches object "+object+" twice")
		})
	}
}

// TestPDFPageTreesThatEnd: a page whose /Parent is itself (font lookup
// followed it for ever) and a chain of a thousand nodes are read.
func TestPDFPageTreesThatEnd(t *testing.T) {
	for _, name := range []string{"pdf-parent-cycle.pdf", "pdf-deep-tree.pdf"} {
		t.Run(name, func(t *testing.T) {
			got := extractSeed(t, Extractor{}, name)
			require.NoError(t, got.err)
			require.Equal(t, "Hello", got.text)
		})
	}
}

// TestPDFPageTreeNodeBudget: a tree with more nodes than maxPageTreeNodes
// is refused before they are read.
func TestPDFPageTreeNodeBudget(t *testing.T) {
	var kids strings.Builder
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	for i := range maxPageTreeNodes + 1 {
		fmt.Fprintf(&kids, " %d 0 R", i+3)
		objs = append(objs, "<< /Type /Page /Parent 2 0 R >>")
	}
	objs[1] = "<< /Type /Pages /Kids [" + kids.String() + "] >>"
	data := pdfFile{objs: objs}.bytes()
	_, err := Text(context.Background(), "wide.pdf", "", bytes.NewReader(data), -1)
	require.ErrorIs(t, err, ErrUnreadable)
	require.EqualError(t, err, "file wide.pdf could not be read: PDF page tree has more than 100000 nodes")
}

// TestChildProcessLimits: what only the PDF library sees is stopped by the
// child process's deadline and memory limit, and the error says which.
func TestChildProcessLimits(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		e := Extractor{Timeout: time.Second}.withDefaults()
		data := readSeed(t, "pdf-xref-prev-loop.pdf")
		res, err := e.isolated(context.Background(), "loop.pdf", kindPDF, data, "")
		require.ErrorIs(t, err, ErrUnreadable)
		require.EqualError(t, err, "file loop.pdf could not be read within 1s")
		require.Less(t, res.wall, 3*time.Second, "killed at the deadline")
	})
	t.Run("memory", func(t *testing.T) {
		e := Extractor{MaxMemoryBytes: 128 << 20}.withDefaults()
		data := readSeed(t, "pdf-flate-bomb.pdf")
		res, err := e.isolated(context.Background(), "bomb.pdf", kindPDF, data, "")
		require.ErrorIs(t, err, ErrUnreadable)
		require.EqualError(t, err, "file bomb.pdf could not be read within 128 MiB of memory")
		t.Logf("flate bomb: %v wall, %v CPU, peak RSS %d MiB", res.wall.Round(time.Millisecond), res.cpu.Round(time.Millisecond), res.maxRSS>>20)
		require.Less(t, res.maxRSS, e.MaxMemoryBytes+64<<20, "peak resident memory stays near the limit")
	})
	t.Run("caller cancels", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		data := readSeed(t, "pdf-xref-prev-loop.pdf")
		_, err := Text(ctx, "loop.pdf", "", bytes.NewReader(data), -1)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotErrorIs(t, err, ErrUnreadable, "the caller's deadline is not the file's fault")
	})
	t.Run("crash", func(t *testing.T) {
		got := extractSeed(t, Extractor{}, "pdf-objstm-self.pdf")
		require.ErrorIs(t, got.err, ErrUnreadable)
		require.EqualError(t, got.err, "file pdf-objstm-self.pdf could not be read: its parser failed (fatal error: stack overflow)")
	})
}

// TestDeepJSONIsRefusedInBoundedMemory: 20 KB of JSON nested 10,000 deep
// was indented before the text cap applied, 875 MB and 9 s of CPU. Nesting
// is now bounded while the text is written.
func TestDeepJSONIsRefusedInBoundedMemory(t *testing.T) {
	for _, name := range []string{"json-deep.json", "json-deep-objects.json"} {
		t.Run(name, func(t *testing.T) {
			var got extraction
			alloc := allocated(func() { got = extractSeed(t, Extractor{}, name) })
			require.ErrorIs(t, got.err, ErrUnreadable)
			require.ErrorContains(t, got.err, "JSON nests deeper than 256 levels")
			require.Less(t, alloc, uint64(1<<20), "bytes allocated")
		})
	}
}

// TestJSONNestedToTheLimit is indented as json.Indent does, and stopped at
// the text cap while being written.
func TestJSONNestedToTheLimit(t *testing.T) {
	doc := strings.Repeat(`{"k":[`, maxNesting/2) + "1" + strings.Repeat("]}", maxNesting/2) + "\n"
	var want bytes.Buffer
	require.NoError(t, json.Indent(&want, []byte(doc), "", "  "))
	got, err := extractString(t, "d.json", "", doc)
	require.NoError(t, err)
	require.Equal(t, want.String(), got)

	_, err = extractString(t, "d.json", "", "["+doc+"]")
	require.ErrorContains(t, err, "JSON nests deeper than 256 levels")

	capped := Extractor{MaxTextBytes: 1000}
	var text string
	alloc := allocated(func() {
		text, err = capped.Text(context.Background(), "d.json", "", strings.NewReader(doc), -1)
	})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(want.String(), strings.TrimSuffix(text, "\n\n[truncated: extracted text exceeds 1000 bytes]")))
	require.Less(t, alloc, uint64(256<<10), "bytes allocated for 1000 bytes of text from %d bytes of indentation", want.Len())
}

// TestInProcessMemoryIsBounded measures what the hostile files that are
// parsed in this process cost, at the largest size parsed here.
func TestInProcessMemoryIsBounded(t *testing.T) {
	for _, name := range []string{"json-deep.json", "xml-deep.xml", "html-attrs.html", "csv-wide.csv"} {
		t.Run(name, func(t *testing.T) {
			data := readSeed(t, name)
			k := kindOf(MimeType(name, "", data))
			require.True(t, k.inProcess(len(data)))
			alloc := allocated(func() {
				_, _ = Text(context.Background(), name, "", bytes.NewReader(data), int64(len(data)))
			})
			t.Logf("%s: %d KiB in, %d KiB allocated", name, len(data)>>10, alloc>>10)
			require.Less(t, alloc, uint64(128*smallInput), "bytes allocated")
		})
	}
}

// allocated is how many bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkHostile reports time and memory per hostile file (-benchmem);
// the PDFs include starting the child process.
func BenchmarkHostile(b *testing.B) {
	for _, name := range []string{"json-deep.json", "pdf-kids-self.pdf", "xml-deep.xml", "html-attrs.html", "csv-wide.csv"} {
		data := readSeed(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Text(context.Background(), name, "", bytes.NewReader(data), int64(len(data)))
			}
		})
	}
}
