// Package zod reads the Zod schemas Flowise's Advanced Structured Output Parser takes
// (`z.object({ title: z.string().describe("…"), … })`) without running them: a bounded
// recursive-descent parser of the safe subset Flowise's own SecureZodSchemaParser accepts
// (object, array, string, number, boolean, date, enum; int, min, max, optional, array,
// describe, default), which returns the JSON Schema the model is asked to follow and checks
// answers against it. No JavaScript runs, so a schema can neither loop nor reach anything.
//
// Unlike Flowise 3.1.2, whose parser insists on a root z.object(...), a root z.array(...) is
// accepted too: Flowise's own marketplace template "Advanced Structured Output Parser" has one.
package zod

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Bounds of what Parse reads: a schema is a flow's setting, written by whoever may save flows.
const (
	MaxSource = 64 << 10
	MaxDepth  = 32
	MaxNodes  = 4096
)

// Type is one parsed Zod type.
type Type struct {
	Kind        string // object, array, string, number, integer, boolean, date, enum
	Props       []Prop // object
	Items       *Type  // array
	Enum        []string
	Min, Max    *int // string length or array items
	Optional    bool
	Description string
	Default     any
	HasDefault  bool
}

// Prop is one property of an object, in the order written.
type Prop struct {
	Name string
	Type *Type
}

// Parse reads a Zod schema.
func Parse(src string) (*Type, error) {
	if len(src) > MaxSource {
		return nil, fmt.Errorf("the schema is longer than %d bytes", MaxSource)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	t, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == ';' {
		p.next()
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q after the schema", p.peek().text)
	}
	if t.Kind != "object" && t.Kind != "array" {
		return nil, fmt.Errorf("schema must start with z.object() or z.array()")
	}
	return t, nil
}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, or the punctuation itself
	text string
}

