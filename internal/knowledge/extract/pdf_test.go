package extract

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func extractPDFBytes(t *testing.T, data []byte) (string, error) {
	t.Helper()
	return Text(context.Background(), "doc.pdf", "application/pdf", bytes.NewReader(data), int64(len(data)))
}

func TestPDFSinglePage(t *testing.T) {
	data := pdfDoc{pages: []string{textPage("Hello, PDF world!", "Second line")}}.bytes(t)
	got, err := extractPDFBytes(t, data)
	require.NoError(t, err)
	require.Equal(t, "Hello, PDF world!\nSecond line", got)
}

func TestPDFPagesInOrderSeparatedByBlankLine(t *testing.T) {
	data := pdfDoc{pages: []string{
		textPage("Page one"),
		textPage("Page two"),
		textPage("Page three"),
	}}.bytes(t)
	got, err := extractPDFBytes(t, data)
	require.NoError(t, err)
	require.Equal(t, "Page one\n\nPage two\n\nPage three", got)
}

func TestPDFFlateStreamsAndPositioning(t *testing.T) {
	// Words placed with Td on one baseline, a wide TJ gap, then a new
	// baseline via Tm: spaces and a line break must be reconstructed.
	content := "BT /F1 12 Tf 72 720 Td (Quick) Tj 40 0 Td (brown) Tj ET\n" +
		"BT /F1 12 Tf 1 0 0 1 72 720 Tm 200 0 Td [(fo) -30 (x) -300 (jumps)] TJ ET\n" +
		"BT /F1 12 Tf 1 0 0 1 72 700 Tm (over \\(the\\) dog) Tj ET"
	data := pdfDoc{pages: []string{content}, flate: true}.bytes(t)
	got, err := extractPDFBytes(t, data)
	require.NoError(t, err)
	require.Equal(t, "Quick brown fox jumps\nover (the) dog", got)
}

func TestPDFWinAnsiDecoding(t *testing.T) {
	// \351 is é and \200 is € in WinAnsiEncoding.
	data := pdfDoc{pages: []string{textPage(`caf\351 \200 5`)}}.bytes(t)
	got, err := extractPDFBytes(t, data)
	require.NoError(t, err)
	require.Equal(t, "café € 5", got)
}

func TestPDFVersion2Header(t *testing.T) {
	data := pdfDoc{pages: []string{textPage("two point oh")}, version: "2.0"}.bytes(t)
	got, err := extractPDFBytes(t, data)
	require.NoError(t, err)
	require.Equal(t, "two point oh", got)
}

func TestPDFCorruptIsErrorNotPanic(t *testing.T) {
	valid := pdfDoc{pages: []string{textPage("x"), textPage("y")}}.bytes(t)

	// Point every xref entry at offset 0 so object lookups hit the header;
	// the library panics on this, which must surface as an error.
	badXref := bytes.Clone(valid)
	xrefAt := bytes.Index(badXref, []byte("xref\n"))
	entries := badXref[xrefAt:]
	for i := 1; i < 8; i++ {
		idx := bytes.Index(entries, []byte(" 00000 n \n"))
		require.Positive(t, idx)
		copy(entries[idx-10:idx], "0000000009")
		entries = entries[idx+1:]
	}

	// A content stream whose Length runs past the end of the object.
	badStream := regexp.MustCompile(`/Length \d+`).ReplaceAll(valid, []byte("/Length 99999"))

	cases := map[string][]byte{
		"garbage":       []byte("%PDF-1.4\nthis is not really a pdf at all, just some text pretending to be one\n%%EOF\n"),
		"not a pdf":     []byte("hello"),
		"truncated":     valid[:len(valid)/2],
		"bad xref":      badXref,
		"bad lengths":   badStream,
		"empty catalog": []byte(strings.Repeat(" ", 100) + "\n"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				_, err := extractPDFBytes(t, data)
				require.Error(t, err)
				t.Log(err)
			})
		})
	}
}

func TestPDFCancelledBetweenPages(t *testing.T) {
	data := pdfDoc{pages: []string{textPage("a"), textPage("b")}}.bytes(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Text(ctx, "doc.pdf", "", bytes.NewReader(data), int64(len(data)))
	require.ErrorIs(t, err, context.Canceled)
}

func TestPDFTruncatedOutput(t *testing.T) {
	long := strings.Repeat("lorem ipsum ", 20)
	data := pdfDoc{pages: []string{textPage(long), textPage(long)}}.bytes(t)
	got, err := Extractor{MaxTextBytes: 100}.Text(context.Background(), "d.pdf", "", bytes.NewReader(data), -1)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got, "lorem ipsum lorem"))
	require.Contains(t, got, "[truncated: extracted text exceeds 100 bytes]")
	require.Equal(t, 100, strings.Index(got, "\n\n[truncated"))
}

func TestPDFBogusPageCountStopsAtMissingPage(t *testing.T) {
	data := pdfDoc{pages: []string{textPage("only page")}}.bytes(t)
	// Same byte length, so xref offsets stay valid.
	data = bytes.Replace(data, []byte("/Count 1 "), []byte("/Count 9 "), 1)
	got, err := extractPDFBytes(t, data)
	require.NoError(t, err)
	require.Equal(t, "only page", got)
}
