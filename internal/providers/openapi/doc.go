// Package openapi turns an OpenAPI 3.x document into agent tools, one per
// operation, the way Flowise's OpenAPI Toolkit node (openAPIToolkit) does.
//
// The flow is:
//
//	data, _, err := DecodeFileInput(node.Inputs["openApiFile"]) // or "yamlFile" (node v2.0)
//	spec, err := Parse(data)
//	ops, err := spec.Operations(selectedServer) // "" = first server in the spec
//	ops = Select(ops, selectedEndpoints)
//	// give ops[i].Name, .Description and .Parameters to the model; when it
//	// calls a tool:
//	call, err := op.Request(args, headers, removeNulls)
//	// run customCode (or DefaultCode) with call.Inputs() as its $-variables.
//
// What the model sees follows Flowise: arguments are grouped into the objects
// PathParameters, QueryParameters and RequestBody, or a lone optional string
// "input" when the operation takes none of them. The request follows Flowise
// too: URL = server URL + path with path parameters substituted
// (encodeURIComponent-escaped) and query parameters appended; $options is
// {method, headers, body} with Content-Type: application/json by default and
// the body as a JSON string.
//
// Where Flowise has a bug or leaves a hole this package does the sensible
// thing instead and says so at the spot (tool names are sanitised, operations
// without operationId are kept, integer and array parameters are not dropped,
// path-level parameters apply, readOnly properties are not asked for).
package openapi
