package tools

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/internal/providers/openapi"
	"github.com/flowgate/flowgate/workflows/node"
)

// openAPISpec reads the toolkit entry's spec: the uploaded file (openApiFile, or yamlFile in
// the node's first version) or, failing that, the document at openApiLink.
func (t *Tools) openAPISpec(ctx context.Context, cfg map[string]any) (*openapi.Spec, error) {
	file := cmp.Or(nodekit.ConfigString(cfg, "openApiFile"), nodekit.ConfigString(cfg, "yamlFile"))
	var raw []byte
	switch link := strings.TrimSpace(nodekit.ConfigString(cfg, "openApiLink")); {
	case file != "":
		data, _, err := openapi.DecodeFileInput(file)
		if errors.Is(err, openapi.ErrStoredFile) {
			return nil, nodekit.FlowError("openAPIToolkit: specs kept in file storage are not supported; upload the file into the tool's settings")
		}
		if err != nil {
			return nil, nodekit.FlowError("openAPIToolkit: %v", err)
		}
		raw = data
	case link != "":
		status, _, body, err := t.Send(ctx, "GET", link, nil, "")
		if err != nil {
			return nil, nodekit.Annotate(err, "openAPIToolkit: fetch the spec")
		}
		if status != 200 {
			return nil, nodekit.FlowError("openAPIToolkit: fetching the spec answered HTTP %d", status)
		}
		raw = body
	default:
		return nil, nodekit.FlowError("openAPIToolkit: no OpenAPI spec; upload one in the tool's settings")
	}
	spec, err := openapi.Parse(raw)
	if err != nil {
		return nil, nodekit.FlowError("openAPIToolkit: %v", err)
	}
	return spec, nil
}

// openAPIOperations are the operations an entry offers, after its server and endpoint choices.
func (t *Tools) openAPIOperations(ctx context.Context, cfg map[string]any) ([]openapi.Operation, error) {
	spec, err := t.openAPISpec(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ops, err := spec.Operations(nodekit.ConfigString(cfg, "selectedServer"))
	if err != nil {
		return nil, nodekit.FlowError("openAPIToolkit: %v", err)
	}
	return openapi.Select(ops, nodekit.StringList(cfg["selectedEndpoints"])), nil
}

// OpenAPIToolkit offers one function per operation of an OpenAPI spec, as Flowise's OpenAPI
// Toolkit does.
func (t *Tools) OpenAPIToolkit() Tool { return Tool{Offer: t.offerOpenAPI, Run: t.runOpenAPI} }

func (t *Tools) offerOpenAPI(ctx context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	ops, err := t.openAPIOperations(ctx, e.Config)
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
func (t *Tools) runOpenAPI(ctx context.Context, req node.ToolRequest) (string, error) {
	cfg := config(req)
	ops, err := t.openAPIOperations(ctx, cfg)
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
		return "", nodekit.FlowError("openAPIToolkit: the spec has no operation %s", req.Call.Name)
	}
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	headers, err := openapi.ParseHeaders(cfg["headers"])
	if err != nil {
		return "", nodekit.FlowError("openAPIToolkit: %v", err)
	}
	call, err := op.Request(args, headers, agentflow.Truthy(cfg["removeNulls"]))
	if err != nil {
		return "", nodekit.FlowError("openAPIToolkit: %v", err)
	}
	inputs := map[string]any{}
	for k, v := range call.Inputs() {
		inputs[strings.TrimPrefix(k, "$")] = v
	}
	return t.runCode(ctx, op.Name, cmp.Or(strings.TrimSpace(nodekit.ConfigString(cfg, "customCode")), openapi.DefaultCode), req, inputs)
}
