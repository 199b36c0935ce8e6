package extract

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/hostile"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/hostile from the builders in seeds_test.go")

// hostileDir holds files built to break parsers. They are checked in so the
// fuzz targets start from them and anyone can replay one by hand
// (curl -F files=@testdata/hostile/pdf-kids-self.pdf ...).
const hostileDir = "testdata/hostile"

// hostileSeeds builds every file of testdata/hostile.
func hostileSeeds(t testing.TB) map[string][]byte {
	catalog := "<< /Type /Catalog /Pages 2 0 R >>"
	hello := pdfStream(t, []byte("BT /F1 12 Tf 72 720 Td (Hello) Tj ET"), "")
	seeds := map[string][]byte{
		// The page tree root lists itself as its only kid: the PDF reader
		// descended into it for ever (238 bytes, like the file of issue 13).
		"pdf-kids-self.pdf": pdfFile{objs: []string{catalog,
			"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
		}}.bytes(),
		// The cycle goes through the Kids of a child node.
		"pdf-kids-cycle.pdf": pdfFile{objs: []string{catalog,
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
		}}.bytes(),
		// A page that is its own parent and has no /Resources: looking up
		// its font walked the /Parent chain for ever.
		"pdf-parent-cycle.pdf": pdfFile{objs: []string{catalog,
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>",
			hello,
		}}.bytes(),
		// Forty levels that each list the next one twice: no cycle, but
		// 2^40 pages to visit.
		"pdf-dag.pdf": pdfFile{objs: pdfChain(40, 2, hello)}.bytes(),
		// A finite chain of a thousand /Pages nodes.
		"pdf-deep-tree.pdf": pdfFile{objs: pdfChain(1000, 1, hello)}.bytes(),
		// The trailer's /Prev points back at its own xref table: the reader
		// loops before it returns, out of reach of any check of ours.
		"pdf-xref-prev-loop.pdf": pdfFile{selfPrev: true, objs: []string{catalog,
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
			hello,
		}}.bytes(),
		// A 200-byte content stream, compressed twice, that inflates to
		// 64 MB of operands and never an operator: the interpreter's
		// operand stack grows to 1 GB.
		"pdf-flate-bomb.pdf": pdfFile{objs: []string{catalog,
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
			pdfStream(t, []byte(strings.Repeat("0 ", 32<<20)), "/FlateDecode /FlateDecode"),
		}}.bytes(),
		// Object 5 lives in object stream 5, itself: resolving the page
		// tree recurses until the goroutine's stack overflows, a fatal
		// error that no recover catches.
		"pdf-objstm-self.pdf": pdfObjStmSelf(),
		// 20 KB of JSON nested 10,000 deep: indenting it cost 875 MB.
		"json-deep.json": []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)),
		// The same depth through objects.
		"json-deep-objects.json": []byte(strings.Repeat(`{"a":`, 4000) + "1" + strings.Repeat("}", 4000)),
		// 50,000 nested elements.
		"xml-deep.xml": []byte(strings.Repeat("<a>", 50000) + "x"),
		// One tag with 40,000 attributes (the tokenizer keeps only the
		// first of equal names, so they differ).
		"html-attrs.html": htmlAttrs(40000),
		// One record of 200,000 empty fields under a header of as many.
		"csv-wide.csv": []byte(strings.Repeat(",", 100000) + "\n" + strings.Repeat(",", 100000) + "\n"),
	}
	return seeds
}

// pdfChain is a catalog, n page-tree nodes that each list the next one
// fanout times, then one page showing content.
func pdfChain(n, fanout int, content string) []string {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>"}
	pages := 1
	for range n {
		pages *= fanout
	}
	for i := range n {
		kids := strings.TrimSpace(strings.Repeat(fmt.Sprintf("%d 0 R ", i+3), fanout))
		objs = append(objs, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, pages))
		pages /= fanout
	}
	page := len(objs) + 1
	return append(objs,
		fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>", page-1, page+1),
		content)
}

// pdfObjStmSelf is a PDF 1.5 file whose cross-reference stream puts the
// page tree root (2) and object 5 in object stream 5.
func pdfObjStmSelf() []byte {
	var buf bytes.Buffer
	buf.WriteString("%PDF-1.5\n")
	catalog := buf.Len()
	buf.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	xref := buf.Len()
	// Entries of 1+4+2 bytes: type, offset or object stream, generation
	// or index. Objects 3 and 4 are free.
	entry := func(typ byte, field2 uint32, field3 uint16) []byte {
		return []byte{typ, byte(field2 >> 24), byte(field2 >> 16), byte(field2 >> 8), byte(field2), byte(field3 >> 8), byte(field3)}
	}
	entries := slices.Concat(
		entry(0, 0, 0xffff), entry(1, uint32(catalog), 0), entry(2, 5, 0),
		entry(0, 0, 0), entry(0, 0, 0), entry(2, 5, 0), entry(1, uint32(xref), 0))
	fmt.Fprintf(&buf, "6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(entries), entries)
	fmt.Fprintf(&buf, "startxref\n%d\n%%%%EOF\n", xref)
	return buf.Bytes()
}

func htmlAttrs(n int) []byte {
	var b strings.Builder
	b.WriteString("<p")
	for i := range n {
		fmt.Fprintf(&b, " a%x", i)
	}
	b.WriteString(">x</p>")
	return []byte(b.String())
}

// TestHostileSeedsAreCurrent keeps testdata/hostile in step with the
// builders above; run with -update-seeds after changing one.
func TestHostileSeedsAreCurrent(t *testing.T) {
	seeds := hostileSeeds(t)
	if *updateSeeds {
		require.NoError(t, os.MkdirAll(hostileDir, 0o755))
		for name, data := range seeds {
			require.NoError(t, os.WriteFile(filepath.Join(hostileDir, name), data, 0o644))
		}
	}
	entries, err := os.ReadDir(hostileDir)
	require.NoError(t, err)
	require.Len(t, entries, len(seeds), "every file in %s has a builder", hostileDir)
	for name, want := range seeds {
		got, err := os.ReadFile(filepath.Join(hostileDir, name))
		require.NoError(t, err)
		require.Equal(t, want, got, "%s is stale; run go test -run TestHostileSeedsAreCurrent -update-seeds", name)
	}
	// The copies other packages' tests use.
	require.Equal(t, hostile.SelfReferencingPDF, string(seeds["pdf-kids-self.pdf"]))
	require.Equal(t, hostile.DeepJSON, string(seeds["json-deep.json"]))
}
