package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// PdfFile loads PDF files (pdfFile), one document per file (Flowise's "perFile" usage), parsed
// in a bounded child process by extract.
func (n *Nodes) PdfFile(ctx context.Context, req node.Request) (node.Value, error) {
	return n.fileLoader(ctx, req)
}
