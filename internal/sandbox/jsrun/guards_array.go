package jsrun

import (
	"strconv"

	"github.com/dop251/goja"
)

// Array methods left alone by the generic length guard: their cost does not
// grow with length, they are replaced below, or they return iterators whose
// next() carries a checkpoint.
var arrayUnguarded = map[string]bool{
	"constructor": true, "push": true, "pop": true, "at": true,
	"values": true, "keys": true, "entries": true, "toString": true,
	"join": true, "flat": true, "flatMap": true, "concat": true,
}

// guardArrays bounds Array built-ins. A sparse array (new Array(1e9)) or an
// array-like ({length: 1e9}) costs nothing to create, but fill, indexOf,
// sort... then loop over the whole length inside Go where no interrupt
// reaches; so the length is checked before the built-in starts.
func (s *runState) guardArrays() {
	arrayCtor := s.vm.Get("Array").ToObject(s.vm)
	proto := arrayCtor.Get("prototype").ToObject(s.vm)
	for _, name := range proto.GetOwnPropertyNames() {
		if arrayUnguarded[name] {
			continue
		}
		what := "Array.prototype." + name
		s.replaceMethod(proto, name, func(orig goja.Callable) nativeFn {
			return func(call goja.FunctionCall) goja.Value {
				if !isNullish(call.This) {
					s.checkElems(arrayLikeLength(call.This.ToObject(s.vm)), what)
				}
				return callThrough(orig, call.This, call.Arguments...)
			}
		})
	}
	s.replaceMethod(proto, "concat", s.guardConcat)
	join := s.newFunc("join", 1, s.arrayJoin)
	_ = proto.DefineDataProperty("join", join, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	// %TypedArray%.prototype.join has the same separator amplification.
	typedProto := s.vm.Get("Uint8Array").ToObject(s.vm).Get("prototype").ToObject(s.vm).Prototype()
	_ = typedProto.DefineDataProperty("join", join, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = proto.DefineDataProperty("flat", s.newFunc("flat", 0, s.arrayFlat), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = proto.DefineDataProperty("flatMap", s.newFunc("flatMap", 1, s.arrayFlatMap), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)

	s.replaceMethod(arrayCtor, "from", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			// Iterables are bounded by the checkpoints in next(); array-likes
			// are walked by index, so check their length up front.
			if obj, ok := call.Argument(0).(*goja.Object); ok && isNullish(obj.GetSymbol(goja.SymIterator)) {
				s.checkElems(arrayLikeLength(obj), "Array.from")
			}
			return callThrough(orig, call.This, call.Arguments...)
		}
	})
}

func (s *runState) guardConcat(orig goja.Callable) nativeFn {
	return func(call goja.FunctionCall) goja.Value {
		total := 0.0
		for _, v := range append([]goja.Value{call.This}, call.Arguments...) {
			if obj, ok := v.(*goja.Object); ok && s.isConcatSpreadable(obj) {
				total += arrayLikeLength(obj)
			} else {
				total++
			}
		}
		s.checkElems(total, "Array.prototype.concat")
		return callThrough(orig, call.This, call.Arguments...)
	}
}

func (s *runState) isConcatSpreadable(obj *goja.Object) bool {
	if v := obj.GetSymbol(goja.SymIsConcatSpreadable); !isNullish(v) {
		return v.ToBoolean()
	}
	return s.isArray(obj)
}

func (s *runState) isArray(v goja.Value) bool {
	r, err := s.intrinsics.isArray(goja.Undefined(), v)
	if err != nil {
		panic(err)
	}
	return r.ToBoolean()
}

// arrayJoin reimplements Array.prototype.join so the size of the result is
// known while it is built: elements may be references to one big string
// ([big, big, ...].join()) or objects whose toString returns one, so the
// inputs' size says nothing about the output's.
func (s *runState) arrayJoin(call goja.FunctionCall) goja.Value {
	obj := call.This.ToObject(s.vm)
	n := arrayLikeLength(obj)
	s.checkElems(n, "Array.prototype.join")
	var sep goja.String = s.vm.ToValue(",").(goja.String)
	if arg := call.Argument(0); !goja.IsUndefined(arg) {
		sep = jsString(arg)
	}
	if n > 1 {
		s.checkStrLen((n-1)*float64(sep.Length()), "Array.prototype.join")
	}
	// Cycles join as "" (as in V8); deep nesting recurses through Go, so it
	// is bounded like a call stack.
	for _, o := range s.joinStack {
		if o == obj {
			return s.vm.ToValue("")
		}
	}
	if len(s.joinStack) >= s.caps.depth {
		panic(s.newError(s.intrinsics.rangeError, "Maximum call stack size exceeded"))
	}
	s.joinStack = append(s.joinStack, obj)
	defer func() { s.joinStack = s.joinStack[:len(s.joinStack)-1] }()

	var b goja.StringBuilder
	total := 0.0
	for i := 0; i < int(n); i++ {
		s.checkpoint()
		if i > 0 {
			b.WriteString(sep)
			total += float64(sep.Length())
		}
		v := obj.Get(strconv.Itoa(i))
		if isNullish(v) {
			continue
		}
		str := jsString(v)
		total += float64(str.Length())
		s.checkStrLen(total, "Array.prototype.join")
		b.WriteString(str)
	}
	return b.String()
}
