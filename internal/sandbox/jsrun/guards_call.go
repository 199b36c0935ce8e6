package jsrun

import (
	"math"

	"github.com/dop251/goja"
)

// guardCalls bounds the argument lists built from array-likes:
// Math.max.apply(null, {length: 1e9}) would allocate a billion-slot slice
// before anything could interrupt it.
func (s *runState) guardCalls() {
	fnProto := s.vm.Get("Function").ToObject(s.vm).Get("prototype").ToObject(s.vm)
	s.replaceMethod(fnProto, "apply", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			s.checkArgList(call.Argument(1), "Function.prototype.apply")
			return callThrough(orig, call.This, call.Arguments...)
		}
	})
	reflect := s.vm.Get("Reflect").ToObject(s.vm)
	s.replaceMethod(reflect, "apply", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			s.checkArgList(call.Argument(2), "Reflect.apply")
			return callThrough(orig, call.This, call.Arguments...)
		}
	})
	s.replaceMethod(reflect, "construct", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			s.checkArgList(call.Argument(1), "Reflect.construct")
			return callThrough(orig, call.This, call.Arguments...)
		}
	})
}

// guardObjectStatics bounds Object.keys & co. on strings: a string of n
// characters has n index properties, and listing or copying them costs far
// more memory per character than the string itself.
func (s *runState) guardObjectStatics() {
	obj := s.vm.Get("Object").ToObject(s.vm)
	for _, name := range []string{"keys", "values", "entries", "getOwnPropertyNames", "getOwnPropertyDescriptors", "assign"} {
		what := "Object." + name
		s.replaceMethod(obj, name, func(orig goja.Callable) nativeFn {
			return func(call goja.FunctionCall) goja.Value {
				for _, a := range call.Arguments {
					s.checkStringProps(a, what)
				}
				return callThrough(orig, call.This, call.Arguments...)
			}
		})
	}
}

func (s *runState) checkStringProps(v goja.Value, what string) {
	if obj, ok := v.(*goja.Object); ok {
		if obj.ClassName() != "String" {
			return
		}
		v = obj.ToString()
	}
	if str, ok := v.(goja.String); ok {
		s.checkElems(float64(str.Length()), what)
	}
}

func (s *runState) checkArgList(v goja.Value, what string) {
	if obj, ok := v.(*goja.Object); ok {
		s.checkElems(arrayLikeLength(obj), what)
	}
}

// checkBuffer runs (through a Proxy construct trap set up by the bootstrap)
// before ArrayBuffer and typed-array constructors, which allocate their whole
// size in one Go call.
func (s *runState) checkBuffer(call goja.FunctionCall) goja.Value {
	name := call.Argument(0).String()
	bpe := call.Argument(1).ToFloat()
	args, _ := call.Argument(2).(*goja.Object)
	if args == nil {
		return goja.Undefined()
	}
	first := args.Get("0")
	var elems float64
	switch v := first.(type) {
	case *goja.Object:
		switch v.ClassName() {
		case "ArrayBuffer":
			return goja.Undefined() // a view over memory that already exists
		}
		elems = arrayLikeLength(v)
	case nil:
		elems = 0
	default:
		elems = v.ToFloat()
	}
	if name == "ArrayBuffer" {
		if opts, ok := args.Get("1").(*goja.Object); ok {
			if m := opts.Get("maxByteLength"); !isNullish(m) {
				elems = math.Max(elems, m.ToFloat())
			}
		}
	}
	if size := elems * bpe; size > float64(s.caps.bytes) {
		s.fatal(memoryError("new %s: %.0f bytes exceeds the sandbox limit of %d", name, size, s.caps.bytes))
	}
	return goja.Undefined()
}

// checkpointNext puts a checkpoint in an iterator prototype's next(): Array.from,
// spread, new Set(...) and Promise.all drive iterators from Go loops, and
// over a sparse array of length 1e9 they would otherwise never yield.
func (s *runState) checkpointNext(call goja.FunctionCall) goja.Value {
	proto, ok := call.Argument(0).(*goja.Object)
	if !ok {
		return goja.Undefined()
	}
	s.replaceMethod(proto, "next", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			s.checkpoint()
			return callThrough(orig, call.This, call.Arguments...)
		}
	})
	return goja.Undefined()
}
