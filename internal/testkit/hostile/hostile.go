// Package hostile holds uploads built to break the file extractors, for the tests of the
// packages that take uploads (api, activities, e2e). The extract package's testdata/hostile
// has these and more, with the builders that make them.
package hostile

import "strings"

// SelfReferencingPDF is the 238-byte file of issue 13: its page tree root lists itself as its
// only kid, and the PDF reader descended into it for ever.
const SelfReferencingPDF = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
	"2 0 obj\n<< /Type /Pages /Kids [2 0 R] /Count 1 >>\nendobj\n" +
	"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n" +
	"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n115\n%%EOF\n"

// DeepJSON is 20 KB of JSON nested 10,000 deep: indenting it whole took 875 MB and 9 s of CPU.
var DeepJSON = strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
