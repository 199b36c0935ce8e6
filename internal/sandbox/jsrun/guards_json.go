package jsrun

import (
	"math"

	"github.com/dop251/goja"
)

// guardJSON replaces JSON.stringify with a version that tracks nesting and
// output size (goja's recurses in Go, checks cycles in O(depth) per level,
// and can expand shared references or indentation into gigabytes), and
// checks the nesting of JSON.parse input before goja's recursive parser
// sees it.
func (s *runState) guardJSON() {
	obj := s.vm.Get("JSON").ToObject(s.vm)
	stringify := s.newFunc("stringify", 3, func(call goja.FunctionCall) goja.Value {
		v, err := s.stringify(call.Argument(0), call.Argument(1), call.Argument(2))
		if err != nil {
			panic(err)
		}
		return v
	})
	_ = obj.DefineDataProperty("stringify", stringify, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	s.replaceMethod(obj, "parse", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			text := jsString(call.Argument(0))
			s.checkJSONNesting(text)
			return callThrough(orig, goja.Undefined(), text, call.Argument(1))
		}
	})
}

// stringifyTracker is passed to the original JSON.stringify as its replacer:
// the replacer sees every value before it is serialised, together with its
// holder, which is enough to know the depth of each value and estimate the
// output as it grows. A user replacer function is applied first; a user
// property list is applied here (keys then follow object order rather than
// list order, the one deviation from the standard).
type stringifyTracker struct {
	s       *runState
	user    goja.Callable
	allowed map[string]bool
	indent  int
	depths  map[*goja.Object]int
	size    float64
}

func (s *runState) stringify(value, replacer, space goja.Value) (goja.Value, error) {
	t := &stringifyTracker{s: s, depths: map[*goja.Object]int{}, indent: indentWidth(space)}
	if fn, ok := goja.AssertFunction(replacer); ok {
		t.user = fn
	} else if obj, ok := replacer.(*goja.Object); ok && s.isArray(obj) {
		t.allowed = map[string]bool{}
		n := arrayLikeLength(obj)
		s.checkElems(n, "JSON.stringify property list")
		for i := 0; i < int(n); i++ {
			if v := obj.Get(itoa(i)); !isNullish(v) {
				t.allowed[v.String()] = true
			}
		}
	}
	return s.intrinsics.stringify(goja.Undefined(), value, s.newFunc("", 2, t.replace), space)
}

func (t *stringifyTracker) replace(call goja.FunctionCall) goja.Value {
	s := t.s
	s.checkpoint()
	holder, _ := call.This.(*goja.Object)
	key, value := call.Argument(0), call.Argument(1)
	depth, seen := t.depths[holder] // the root's holder is a fresh wrapper: depth 0
	if t.user != nil {
		value = callThrough(t.user, call.This, key, value)
	} else if t.allowed != nil && seen && !s.isArray(holder) && !t.allowed[key.String()] {
		return goja.Undefined()
	}
	t.size += float64(jsString(key).Length()) + 4 + float64(t.indent*(depth+1))
	switch v := value.(type) {
	case *goja.Object:
		if _, callable := goja.AssertFunction(v); !callable {
			if depth+1 > s.caps.depth {
				panic(s.newError(s.intrinsics.rangeError, "JSON.stringify: nesting deeper than the sandbox limit"))
			}
			t.depths[v] = depth + 1
		}
	case goja.String:
		t.size += float64(v.Length())
	default:
		t.size += 24
	}
	s.checkStrLen(t.size, "JSON.stringify")
	return value
}

func indentWidth(space goja.Value) int {
	if obj, ok := space.(*goja.Object); ok {
		switch obj.ClassName() {
		case "Number":
			space = obj.ToNumber()
		case "String":
			space = obj.ToString()
		}
	}
	switch v := space.(type) {
	case goja.String:
		return min(v.Length(), 10)
	case nil:
		return 0
	default:
		switch n := v.Export().(type) {
		case int64:
			return int(min(max(n, 0), 10))
		case float64:
			if !math.IsNaN(n) && n >= 1 {
				return int(min(n, 10))
			}
		}
		return 0
	}
}

// checkJSONNesting scans text for bracket depth outside string literals.
func (s *runState) checkJSONNesting(text goja.String) {
	depth, inString, escaped := 0, false, false
	for i := 0; i < text.Length(); i++ {
		c := text.CharAt(i)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == '[' || c == '{'):
			depth++
			if depth > s.caps.depth {
				panic(s.newError(s.intrinsics.rangeError, "JSON.parse: nesting deeper than the sandbox limit"))
			}
		case !inString && (c == ']' || c == '}'):
			depth--
		}
	}
}
