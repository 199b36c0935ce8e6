package chatnodes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/zod"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// What the output parser nodes share. A parser node only hands on its settings (node.Parser);
// the chain it is wired to adds the parser's format instructions to its prompt, as Flowise's
// injectOutputParser does, and parses the model's answer, asking the model once more to fix it
// when the parser's Autofix is on (LangChain's OutputFixingParser).

// parserValue is the result of an output parser node.
func parserValue(req node.Request, p node.Parser) node.Value {
	p.Kind = req.Node.Data.Name
	p.AutoFix = isTrue(req.Node.Data.Inputs["autofixParser"])
	return node.Value{Kind: p.Kind, Parser: &p}
}

// schemaParser is the result of a structured parser whose answer must match t.
func schemaParser(req node.Request, t *zod.Type) node.Value {
	return parserValue(req, node.Parser{Schema: t.JSONSchema()})
}

func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// jsonInstructions are LangChain's StructuredOutputParser format instructions, braces doubled
// as LangChain writes them.
const jsonInstructions = `You must format your output as a JSON value that adheres to a given "JSON Schema" instance.

"JSON Schema" is a declarative language that allows you to annotate and validate JSON documents.

For example, the example "JSON Schema" instance {{"properties": {{"foo": {{"description": "a list of test words", "type": "array", "items": {{"type": "string"}}}}}}, "required": ["foo"]}}}}
would match an object with one required property, "foo". The "type" property specifies "foo" must be an "array", and the "description" property semantically describes it as "a list of test words". The items within "foo" must be strings.
Thus, the object {{"foo": ["bar", "baz"]}} is a well-formatted instance of this example "JSON Schema". The object {{"properties": {{"foo": ["bar", "baz"]}}}} is not well-formatted.

Your output will be parsed and type-checked according to the provided schema instance, so make sure all fields in your output match the schema exactly and there are no trailing commas!

Here is the JSON Schema instance your output must adhere to. Include the enclosing markdown codeblock:
` + "```json\n%s\n```\n"

// instructions are the format instructions of p, as LangChain's parsers word them.
func instructions(p *node.Parser) string {
	switch {
	case p.Schema != nil:
		return fmt.Sprintf(jsonInstructions, p.Schema)
	case p.Kind == "csvOutputParser":
		return "Your response should be a list of comma separated values, eg: `foo, bar, baz`"
	}
	sep, n := listSeparator(p), ""
	if p.Length > 0 {
		n = strconv.Itoa(p.Length) + " "
	}
	return fmt.Sprintf("Your response should be a list of %sitems separated by %q (eg: `foo%s bar%s baz`)", n, sep, sep, sep)
}

func listSeparator(p *node.Parser) string {
	if p.Separator == "" {
		return ","
	}
	return p.Separator
}

var fence = regexp.MustCompile("```(?:json)?")

// parseAnswer turns a model's answer into the parser's JSON value.
func parseAnswer(p *node.Parser, text string) (json.RawMessage, error) {
	if p.Schema == nil {
		sep := listSeparator(p)
		if p.Kind == "csvOutputParser" {
			sep = ","
		}
		items := strings.Split(strings.TrimSpace(text), sep)
		for i := range items {
			items[i] = strings.TrimSpace(items[i])
		}
		if p.Length > 0 && len(items) != p.Length {
			return nil, fmt.Errorf("Incorrect number of items. Expected %d, got %d.", p.Length, len(items))
		}
		return marshal(items)
	}
	// As Flowise: the text inside the first code fence, or the whole answer; then repaired.
	body := strings.TrimSpace(text)
	if strings.Contains(text, "```") {
		if parts := fence.Split(body, 3); len(parts) > 1 {
			body = strings.TrimSpace(parts[1])
		}
	}
	raw := repairJSON(body)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("Failed to parse. Text: %q. Error: %v", text, err)
	}
	checked, err := zod.Check(p.Schema, v)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse. Text: %q. Error: %v", text, err)
	}
	if reflect.DeepEqual(checked, v) {
		var compact bytes.Buffer
		if json.Compact(&compact, raw) == nil {
			return compact.Bytes(), nil // the model's own key order
		}
	}
	return marshal(checked)
}

// trailingComma is the one slip repairJSON mends, besides surrounding prose: a comma before a
// closing bracket.
var trailingComma = regexp.MustCompile(`,\s*([}\]])`)

// repairJSON mends what models commonly get wrong (Flowise runs jsonrepair): text around the
// JSON value and trailing commas.
func repairJSON(s string) []byte {
	if json.Valid([]byte(s)) {
		return []byte(s)
	}
	if i := strings.IndexAny(s, "{["); i >= 0 {
		if j := strings.LastIndexAny(s, "}]"); j > i {
			s = s[i : j+1]
		}
	}
	return []byte(trailingComma.ReplaceAllString(s, "$1"))
}

func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// fixPrompt is LangChain's OutputFixingParser prompt.
const fixPrompt = `Instructions:
--------------
%s
--------------
Completion:
--------------
%s
--------------

Above, the Completion did not satisfy the constraints given in the Instructions.
Error:
--------------
%s
--------------

Please try again. Please only respond with an answer that satisfies the constraints laid out in the Instructions:`

// parsed is a chain's answer through its output parser: with Autofix, an answer that does not
// parse goes back to the model once with the error. The parsed value is Flowise's {"json": …}
// answer; the text saved for it is what Flowise saves (a json code block, left open as
// Flowise leaves it), and a chain that feeds another node hands on the JSON itself.
func (n *Nodes) parsed(ctx context.Context, req node.Request, model *node.Model, p *node.Parser, text string) (node.Value, error) {
	nd := req.Node
	out, err := parseAnswer(p, text)
	if err != nil && p.AutoFix {
		msg := fmt.Sprintf(fixPrompt, instructions(p), text, err)
		fixed, ferr := n.Chat(ctx, nodekit.Chat{NodeID: nd.ID, Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Content: msg}}})
		if ferr != nil {
			return node.Value{}, ferr
		}
		out, err = parseAnswer(p, fixed)
	}
	if err != nil {
		return node.Value{}, nodekit.FlowError("%s: %v", nd.ID, err)
	}
	if !req.Ending {
		return node.Value{Kind: nd.Data.Name, Text: ptr(string(out)), JSON: out}, nil
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, out, "", "  "); err != nil {
		return node.Value{}, err
	}
	return node.Value{Kind: nd.Data.Name, Text: ptr("```json\n" + indented.String()), JSON: out}, nil
}

func ptr[T any](v T) *T { return &v }

// withInstructions adds a parser's format instructions to a prompt as Flowise does: after a
// one-message template, or after a chat prompt's system message.
func withInstructions(prompt *node.Prompt, p *node.Parser) *node.Prompt {
	if p == nil {
		return prompt
	}
	out := *prompt
	out.Values = make(map[string]string, len(prompt.Values)+1)
	for k, v := range prompt.Values {
		out.Values[k] = v
	}
	out.Values["format_instructions"] = instructions(p)
	switch {
	case out.Template != "":
		out.Template += "\n{format_instructions}"
	case out.System != "":
		out.System += "\n{format_instructions}"
	}
	return &out
}
