package jsrun

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/dop251/goja"
)

var locationRe = regexp.MustCompile(regexp.QuoteMeta(scriptName) + `:\d+:\d+`)

// scriptError converts an error out of goja. A stop (deadline, memory)
// always wins: the exception that unwound the VM is only its symptom.
func (s *runState) scriptError(err error) error {
	if s.stopped.Load() {
		return s.stopErr
	}
	var interrupted *goja.InterruptedError
	if errors.As(err, &interrupted) {
		if e, ok := interrupted.Value().(error); ok {
			return e
		}
		return timeoutError("interrupted")
	}
	var overflow *goja.StackOverflowError
	if errors.As(err, &overflow) {
		return &ScriptError{Name: "RangeError", Message: "Maximum call stack size exceeded"}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return s.rejection(ex.Value(), ex)
	}
	return fmt.Errorf("jsrun: %w", err)
}

// rejection converts a thrown or rejected JavaScript value. Errors the
// sandbox raised on behalf of Go (forbidden operations, fetch failures) map
// back to their Go error so errors.Is works for callers.
func (s *runState) rejection(val goja.Value, ex *goja.Exception) error {
	if s.stopped.Load() {
		return s.stopErr
	}
	obj, isObj := val.(*goja.Object)
	if isObj {
		if goErr, ok := s.hostErrs[obj]; ok {
			return goErr
		}
	}
	se := &ScriptError{Name: "Uncaught"}
	describe := func() {
		switch {
		case isObj && obj.ClassName() == "Error":
			se.Name = obj.Get("name").String()
			se.Message = obj.Get("message").String()
			if st := obj.Get("stack"); !isNullish(st) {
				se.Stack = st.String()
			}
		case isObj:
			// throw {code: 42}: JSON says more than "[object Object]".
			if js, err := s.stringify(obj, goja.Undefined(), goja.Undefined()); err == nil && !goja.IsUndefined(js) {
				se.Message = js.String()
			} else {
				se.Message = val.String()
			}
		default:
			se.Message = val.String()
		}
	}
	if jsErr := s.vm.Try(describe); jsErr != nil {
		se.Message = "(error while describing the thrown value)"
	}
	if se.Stack == "" && ex != nil {
		se.Stack = ex.String()
	}
	se.Location = locationRe.FindString(se.Stack)
	return se
}