func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("unclosed comment")
			}
			i += end + 4
		case strings.IndexByte("(){}[].,:;", c) >= 0:
			out = append(out, token{kind: c, text: string(c)})
			i++
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			var b strings.Builder
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
					switch src[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(src[j])
					}
					continue
				}
				if c == '`' && src[j] == '$' && j+1 < len(src) && src[j+1] == '{' {
					return nil, fmt.Errorf("template literals with ${} are not supported")
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unclosed string")
			}
			out = append(out, token{kind: 's', text: b.String()})
			i = j + 1
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			out = append(out, token{kind: 'n', text: src[i:j]})
			i = j
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(src) && (src[j] == '_' || src[j] == '$' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			out = append(out, token{kind: 'i', text: src[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return out, nil
}

type parser struct {
	toks  []token
	pos   int
	nodes int
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{kind: 0, text: "end of schema"}
}

func (p *parser) next() token { t := p.peek(); p.pos++; return t }

func (p *parser) expect(kind byte) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, fmt.Errorf("expected %q, found %q", string(kind), t.text)
	}
	return t, nil
}

// expr reads z.<base>(…) followed by modifiers.
func (p *parser) expr(depth int) (*Type, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("the schema nests deeper than %d", MaxDepth)
	}
	if p.nodes++; p.nodes > MaxNodes {
		return nil, fmt.Errorf("the schema has more than %d types", MaxNodes)
	}
	if t := p.next(); t.kind != 'i' || t.text != "z" {
		return nil, fmt.Errorf("expected 'z' but got %q", t.text)
	}
	if _, err := p.expect('.'); err != nil {
		return nil, err
	}
	name, err := p.expect('i')
	if err != nil {
		return nil, err
	}
	if _, err := p.expect('('); err != nil {
		return nil, err
	}
	t := &Type{}
	switch name.text {
	case "object":
		t.Kind = "object"
		if t.Props, err = p.object(depth); err != nil {
			return nil, err
		}
	case "array":
		t.Kind = "array"
		if t.Items, err = p.expr(depth + 1); err != nil {
			return nil, err
		}
	case "enum":
		t.Kind = "enum"
		if t.Enum, err = p.strings(); err != nil {
			return nil, err
		}
		if len(t.Enum) == 0 {
			return nil, fmt.Errorf("enum requires array of values")
		}
	case "string", "number", "boolean", "date":
		t.Kind = name.text
	default:
		return nil, fmt.Errorf("unsupported type: %s", name.text)
	}
	if _, err := p.expect(')'); err != nil {
		return nil, err
	}
	for p.peek().kind == '.' {
		p.next()
		if t, err = p.modifier(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (p *parser) object(depth int) ([]Prop, error) {
	if _, err := p.expect('{'); err != nil {
		return nil, err
	}
	var props []Prop
	seen := map[string]bool{}
	for p.peek().kind != '}' {
		key := p.next()
		if key.kind != 'i' && key.kind != 's' {
			return nil, fmt.Errorf("expected a property name, found %q", key.text)
		}
		if _, err := p.expect(':'); err != nil {
			return nil, err
		}
		t, err := p.expr(depth + 1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key.text, err)
		}
		if seen[key.text] {
			return nil, fmt.Errorf("property %q appears twice", key.text)
		}
		seen[key.text] = true
		props = append(props, Prop{Name: key.text, Type: t})
		if p.peek().kind != ',' {
			break
		}
		p.next()
	}
	if _, err := p.expect('}'); err != nil {
		return nil, err
	}
	return props, nil
}

func (p *parser) strings() ([]string, error) {
	if _, err := p.expect('['); err != nil {
		return nil, err
	}
	var out []string
	for p.peek().kind != ']' {
		s, err := p.expect('s')
		if err != nil {
			return nil, err
		}
		out = append(out, s.text)
		if p.peek().kind != ',' {
			break
		}
		p.next()
	}
	_, err := p.expect(']')
	return out, err
}

func (p *parser) modifier(t *Type) (*Type, error) {
	name, err := p.expect('i')
	if err != nil {
		return nil, err
	}
	if _, err := p.expect('('); err != nil {
		return nil, err
	}
	var arg *token
	if p.peek().kind != ')' {
		a := p.next()
		if a.kind != 's' && a.kind != 'n' && a.kind != 'i' {
			return nil, fmt.Errorf("%s: unsupported argument %q", name.text, a.text)
		}
		arg = &a
	}
	if _, err := p.expect(')'); err != nil {
		return nil, err
	}
	num := func() (*int, error) {
		if arg == nil || arg.kind != 'n' {
			return nil, fmt.Errorf("%s needs a number", name.text)
		}
		n, err := strconv.Atoi(arg.text)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s needs a whole number, got %s", name.text, arg.text)
		}
		return &n, nil
	}
	switch name.text {
	case "int":
		if t.Kind == "number" {
			t.Kind = "integer"
		}
	case "min", "max":
		n, err := num()
		if err != nil {
			return nil, err
		}
		if t.Kind == "string" || t.Kind == "array" {
			if name.text == "min" {
				t.Min = n
			} else {
				t.Max = n
			}
		}
	case "optional":
		t.Optional = true
	case "array":
		if p.nodes++; p.nodes > MaxNodes {
			return nil, fmt.Errorf("the schema has more than %d types", MaxNodes)
		}
		return &Type{Kind: "array", Items: t}, nil
	case "describe":
		if arg == nil || arg.kind != 's' {
			return nil, fmt.Errorf("describe needs a string")
		}
		t.Description = arg.text
	case "default":
		if arg == nil {
			return nil, fmt.Errorf("default needs a value")
		}
		t.HasDefault, t.Optional = true, true
		switch arg.kind {
		case 's':
			t.Default = arg.text
		case 'n':
			f, err := strconv.ParseFloat(arg.text, 64)
			if err != nil {
				return nil, fmt.Errorf("default: %v", err)
			}
			t.Default = f
		default:
			t.Default = arg.text == "true"
		}
	default:
		return nil, fmt.Errorf("unsupported modifier: %s", name.text)
	}
	return t, nil
}

// JSONSchema is t as zod-to-json-schema writes it (draft-07, keys in its order), which is what
// Flowise's format instructions show the model.
func (t *Type) JSONSchema() json.RawMessage {
	var b bytes.Buffer
	t.write(&b, true)
	return b.Bytes()
}

func (t *Type) write(b *bytes.Buffer, root bool) {
	b.WriteByte('{')
	first := true
	field := func(k string, v any) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		raw, _ := json.Marshal(v)
		b.WriteString(strconv.Quote(k) + ":")
		b.Write(raw)
	}
	switch t.Kind {
	case "object":
		field("type", "object")
		b.WriteString(`,"properties":{`)
		var required []string
		for i, p := range t.Props {
			if i > 0 {
				b.WriteByte(',')
			}
			raw, _ := json.Marshal(p.Name)
			b.Write(raw)
			b.WriteByte(':')
			p.Type.write(b, false)
			if !p.Type.Optional {
				required = append(required, p.Name)
			}
		}
		b.WriteByte('}')
		if len(required) > 0 {
			field("required", required)
		}
		field("additionalProperties", false)
	case "array":
		field("type", "array")
		b.WriteString(`,"items":`)
		t.Items.write(b, false)
		if t.Min != nil {
			field("minItems", *t.Min)
		}
		if t.Max != nil {
			field("maxItems", *t.Max)
		}
	case "enum":
		field("type", "string")
		field("enum", t.Enum)
	case "date":
		field("type", "string")
		field("format", "date-time")
	default:
		field("type", t.Kind)
		if t.Min != nil {
			field("minLength", *t.Min)
		}
		if t.Max != nil {
			field("maxLength", *t.Max)
		}
	}
	if t.HasDefault {
		field("default", t.Default)
	}
	if t.Description != "" {
		field("description", t.Description)
	}
	if root {
		field("$schema", "http://json-schema.org/draft-07/schema#")
	}
	b.WriteByte('}')
}
