package extract

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pdfDoc assembles a small but structurally valid PDF (correct xref
// offsets) so tests exercise the real parser without checked-in binaries.
// Every page uses /F1 = Helvetica with WinAnsiEncoding.
type pdfDoc struct {
	pages   []string // content streams, one per page
	flate   bool     // compress content streams with FlateDecode
	version string   // header version, default "1.4"
}

func (d pdfDoc) bytes(t testing.TB) []byte {
	t.Helper()
	kids := ""
	for i := range d.pages {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, len(d.pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	for i, content := range d.pages {
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "+
			"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		filters := ""
		if d.flate {
			filters = "/FlateDecode"
		}
		objs = append(objs, pdfStream(t, []byte(content), filters))
	}
	return pdfFile{objs: objs, version: d.version}.bytes()
}

// pdfFile lays out numbered objects (1, 2, ... in order) with a correct
// classic xref table, for building hostile structures by hand.
type pdfFile struct {
	objs    []string // object bodies; object 1 must be the catalog
	version string   // header version, default "1.4"
	// selfPrev makes the trailer's /Prev point at its own xref table, a
	// loop in the chain of cross-reference sections.
	selfPrev bool
}

func (f pdfFile) bytes() []byte {
	version := f.version
	if version == "" {
		version = "1.4"
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%%PDF-%s\n", version)
	offsets := make([]int, len(f.objs))
	for i, o := range f.objs {
		offsets[i] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(f.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&buf, "%010d 00000 n \n", off)
	}
	prev := ""
	if f.selfPrev {
		prev = fmt.Sprintf(" /Prev %d", xref)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(f.objs)+1, prev, xref)
	return buf.Bytes()
}

// pdfStream is a stream object holding body, compressed once with zlib for
// every FlateDecode in filters (space-separated filter names, applied in
// order when reading).
func pdfStream(t testing.TB, body []byte, filters string) string {
	t.Helper()
	names := strings.Fields(filters)
	for range names {
		var zb bytes.Buffer
		zw := zlib.NewWriter(&zb)
		_, err := zw.Write(body)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		body = zb.Bytes()
	}
	filter := ""
	switch len(names) {
	case 0:
	case 1:
		filter = " /Filter " + names[0]
	default:
		filter = " /Filter [" + strings.Join(names, " ") + "]"
	}
	return fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(body), filter, body)
}

// textPage is a content stream showing each line with Tj, 14pt apart.
func textPage(lines ...string) string {
	var b bytes.Buffer
	b.WriteString("BT /F1 12 Tf 14 TL 72 720 Td\n")
	for i, l := range lines {
		if i > 0 {
			b.WriteString("T*\n")
		}
		fmt.Fprintf(&b, "(%s) Tj\n", l)
	}
	b.WriteString("ET")
	return b.String()
}
