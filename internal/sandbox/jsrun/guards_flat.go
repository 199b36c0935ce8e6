package jsrun

import (
	"math"
	"strconv"

	"github.com/dop251/goja"
)

// flatFrame is one array being flattened; an explicit stack replaces
// recursion so nesting cannot grow the Go stack.
type flatFrame struct {
	obj   *goja.Object
	n     int
	i     int
	depth float64
}

// arrayFlat reimplements Array.prototype.flat with an element budget: with
// shared references (a = [a, a] thirty times) a tiny input flattens into
// billions of elements, so the output, not the input, must be counted.
func (s *runState) arrayFlat(call goja.FunctionCall) goja.Value {
	obj := call.This.ToObject(s.vm)
	depth := 1.0
	if arg := call.Argument(0); !goja.IsUndefined(arg) {
		depth = arg.ToFloat()
		if math.IsNaN(depth) || depth < 0 {
			depth = 0
		}
		depth = math.Floor(depth)
	}
	var out []any
	s.flattenInto(&out, obj, depth)
	return s.vm.NewArray(out...)
}

// arrayFlatMap maps with the callback, then flattens one level.
func (s *runState) arrayFlatMap(call goja.FunctionCall) goja.Value {
	obj := call.This.ToObject(s.vm)
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(s.vm.NewTypeError("flatMap mapper function is not callable"))
	}
	n := arrayLikeLength(obj)
	s.checkElems(n, "Array.prototype.flatMap")
	var out []any
	for i := 0; i < int(n); i++ {
		s.checkpoint()
		key := strconv.Itoa(i)
		v := obj.Get(key)
		if v == nil {
			continue
		}
		mapped := callThrough(fn, call.Argument(1), v, s.vm.ToValue(i), obj)
		if m, isObj := mapped.(*goja.Object); isObj && s.isArray(m) {
			s.flattenInto(&out, m, 0)
			continue
		}
		out = s.appendElem(out, mapped, "Array.prototype.flatMap")
	}
	return s.vm.NewArray(out...)
}

func (s *runState) flattenInto(out *[]any, root *goja.Object, depth float64) {
	n := arrayLikeLength(root)
	s.checkElems(n, "Array.prototype.flat")
	stack := []flatFrame{{obj: root, n: int(n), depth: depth}}
	for len(stack) > 0 {
		s.checkpoint()
		top := &stack[len(stack)-1]
		if top.i >= top.n {
			stack = stack[:len(stack)-1]
			continue
		}
		v := top.obj.Get(strconv.Itoa(top.i))
		top.i++
		if v == nil { // hole: flat skips missing elements
			continue
		}
		if sub, isObj := v.(*goja.Object); isObj && top.depth > 0 && s.isArray(sub) {
			if len(stack) >= s.caps.depth {
				panic(s.newError(s.intrinsics.rangeError, "Maximum call stack size exceeded"))
			}
			m := arrayLikeLength(sub)
			s.checkElems(m, "Array.prototype.flat")
			stack = append(stack, flatFrame{obj: sub, n: int(m), depth: top.depth - 1})
			continue
		}
		*out = s.appendElem(*out, v, "Array.prototype.flat")
	}
}

func (s *runState) appendElem(out []any, v goja.Value, what string) []any {
	if int64(len(out)) >= s.caps.elems {
		s.fatal(memoryError("%s: result exceeds the sandbox limit of %d elements", what, s.caps.elems))
	}
	return append(out, v)
}
