package openapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	// maxRefDepth bounds chains of nested $refs (a ref whose target holds a
	// ref, ...). Real specs nest a handful deep; cycles are caught separately.
	maxRefDepth = 32
	// maxNodes bounds the values copied while resolving, over the whole
	// spec: acyclic refs can still fan out exponentially (A has ten fields
	// of B, B ten of C, ...).
	maxNodes = 250_000
	// maxBytes bounds the text of those values (strings and object keys).
	// Copies share a string's bytes, but what is built from them (the tools'
	// JSON schemas) does not: without it, a 1 MB description reached through
	// a thousand refs made 1 GB of tool parameters.
	maxBytes = 8 * MaxSpecSize
	// maxRefLen bounds a $ref's text. Each expansion looks its ref up again,
	// so a long one would multiply its length by the number of expansions;
	// real refs ("#/components/schemas/Event") are a few dozen bytes.
	maxRefLen = 1024
)

// budget is how much resolving may copy over a whole spec.
type budget struct {
	nodes int // values
	bytes int // text of the string values and object keys
}

// specBudget is Parse's budget. FuzzParse gives parse a much smaller one, which small
// inputs can exhaust.
var specBudget = budget{nodes: maxNodes, bytes: maxBytes}

// resolver inlines local $refs ("#/components/...") into copies of the
// parts of the document the tools need. Flowise dereferences the whole
// document with json-schema-ref-parser; inlining only parameters and request
// bodies keeps the work proportional to what the model will see.
type resolver struct {
	doc   map[string]any
	limit budget
	spent budget
}

// count charges one copied value, and the text of a string, to the budget.
func (r *resolver) count(v any) error {
	if r.spent.nodes++; r.spent.nodes > r.limit.nodes {
		return fmt.Errorf("spec expands to more than %d values once its $refs are resolved", r.limit.nodes)
	}
	if s, ok := v.(string); ok {
		return r.countText(s)
	}
	return nil
}

// countText charges text (a string value or an object key) to the budget.
func (r *resolver) countText(s string) error {
	if r.spent.bytes += len(s); r.spent.bytes > r.limit.bytes {
		return fmt.Errorf("spec expands to more than %d bytes of text once its $refs are resolved", r.limit.bytes)
	}
	return nil
}

// resolve returns a deep copy of v with every $ref replaced by (a resolved
// copy of) its target. stack holds the refs being expanded above v: a ref
// already on it is a cycle (a tree node whose children are tree nodes), which
// the model cannot be shown in full, so it becomes an unconstrained schema
// that says what was left out.
func (r *resolver) resolve(v any, stack []string) (any, error) {
	if err := r.count(v); err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case map[string]any:
		if ref, ok := t["$ref"].(string); ok {
			return r.resolveRef(ref, t, stack)
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			if err := r.member(out, k, e, stack); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, err := r.resolve(e, stack)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

// member resolves e, the value of key k of an object, into out[k].
func (r *resolver) member(out map[string]any, k string, e any, stack []string) error {
	if err := r.countText(k); err != nil {
		return err
	}
	switch k {
	case "example", "examples":
		// Example values are data, not schema: a "$ref" key in them is no
		// reference, and the model is not shown them anyway.
		return nil
	case "properties", "patternProperties":
		// Keys here are property names, which may well be "example".
		if props, ok := e.(map[string]any); ok {
			if err := r.count(props); err != nil {
				return err
			}
			cp := make(map[string]any, len(props))
			for name, ps := range props {
				if err := r.countText(name); err != nil {
					return err
				}
				c, err := r.resolve(ps, stack)
				if err != nil {
					return err
				}
				cp[name] = c
			}
			out[k] = cp
			return nil
		}
	}
	c, err := r.resolve(e, stack)
	if err != nil {
		return err
	}
	out[k] = c
	return nil
}

func (r *resolver) resolveRef(ref string, holder map[string]any, stack []string) (any, error) {
	if slices.Contains(stack, ref) {
		return map[string]any{"description": "recursive " + refName(ref) + " (structure not expanded)"}, nil
	}
	if len(stack) >= maxRefDepth {
		return nil, fmt.Errorf("$ref %q is nested more than %d refs deep", ref, maxRefDepth)
	}
	target, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	// Clip so that sibling branches never share the appended element.
	res, err := r.resolve(target, append(slices.Clip(stack), ref))
	if err != nil {
		return nil, err
	}
	// OpenAPI 3.1 lets keys beside $ref (typically description) override
	// the target's; 3.0 says to ignore them, which no one relies on.
	if m, ok := res.(map[string]any); ok && len(holder) > 1 {
		for k, e := range holder {
			if k == "$ref" {
				continue
			}
			if err := r.member(m, k, e, stack); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// lookup finds the target of a local JSON-pointer ref such as
// "#/components/schemas/Event".
func (r *resolver) lookup(ref string) (any, error) {
	if len(ref) > maxRefLen {
		return nil, fmt.Errorf("$ref %q... is longer than %d bytes", ref[:64], maxRefLen)
	}
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q points outside the document, which is not supported", ref)
	}
	frag, err := url.PathUnescape(frag) // refs are URI fragments
	if err != nil {
		return nil, fmt.Errorf("$ref %q: %w", ref, err)
	}
	var cur any = r.doc
	if frag == "" {
		return cur, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("$ref %q is not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		if strings.Contains(tok, "~") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		}
		switch t := cur.(type) {
		case map[string]any:
			cur, ok = t[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			ok = err == nil && i >= 0 && i < len(t)
			if ok {
				cur = t[i]
			}
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

// object resolves v and insists on an object, naming what in the error.
func (r *resolver) object(v any, what string) (map[string]any, error) {
	res, err := r.resolve(v, nil)
	if err != nil {
		return nil, err
	}
	m, ok := res.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, want an object", what, typeName(res))
	}
	return m, nil
}

// refName is the last segment of a ref, e.g. "Event" for
// "#/components/schemas/Event".
func refName(ref string) string {
	return ref[strings.LastIndex(ref, "/")+1:]
}

// shallow follows v's own $ref chain, if any, without copying: for the
// containers (path items, operations) whose parts are resolved one by one.
func (r *resolver) shallow(v any, what string) (map[string]any, error) {
	for range maxRefDepth {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is %s, want an object", what, typeName(v))
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var err error
		if v, err = r.lookup(ref); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: $ref chain longer than %d", what, maxRefDepth)
}
