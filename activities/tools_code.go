package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/internal/providers/openapi"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/models"
)

// Tools whose work is JavaScript, run in the sandbox (package jsrun): custom tools the
// user wrote (/api/v1/tools) and the OpenAPI toolkit's request code.

// customToolOf loads the custom tool an entry selects, with the entry's overrides of its name,
// description and code.
func (a *Activities) customToolOf(ctx context.Context, cfg map[string]any) (*models.Tool, error) {
	id := configString(cfg, "selectedTool")
	if id == "" {
		return nil, flowError("customTool: select a tool")
	}
	if configString(cfg, "customToolSchema") != "" {
		// Flowise takes a zod schema in JavaScript here; Flowgate does not evaluate it.
		return nil, flowError("customTool: customToolSchema (a zod schema) is not supported; edit the tool's own schema instead")
	}
	t, err := a.Store.GetTool(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, flowError("customTool: tool %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("customTool: load tool %s: %w", id, err)
	}
	t.Name = cmp.Or(configString(cfg, "customToolName"), t.Name)
	t.Description = cmp.Or(configString(cfg, "customToolDesc"), t.Description)
	if code := configString(cfg, "customToolFunc"); code != "" {
		t.Func = &code
	}
	return t, nil
}

func (a *Activities) offerCustomTool(ctx context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	t, err := a.customToolOf(ctx, e.Config)
	if err != nil {
		return nil, err
	}
	params, err := t.ParametersSchema()
	if err != nil {
		return nil, flowError("customTool %s: %v", t.Name, err)
	}
	return []llm.Tool{{Name: t.Name, Description: t.Description, Parameters: params}}, nil
}

// runCustomTool runs the tool's code with each argument as $<name>, plus $flow and $vars as
// in Flowise; fetch() goes through the SSRF-guarded client.
func (a *Activities) runCustomTool(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	t, err := a.customToolOf(ctx, toolConfig(req))
	if err != nil {
		return "", err
	}
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	if t.Func == nil || strings.TrimSpace(*t.Func) == "" {
		return "", flowError("customTool %s has no code", t.Name)
	}
	return a.runToolCode(ctx, t.Name, *t.Func, req, args)
}

// runToolCode runs a tool's JavaScript; its errors are the model's to read, not the run's.
func (a *Activities) runToolCode(ctx context.Context, name, code string, req agentflow.ToolRequest, inputs map[string]any) (string, error) {
	out, err := jsrun.RunString(ctx, code, a.jsEnv(req.Run, req.State, inputs), jsrun.Limits{})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", flowError("tool %s: %v", name, err)
	}
	return out, nil
}

// openAPISpec reads the toolkit entry's spec: the uploaded file (openApiFile, or yamlFile in
// the node's first version) or, failing that, the document at openApiLink.
func (a *Activities) openAPISpec(ctx context.Context, cfg map[string]any) (*openapi.Spec, error) {
	file := cmp.Or(configString(cfg, "openApiFile"), configString(cfg, "yamlFile"))
	var raw []byte
	switch link := strings.TrimSpace(configString(cfg, "openApiLink")); {
	case file != "":
		data, _, err := openapi.DecodeFileInput(file)
		if errors.Is(err, openapi.ErrStoredFile) {
			return nil, flowError("openAPIToolkit: specs kept in file storage are not supported; upload the file into the tool's settings")
		}
		if err != nil {
			return nil, flowError("openAPIToolkit: %v", err)
		}
		raw = data
	case link != "":
		status, _, body, err := a.send(ctx, "GET", link, nil, "")
		if err != nil {
			return nil, annotate(err, "openAPIToolkit: fetch the spec")
		}
		if status != 200 {
			return nil, flowError("openAPIToolkit: fetching the spec answered HTTP %d", status)
		}
		raw = body
	default:
		return nil, flowError("openAPIToolkit: no OpenAPI spec; upload one in the tool's settings")
	}
	spec, err := openapi.Parse(raw)
	if err != nil {
		return nil, flowError("openAPIToolkit: %v", err)
	}
	return spec, nil
}

// openAPIOperations are the operations an entry offers, after its server and endpoint choices.
func (a *Activities) openAPIOperations(ctx context.Context, cfg map[string]any) ([]openapi.Operation, error) {
	spec, err := a.openAPISpec(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ops, err := spec.Operations(configString(cfg, "selectedServer"))
	if err != nil {
		return nil, flowError("openAPIToolkit: %v", err)
	}
	return openapi.Select(ops, stringList(cfg["selectedEndpoints"])), nil
}

func (a *Activities) offerOpenAPI(ctx context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	ops, err := a.openAPIOperations(ctx, e.Config)
	if err != nil {
		return nil, err
	}
	tools := make([]llm.Tool, len(ops))
	for i, op := range ops {
		tools[i] = llm.Tool{Name: op.Name, Description: op.Description, Parameters: op.Parameters}
	}
	return tools, nil
}

// runOpenAPI builds the operation's request from the model's arguments and performs it with
// the entry's customCode (or Flowise's default fetch), which sees $url and $options.
func (a *Activities) runOpenAPI(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	cfg := toolConfig(req)
	ops, err := a.openAPIOperations(ctx, cfg)
	if err != nil {
		return "", err
	}
	var op *openapi.Operation
	for i := range ops {
		if ops[i].Name == req.Call.Name {
			op = &ops[i]
		}
	}
	if op == nil {
		return "", flowError("openAPIToolkit: the spec has no operation %s", req.Call.Name)
	}
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	headers, err := openapi.ParseHeaders(cfg["headers"])
	if err != nil {
		return "", flowError("openAPIToolkit: %v", err)
	}
	call, err := op.Request(args, headers, agentflow.Truthy(cfg["removeNulls"]))
	if err != nil {
		return "", flowError("openAPIToolkit: %v", err)
	}
	inputs := map[string]any{}
	for k, v := range call.Inputs() {
		inputs[strings.TrimPrefix(k, "$")] = v
	}
	return a.runToolCode(ctx, op.Name, cmp.Or(strings.TrimSpace(configString(cfg, "customCode")), openapi.DefaultCode), req, inputs)
}

// stringList reads a multi-option input, which Flowise saves as a list or as its JSON text.
func stringList(v any) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, s := range t {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		_ = json.Unmarshal([]byte(t), &out)
	}
	return out
}
