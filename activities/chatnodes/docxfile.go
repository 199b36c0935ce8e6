package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// DocxFile loads Word documents (docxFile): the text of word/document.xml, read with bounded
// sizes by extract.
func (n *Nodes) DocxFile(ctx context.Context, req node.Request) (node.Value, error) {
	return n.fileLoader(ctx, req)
}
