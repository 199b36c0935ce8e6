// Package extract turns uploaded files into plain text, the way Flowise's
// POST /api/v1/attachments does before handing file contents to a flow.
//
// Supported inputs and how they are rendered:
//
//   - plain text, Markdown, YAML, source code: returned as-is (BOMs and
//     legacy encodings are decoded to UTF-8).
//   - CSV/TSV: the first row is the header; every data row becomes one
//     "column: value" line per cell and rows are separated by a blank line.
//     This mirrors LangChain's CSVLoader, which Flowise uses, so prompts look
//     the same as upstream.
//   - JSON: the document re-indented with two spaces; key order and number
//     spelling are preserved. Invalid JSON is an error naming the offset.
//   - HTML: visible text only (no head, script, style, template, ...),
//     entities decoded, block elements turned into line/paragraph breaks.
//   - XML: character data of every element, one chunk per line.
//   - PDF: text of every page in order, pages separated by a blank line.
//
// Everything else (images, archives, office documents, ...) fails with an
// error wrapping ErrUnsupported.
//
// Uploads are untrusted, so every parse is bounded. The text stops at a cap
// while it is written, never after; JSON and XML nesting is bounded. Plain
// text and JSON are parsed here by code bounded by design; CSV, HTML and XML
// too when small. PDFs, and larger CSV, HTML and XML, are parsed in a child
// process (this executable again, see IsChild) under a deadline and memory
// and CPU limits the OS enforces. A file that breaks a bound fails with an
// error wrapping ErrUnreadable that names the file and the bound.
package extract
