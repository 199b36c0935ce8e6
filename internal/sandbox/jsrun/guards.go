package jsrun

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dop251/goja"
)

// nativeFn is the shape of every Go function exposed to JavaScript. Only
// such functions are exposed: never Go structs, maps or methods, which goja
// would wrap through reflection.
type nativeFn = func(goja.FunctionCall) goja.Value

// newFunc turns fn into a JavaScript function with the given name/length.
func (s *runState) newFunc(name string, length int, fn nativeFn) *goja.Object {
	obj := s.vm.ToValue(fn).(*goja.Object)
	_ = obj.DefineDataProperty("name", s.vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = obj.DefineDataProperty("length", s.vm.ToValue(length), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return obj
}

// replaceMethod swaps obj[name] for the native returned by build, which
// receives the original. The original stays reachable only from Go, so
// scripts cannot call around the guard.
func (s *runState) replaceMethod(obj *goja.Object, name string, build func(orig goja.Callable) nativeFn) {
	origVal := obj.Get(name)
	orig, ok := goja.AssertFunction(origVal)
	if !ok {
		return
	}
	length := int(origVal.ToObject(s.vm).Get("length").ToInteger())
	_ = obj.DefineDataProperty(name, s.newFunc(name, length, build(orig)), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// replaceSymbolMethod is replaceMethod for symbol-keyed methods.
func (s *runState) replaceSymbolMethod(obj *goja.Object, sym *goja.Symbol, name string, build func(orig goja.Callable) nativeFn) {
	origVal := obj.GetSymbol(sym)
	orig, ok := goja.AssertFunction(origVal)
	if !ok {
		return
	}
	length := int(origVal.ToObject(s.vm).Get("length").ToInteger())
	_ = obj.DefineDataPropertySymbol(sym, s.newFunc(name, length, build(orig)), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// callThrough calls orig and rethrows its exception as our own, so guards
// are transparent to try/catch in the script.
func callThrough(orig goja.Callable, this goja.Value, args ...goja.Value) goja.Value {
	v, err := orig(this, args...)
	if err != nil {
		panic(err)
	}
	return v
}

// fatal stops the run with err and unwinds the current native call. The
// thrown RangeError could be caught, but the interrupt flag set by stop
// fails the very next instruction, so limits cannot be swallowed.
func (s *runState) fatal(err error) {
	s.stop(err)
	panic(s.newError(s.intrinsics.rangeError, err.Error()))
}

// checkpoint aborts a long native loop once the run has been stopped (by the
// deadline or the memory watchdog); goja only honours interrupts between
// JavaScript instructions, so without this a loop inside a built-in would
// run to completion.
func (s *runState) checkpoint() {
	if s.stopped.Load() {
		panic(s.newError(s.intrinsics.rangeError, "execution stopped: "+s.stopErr.Error()))
	}
}

func (s *runState) newError(ctor *goja.Object, msg string) *goja.Object {
	obj, err := s.vm.New(ctor, s.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	return obj
}

// throwForbidden raises an Error the script may catch; if it escapes, Run
// returns an error wrapping ErrForbidden.
func (s *runState) throwForbidden(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	obj := s.newError(s.intrinsics.errorCtor, msg)
	s.hostErrs[obj] = fmt.Errorf("%w: %s", ErrForbidden, msg)
	panic(obj)
}

// checkElems fails the run when a built-in would walk or build n elements.
func (s *runState) checkElems(n float64, what string) {
	if n > float64(s.caps.elems) {
		s.fatal(memoryError("%s: length %.0f exceeds the sandbox limit of %d elements", what, n, s.caps.elems))
	}
}

// checkStrLen fails the run when a built-in would build a string of n units.
func (s *runState) checkStrLen(n float64, what string) {
	if n > float64(s.caps.strLen) {
		s.fatal(memoryError("%s: result of %.0f characters exceeds the sandbox limit of %d", what, n, s.caps.strLen))
	}
}

// arrayLikeLength is ToLength(obj.length) as a float so that absurd values
// (2**53) compare correctly.
func arrayLikeLength(obj *goja.Object) float64 {
	v := obj.Get("length")
	if v == nil {
		return 0
	}
	n := v.ToFloat()
	if math.IsNaN(n) || n <= 0 {
		return 0
	}
	return math.Floor(n)
}

func isNullish(v goja.Value) bool {
	return v == nil || goja.IsUndefined(v) || goja.IsNull(v)
}

// jsString converts v with ToString and returns the goja string, whose
// Length is in UTF-16 units like JavaScript's.
func jsString(v goja.Value) goja.String {
	return v.ToString().(goja.String)
}

func itoa(i int) string { return strconv.Itoa(i) }
