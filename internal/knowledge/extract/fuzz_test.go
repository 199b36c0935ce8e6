package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// One fuzz target per extractor. Each input must be extracted within a time
// bound, without a panic, into valid UTF-8 no longer than the cap. The seeds
// are the hostile files of testdata/hostile for the format plus small valid
// documents; `go test` runs them as unit tests, scripts/test fuzzes each
// target for a few seconds.

const (
	// fuzzTextCap is small so that inputs reach it.
	fuzzTextCap = 4 << 10
	// fuzzBound is how long one input may take in this process: parsers here
	// are linear, so anything near it is a finding.
	fuzzBound = 5 * time.Second
)

func FuzzPlain(f *testing.F) {
	addSeeds(f, "", "# Title\n\nSome *markdown*.\n", "caf\xe9 \x80", "\xff\xfeh\x00i\x00", "\xfe\xff\x00h\xd8\x00", "\xef\xbb\xbfhi")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzInProcess(t, kindPlain, data) })
}

func FuzzJSON(f *testing.F) {
	addSeeds(f, "json-", `{"b":1.50,"a":[true,null,"x\"\\"]}`, "[]", ` {"a":{}} `+"\n", `"\u00e9"`, `[1,]`, "{\"a\":\n[\n]}")
	f.Fuzz(func(t *testing.T, data []byte) {
		got := fuzzInProcess(t, kindJSON, data)
		// Where json.Indent succeeds on plain UTF-8 within the caps, the
		// output is exactly its output.
		if got.err != nil || got.truncated || bytes.HasPrefix(data, bomUTF8) || !utf8.Valid(data) {
			return
		}
		var want bytes.Buffer
		require.NoError(t, json.Indent(&want, data, "", "  "), "extractJSON accepted what json.Indent refuses")
		require.Equal(t, want.String(), got.text)
	})
}

func FuzzCSV(f *testing.F) {
	addSeeds(f, "csv-", "name, city\nAlice,\"Paris, France\"\n\nBob\n", "a,b\n\"x\"\"y\",z,extra\n", "h\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzInProcess(t, kindCSV, data) })
}

func FuzzHTML(f *testing.F) {
	addSeeds(f, "html-",
		"<html><head><title>t</title><style>p{}</style></head><body><h1>A &amp; B</h1><p>x<br>y</p><table><tr><td>1</td><td>2</td></tr></table><pre> a\n b</pre></body></html>",
		"<meta charset=\"iso-8859-1\"><p>na\xefve", "<script>never</script><noscript>x", "</pre></pre><textarea>")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzInProcess(t, kindHTML, data) })
}

func FuzzXML(f *testing.F) {
	addSeeds(f, "xml-", "<?xml version=\"1.0\"?><root><item a=\"1\">First &amp; one</item><!-- c --><item>Second</item></root>",
		"<a><b></a>", "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>\xe9</a>", "<a>&nbsp;&unknown;</a>")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzInProcess(t, kindXML, data) })
}

// FuzzPDF goes through the child process, as every PDF does: the PDF
// library can loop or crash on input no check of ours sees, and the bound
// asserted here is the one production relies on.
func FuzzPDF(f *testing.F) {
	addSeeds(f, "pdf-")
	f.Add(pdfDoc{pages: []string{textPage("Hello, PDF world!", "Second line"), textPage("two")}}.bytes(f))
	f.Add(pdfDoc{pages: []string{"BT /F1 12 Tf 72 720 Td [(fo) -300 (x)] TJ ET"}, flate: true}.bytes(f))
	f.Add(pdfDoc{pages: []string{textPage("two point oh")}, version: "2.0"}.bytes(f))
	e := Extractor{MaxTextBytes: fuzzTextCap, Timeout: time.Second, MaxMemoryBytes: 256 << 20}.withDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		res, err := e.isolated(context.Background(), "f.pdf", kindPDF, data, "")
		require.Less(t, time.Since(start), e.Timeout+3*time.Second, "the child is killed at the deadline")
		if err != nil {
			require.ErrorIs(t, err, ErrUnreadable, "only the file is at fault")
			return
		}
		requireCapped(t, res.text)
	})
}

// addSeeds adds the hostile files whose names start with prefix (none if
// prefix is empty) and the given documents.
func addSeeds(f *testing.F, prefix string, docs ...string) {
	if prefix != "" {
		entries, err := os.ReadDir(hostileDir)
		require.NoError(f, err)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				data, err := os.ReadFile(filepath.Join(hostileDir, e.Name()))
				require.NoError(f, err)
				f.Add(data)
			}
		}
	}
	for _, d := range docs {
		f.Add([]byte(d))
	}
}

type fuzzResult struct {
	text      string
	truncated bool
	err       error
}

// fuzzInProcess extracts data as k in this process and checks the bounds.
func fuzzInProcess(t *testing.T, k kind, data []byte) fuzzResult {
	t.Helper()
	got := within(t, fuzzBound, func() fuzzResult {
		out := newTextBuf(fuzzTextCap)
		err := k.extract(context.Background(), data, "", out)
		if errors.Is(err, errFull) {
			err = nil
		}
		return fuzzResult{out.String(), out.truncated, err}
	})
	requireCapped(t, got.text)
	return got
}

func requireCapped(t *testing.T, text string) {
	t.Helper()
	require.True(t, utf8.ValidString(text), "text is valid UTF-8")
	body, _ := strings.CutSuffix(text, "\n\n[truncated: extracted text exceeds 4096 bytes]")
	require.LessOrEqual(t, len(body), fuzzTextCap)
}
