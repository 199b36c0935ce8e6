package jsrun

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// intrinsics are originals captured before any user code runs, so guards
// and error construction keep working whatever the script reassigns.
type intrinsics struct {
	errorCtor  *goja.Object
	rangeError *goja.Object
	typeError  *goja.Object
	evalError  *goja.Object
	stringify  goja.Callable
	parse      goja.Callable
	isArray    goja.Callable
}

// regexpMatchTimeout bounds one regexp2 match. goja falls back to regexp2
// (a backtracking engine) for lookarounds and backreferences, and its match
// loop is Go code no interrupt reaches: /^(a+)+\1$/ on a short string would
// otherwise burn a core long after the run has been abandoned. goja treats
// a timed-out match as "no match".
const regexpMatchTimeout = 2 * time.Second

var regexpTimeoutOnce sync.Once

// limitRegexpBacktracking sets regexp2's process-wide default, but only if
// nothing else in the process has chosen one.
func limitRegexpBacktracking() {
	regexpTimeoutOnce.Do(func() {
		if regexp2.DefaultMatchTimeout == time.Duration(math.MaxInt64) {
			regexp2.DefaultMatchTimeout = regexpMatchTimeout
		}
	})
}

// install prepares a fresh runtime: limits, lockdown, guards, host API and
// inputs, in that order, so that the host API is built on guarded built-ins.
func (s *runState) install() error {
	vm := s.vm
	vm.SetMaxCallStackSize(maxCallStack)
	vm.SetParserOptions(parser.WithDisableSourceMaps)
	if err := s.captureIntrinsics(); err != nil {
		return err
	}
	s.guardArrays()
	s.guardStrings()
	s.guardJSON()
	s.guardCalls()
	s.guardObjectStatics()
	if err := s.runBootstrap(); err != nil {
		return err
	}
	s.installHostAPI()
	return s.installInputs()
}

func (s *runState) captureIntrinsics() error {
	vm := s.vm
	ctor := func(name string) *goja.Object { return vm.Get(name).ToObject(vm) }
	json := ctor("JSON")
	stringify, ok1 := goja.AssertFunction(json.Get("stringify"))
	parse, ok2 := goja.AssertFunction(json.Get("parse"))
	isArray, ok3 := goja.AssertFunction(ctor("Array").Get("isArray"))
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("jsrun: runtime is missing JSON or Array.isArray")
	}
	s.intrinsics = intrinsics{
		errorCtor:  ctor("Error"),
		rangeError: ctor("RangeError"),
		typeError:  ctor("TypeError"),
		evalError:  ctor("EvalError"),
		stringify:  stringify,
		parse:      parse,
		isArray:    isArray,
	}
	return nil
}

func (s *runState) runBootstrap() error {
	fnVal, err := s.vm.RunProgram(bootstrapProgram)
	if err != nil {
		return fmt.Errorf("jsrun: sandbox bootstrap: %w", err)
	}
	fn, ok := goja.AssertFunction(fnVal)
	if !ok {
		return fmt.Errorf("jsrun: sandbox bootstrap did not return a function")
	}
	h := s.vm.NewObject()
	noCodegen := func(goja.FunctionCall) goja.Value {
		s.throwCodegen()
		return nil
	}
	_ = h.Set("noCodegen", noCodegen)
	_ = h.Set("noEval", s.newFunc("eval", 1, noCodegen))
	_ = h.Set("checkBuffer", s.checkBuffer)
	_ = h.Set("checkpointNext", s.checkpointNext)
	if _, err := fn(goja.Undefined(), h); err != nil {
		return fmt.Errorf("jsrun: sandbox bootstrap: %w", err)
	}
	return nil
}

// throwCodegen raises an EvalError like V8 does when code generation from
// strings is disallowed (which is also what Flowise's vm2 sandbox does).
func (s *runState) throwCodegen() {
	const msg = "code generation from strings (eval, Function) is not allowed in the sandbox"
	obj := s.newError(s.intrinsics.evalError, msg)
	s.hostErrs[obj] = fmt.Errorf("%w: %s", ErrForbidden, msg)
	panic(obj)
}
