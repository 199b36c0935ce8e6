package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// CustomTool is a tool the user wrote (/api/v1/tools): a JSON schema of its arguments and
// JavaScript code, run in the sandbox with each argument as $<name>, plus $flow and $vars as
// in Flowise; fetch() goes through the SSRF-guarded client.
func (t *Tools) CustomTool() Tool { return Tool{Offer: t.offerCustomTool, Run: t.runCustomTool} }

// customToolOf loads the custom tool an entry selects, with the entry's overrides of its name,
// description and code.
func (t *Tools) customToolOf(ctx context.Context, cfg map[string]any) (*models.Tool, error) {
	id := nodekit.ConfigString(cfg, "selectedTool")
	if id == "" {
		return nil, nodekit.FlowError("customTool: select a tool")
	}
	if nodekit.ConfigString(cfg, "customToolSchema") != "" {
		// Flowise takes a zod schema in JavaScript here; Flowgate does not evaluate it.
		return nil, nodekit.FlowError("customTool: customToolSchema (a zod schema) is not supported; edit the tool's own schema instead")
	}
	tool, err := t.Store.GetTool(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nodekit.FlowError("customTool: tool %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("customTool: load tool %s: %w", id, err)
	}
	tool.Name = cmp.Or(nodekit.ConfigString(cfg, "customToolName"), tool.Name)
	tool.Description = cmp.Or(nodekit.ConfigString(cfg, "customToolDesc"), tool.Description)
	if code := nodekit.ConfigString(cfg, "customToolFunc"); code != "" {
		tool.Func = &code
	}
	return tool, nil
}

func (t *Tools) offerCustomTool(ctx context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	tool, err := t.customToolOf(ctx, e.Config)
	if err != nil {
		return nil, err
	}
	params, err := tool.ParametersSchema()
	if err != nil {
		return nil, nodekit.FlowError("customTool %s: %v", tool.Name, err)
	}
	return []llm.Tool{{Name: tool.Name, Description: tool.Description, Parameters: params}}, nil
}

func (t *Tools) runCustomTool(ctx context.Context, req node.ToolRequest) (string, error) {
	tool, err := t.customToolOf(ctx, config(req))
	if err != nil {
		return "", err
	}
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	if tool.Func == nil || strings.TrimSpace(*tool.Func) == "" {
		return "", nodekit.FlowError("customTool %s has no code", tool.Name)
	}
	return t.runCode(ctx, tool.Name, *tool.Func, req, args)
}

// runCode runs a tool's JavaScript; its errors are the model's to read, not the run's.
func (t *Tools) runCode(ctx context.Context, name, code string, req node.ToolRequest, inputs map[string]any) (string, error) {
	out, err := jsrun.RunString(ctx, code, t.ScriptEnv(req.Run, req.State, inputs), jsrun.Limits{})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", nodekit.FlowError("tool %s: %v", name, err)
	}
	return out, nil
}
