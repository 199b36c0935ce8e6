package extract

import (
	"mime"
	"net/http"
	"path"
	"strings"
)

// sniffLen is how much of the content http.DetectContentType looks at.
const sniffLen = 512

// Canonical MIME types this package reports for the formats it extracts.
const (
	mimeText     = "text/plain"
	mimeMarkdown = "text/markdown"
	mimeCSV      = "text/csv"
	mimeTSV      = "text/tab-separated-values"
	mimeJSON     = "application/json"
	mimeNDJSON   = "application/x-ndjson"
	mimeHTML     = "text/html"
	mimeXML      = "application/xml"
	mimeYAML     = "application/yaml"
	mimePDF      = "application/pdf"
	mimeBinary   = "application/octet-stream"
)

// aliases maps spellings seen in the wild to the canonical type.
var aliases = map[string]string{
	"text/x-markdown":             mimeMarkdown,
	"text/md":                     mimeMarkdown,
	"application/csv":             mimeCSV,
	"text/x-csv":                  mimeCSV,
	"text/comma-separated-values": mimeCSV,
	"text/tsv":                    mimeTSV,
	"text/json":                   mimeJSON,
	"application/jsonl":           mimeNDJSON,
	"application/x-jsonl":         mimeNDJSON,
	"application/xhtml+xml":       mimeHTML,
	"text/xml":                    mimeXML,
	"application/x-yaml":          mimeYAML,
	"text/yaml":                   mimeYAML,
	"text/x-yaml":                 mimeYAML,
	"application/x-pdf":           mimePDF,
	"binary/octet-stream":         mimeBinary,
	"application/unknown":         mimeBinary,
	"application/x-binary":        mimeBinary,
}

// byExt is consulted before mime.TypeByExtension so detection does not depend
// on the host's mime.types files for the formats we extract.
var byExt = map[string]string{
	".txt": mimeText, ".text": mimeText, ".log": mimeText,
	".md": mimeMarkdown, ".markdown": mimeMarkdown, ".mdx": mimeMarkdown,
	".csv": mimeCSV, ".tsv": mimeTSV,
	".json": mimeJSON, ".jsonl": mimeNDJSON, ".ndjson": mimeNDJSON,
	".html": mimeHTML, ".htm": mimeHTML, ".xhtml": mimeHTML,
	".xml":  mimeXML,
	".yaml": mimeYAML, ".yml": mimeYAML,
	".pdf": mimePDF, ".docx": mimeDOCX,
	// Source and config files are text; treating them as such is what a user
	// attaching one to a chat expects.
	".js": mimeText, ".mjs": mimeText, ".ts": mimeText, ".tsx": mimeText, ".jsx": mimeText,
	".py": mimeText, ".go": mimeText, ".java": mimeText, ".kt": mimeText, ".rb": mimeText,
	".rs": mimeText, ".c": mimeText, ".h": mimeText, ".cpp": mimeText, ".cs": mimeText,
	".php": mimeText, ".swift": mimeText, ".sh": mimeText, ".sql": mimeText, ".css": mimeText,
	".ini": mimeText, ".toml": mimeText, ".cfg": mimeText, ".conf": mimeText, ".rst": mimeText,
	// Common binaries, named so errors and the response's mimeType are useful.
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".zip": "application/zip",
	".doc": "application/msword", ".xls": "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// textualApp lists application/* types whose content is text.
var textualApp = map[string]bool{
	mimeJSON: true, mimeNDJSON: true, mimeXML: true, mimeYAML: true,
	"application/javascript": true, "application/x-javascript": true,
	"application/ecmascript": true, "application/toml": true,
	"application/sql": true, "application/x-sh": true,
}

// canonical lower-cases a media type, drops parameters and resolves aliases.
func canonical(t string) string {
	t = strings.TrimSpace(t)
	if t == "" {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		t = mt
	} else if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	t = strings.ToLower(strings.TrimSpace(t))
	if a, ok := aliases[t]; ok {
		return a
	}
	return t
}

// typeByExt returns the canonical type for name's extension, or "".
func typeByExt(name string) string {
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(name, `\`, "/")))
	if ext == "" {
		return ""
	}
	if t, ok := byExt[ext]; ok {
		return t
	}
	return canonical(mime.TypeByExtension(ext))
}

// isTextual reports whether t's content is (some encoding of) text.
func isTextual(t string) bool {
	return strings.HasPrefix(t, "text/") || textualApp[t]
}

// MimeType returns the type Text extracts name as, given the declared type
// and the first bytes of the content (up to 512 are looked at).
//
// Precedence: a specific, supported declared type; else a supported type from
// the extension; else text/plain if declared; else whatever was declared or
// implied by the extension; else content sniffing. text/plain counts as weak
// because many clients send it for every text file, so "data.csv" declared
// text/plain is still read as CSV. Finally the content gets a veto: bytes
// with a binary signature (PNG, ZIP, ...) are never read as text, and a PDF
// signature is read as PDF whatever the name says.
func MimeType(name, declared string, head []byte) string {
	decl := canonical(declared)
	if decl == mimeBinary {
		decl = ""
	}
	ext := typeByExt(name)

	var chosen string
	switch {
	case decl != "" && decl != mimeText && kindOf(decl) != kindUnsupported:
		chosen = decl
	case ext != "" && kindOf(ext) != kindUnsupported:
		chosen = ext
	case decl != "":
		chosen = decl
	default:
		chosen = ext
	}

	if len(head) == 0 {
		if chosen == "" {
			return mimeText // an empty, anonymous upload is an empty text
		}
		return chosen
	}
	sniffed := canonical(http.DetectContentType(head[:min(len(head), sniffLen)]))
	switch {
	case chosen == "":
		return sniffed
	case sniffed == mimePDF:
		return mimePDF
	case isTextual(chosen) && !isTextual(sniffed):
		// Binary content under a text name would come out as garbage.
		return sniffed
	case chosen == mimePDF && !isTextual(sniffed) && sniffed != mimeBinary:
		return sniffed
	}
	return chosen
}
