package tools

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// ReadFile and WriteFile are Flowise's local file tools, which Flowgate refuses for the
// reason their rows of the kinds table give. The agent offering one fails before its model
// is called, saying so.
func (t *Tools) ReadFile() Tool  { return refused("readFile") }
func (t *Tools) WriteFile() Tool { return refused("writeFile") }

func refused(kind string) Tool {
	k, _ := node.Lookup(kind)
	err := func() error {
		return nodekit.FlowError("%s is not supported: %s", kind, k.Refusal)
	}
	return Tool{
		Offer: func(context.Context, agentflow.ToolEntry) ([]llm.Tool, error) { return nil, err() },
		Run:   func(context.Context, node.ToolRequest) (string, error) { return "", err() },
	}
}
