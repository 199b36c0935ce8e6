package jsrun

import (
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// consoleBudgetFactor × MaxOutput is the total console output a run may
// produce; past it messages are dropped, so a logging loop cannot flood the
// host's logs.
const consoleBudgetFactor = 4

func (s *runState) installConsole() {
	console := s.vm.NewObject()
	for _, level := range []string{"log", "info", "warn", "error", "debug", "trace"} {
		lvl := level
		_ = console.Set(level, s.newFunc(level, 0, func(call goja.FunctionCall) goja.Value {
			s.log(lvl, call.Arguments)
			return goja.Undefined()
		}))
	}
	_ = s.vm.Set("console", console)
}

func (s *runState) log(level string, args []goja.Value) {
	if s.env.Console == nil || s.closed.Load() {
		return
	}
	budget := consoleBudgetFactor * s.lim.MaxOutput
	if s.consoleBytes >= budget {
		return
	}
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.formatLogArg(a))
		if b.Len() > s.lim.MaxOutput {
			break
		}
	}
	msg := truncateUTF8(b.String(), s.lim.MaxOutput)
	s.consoleBytes += len(msg)
	if s.consoleBytes >= budget {
		msg += " [console output limit reached; further messages dropped]"
	}
	s.env.Console(level, msg)
}

// formatLogArg renders like a terse util.inspect: strings raw, errors with
// their stack, objects as JSON.
func (s *runState) formatLogArg(v goja.Value) string {
	obj, ok := v.(*goja.Object)
	if !ok {
		return v.String()
	}
	if obj.ClassName() == "Error" {
		if st := obj.Get("stack"); !isNullish(st) {
			return st.String()
		}
		return obj.String()
	}
	if _, callable := goja.AssertFunction(obj); callable {
		return "[Function]"
	}
	js, err := s.stringify(obj, goja.Undefined(), goja.Undefined())
	if err != nil || goja.IsUndefined(js) {
		return "[object " + obj.ClassName() + "]"
	}
	return js.String()
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
