package tools

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// ReadFile and WriteFile are Flowise's local file tools. Flowgate refuses them: its workers
// are interchangeable and share no disk with the flow's author, so a file one call writes
// another cannot read, and a flow must not reach a worker's own files. The agent offering
// one fails before its model is called, saying so.
func (t *Tools) ReadFile() Tool  { return noDisk("readFile") }
func (t *Tools) WriteFile() Tool { return noDisk("writeFile") }

func noDisk(kind string) Tool {
	err := func() error {
		return nodekit.FlowError("%s is not supported: Flowgate gives flows no local disk to read or write files (use a document store, or a custom tool calling an API)", kind)
	}
	return Tool{
		Offer: func(context.Context, agentflow.ToolEntry) ([]llm.Tool, error) { return nil, err() },
		Run:   func(context.Context, node.ToolRequest) (string, error) { return "", err() },
	}
}
