package jsrun

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/dop251/goja"
)

var identRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// installInputs exposes $vars, $flow and $<name> for each input. Values go
// through JSON and the original JSON.parse, so the script receives plain
// objects and arrays, never goja's reflection wrappers around Go values
// (which would expose Go methods and types).
func (s *runState) installInputs() error {
	vars, flow := s.env.Vars, s.env.Flow
	if vars == nil {
		vars = map[string]any{}
	}
	if flow == nil {
		flow = map[string]any{}
	}
	if err := s.setJSONGlobal("$vars", vars); err != nil {
		return err
	}
	if err := s.setJSONGlobal("$flow", flow); err != nil {
		return err
	}
	for name, v := range s.env.Input {
		id := strings.TrimPrefix(name, "$")
		if !identRe.MatchString(id) {
			return fmt.Errorf("jsrun: input name %q is not a valid JavaScript identifier", name)
		}
		if id == "vars" || id == "flow" {
			continue // like Flowise, $vars and $flow win over inputs of the same name
		}
		if err := s.setJSONGlobal("$"+id, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *runState) setJSONGlobal(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("jsrun: input %s is not JSON-serialisable: %w", name, err)
	}
	val, err := s.intrinsics.parse(goja.Undefined(), s.vm.ToValue(string(b)))
	if err != nil {
		return fmt.Errorf("jsrun: input %s: %w", name, err)
	}
	return s.vm.Set(name, val)
}

type exportMode int

const (
	exportAny  exportMode = iota // plain Go values
	exportText                   // Flowise's string convention
)

// export converts the settled result. Objects go through the guarded
// JSON.stringify (so the result is bounded and cycles are reported) and
// then encoding/json, which yields map[string]any / []any / float64.
func (s *runState) export(v goja.Value, mode exportMode) (out any, err error) {
	if jsErr := s.vm.Try(func() { out, err = s.exportValue(v, mode) }); jsErr != nil {
		return nil, s.scriptError(jsErr)
	}
	return out, err
}

func (s *runState) exportValue(v goja.Value, mode exportMode) (any, error) {
	if obj, ok := v.(*goja.Object); ok {
		if _, callable := goja.AssertFunction(obj); callable {
			return zero(mode), nil
		}
		indent := goja.Undefined()
		if mode == exportText {
			indent = s.vm.ToValue(2)
		}
		js, err := s.stringify(obj, goja.Undefined(), indent)
		if err != nil {
			return nil, s.scriptError(err)
		}
		if goja.IsUndefined(js) {
			return zero(mode), nil
		}
		text := js.String()
		if err := s.checkOutput(len(text)); err != nil {
			return nil, err
		}
		if mode == exportText {
			return text, nil
		}
		var decoded any
		if err := json.Unmarshal([]byte(text), &decoded); err != nil {
			return nil, fmt.Errorf("jsrun: decode result: %w", err)
		}
		return decoded, nil
	}
	if goja.IsUndefined(v) {
		return zero(mode), nil
	}
	if mode == exportText {
		text := v.String()
		return text, s.checkOutput(len(text))
	}
	switch x := v.Export().(type) {
	case nil:
		return nil, nil
	case string:
		return x, s.checkOutput(len(x))
	case int64:
		return float64(x), nil
	case float64, bool:
		return x, nil
	case *big.Int:
		return x.String(), nil // no float64 can hold it faithfully
	default:
		return nil, nil // symbols
	}
}

func zero(mode exportMode) any {
	if mode == exportText {
		return ""
	}
	return nil
}

func (s *runState) checkOutput(n int) error {
	if n > s.lim.MaxOutput {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrOutputTooLarge, n, s.lim.MaxOutput)
	}
	return nil
}
