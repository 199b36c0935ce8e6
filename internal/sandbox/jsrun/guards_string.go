package jsrun

import (
	"math"

	"github.com/dop251/goja"
)

// guardStrings bounds String/RegExp built-ins whose result size is set by an
// argument rather than by data already in memory ('x'.repeat(2**30)), or
// grows faster than their input (replaceAll with a long replacement, split
// into one-character pieces).
func (s *runState) guardStrings() {
	proto := s.vm.Get("String").ToObject(s.vm).Get("prototype").ToObject(s.vm)
	s.replaceMethod(proto, "repeat", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			if isNullish(call.This) {
				return callThrough(orig, call.This, call.Arguments...)
			}
			str := jsString(call.This)
			count := call.Argument(0).ToNumber()
			if c := count.ToFloat(); c > 0 && !math.IsInf(c, 1) {
				s.checkStrLen(float64(str.Length())*math.Floor(c), "String.prototype.repeat")
			}
			return callThrough(orig, str, count)
		}
	})
	for _, name := range []string{"padStart", "padEnd"} {
		what := "String.prototype." + name
		s.replaceMethod(proto, name, func(orig goja.Callable) nativeFn {
			return func(call goja.FunctionCall) goja.Value {
				if isNullish(call.This) {
					return callThrough(orig, call.This, call.Arguments...)
				}
				str := jsString(call.This)
				target := call.Argument(0).ToNumber()
				if t := target.ToFloat(); t > float64(str.Length()) {
					s.checkStrLen(t, what)
				}
				return callThrough(orig, str, target, call.Argument(1))
			}
		})
	}
	s.replaceMethod(proto, "concat", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			if isNullish(call.This) {
				return callThrough(orig, call.This, call.Arguments...)
			}
			str := jsString(call.This)
			total := float64(str.Length())
			args := make([]goja.Value, len(call.Arguments))
			for i, a := range call.Arguments {
				as := jsString(a)
				total += float64(as.Length())
				args[i] = as
			}
			s.checkStrLen(total, "String.prototype.concat")
			return callThrough(orig, str, args...)
		}
	})
	s.replaceMethod(proto, "split", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			return s.cappedSplit(orig, call.This, call.Argument(0), call.Argument(1), "String.prototype.split")
		}
	})
	for _, name := range []string{"replace", "replaceAll"} {
		all := name == "replaceAll"
		s.replaceMethod(proto, name, func(orig goja.Callable) nativeFn {
			return func(call goja.FunctionCall) goja.Value {
				pattern, repl := call.Argument(0), call.Argument(1)
				// Patterns with a Symbol.replace method (RegExps) dispatch to
				// it, guarded below; everything else is matched as a string.
				if isNullish(call.This) || hasMethod(pattern, goja.SymReplace) {
					return callThrough(orig, call.This, call.Arguments...)
				}
				str := jsString(call.This)
				pat := jsString(pattern)
				matches := 1.0
				if all {
					matches = float64(str.Length()+1) / float64(max(pat.Length(), 1))
				}
				return callThrough(orig, str, pat, s.boundReplacement(str, repl, matches))
			}
		})
	}
	s.replaceMethod(s.vm.Get("String").ToObject(s.vm), "raw", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			// String.raw({raw: {length: 1e9}}) loops over the length in Go.
			if tmpl, ok := call.Argument(0).(*goja.Object); ok {
				if raw, ok := tmpl.Get("raw").(*goja.Object); ok {
					s.checkElems(arrayLikeLength(raw), "String.raw")
				}
			}
			return callThrough(orig, call.This, call.Arguments...)
		}
	})
	s.guardRegExp()
}

func hasMethod(v goja.Value, sym *goja.Symbol) bool {
	obj, ok := v.(*goja.Object)
	if !ok {
		return false
	}
	_, ok = goja.AssertFunction(obj.GetSymbol(sym))
	return ok
}

func (s *runState) guardRegExp() {
	proto := s.vm.Get("RegExp").ToObject(s.vm).Get("prototype").ToObject(s.vm)
	s.replaceSymbolMethod(proto, goja.SymReplace, "[Symbol.replace]", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			str := jsString(call.Argument(0))
			matches := 1.0
			if rx, ok := call.This.(*goja.Object); ok && rx.Get("global").ToBoolean() {
				matches = float64(str.Length() + 1)
			}
			return callThrough(orig, call.This, str, s.boundReplacement(str, call.Argument(1), matches))
		}
	})
	s.replaceSymbolMethod(proto, goja.SymSplit, "[Symbol.split]", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			return s.cappedSplitWith(orig, call.This, []goja.Value{call.Argument(0)}, call.Argument(1), "RegExp.prototype[Symbol.split]")
		}
	})
	s.replaceSymbolMethod(proto, goja.SymMatch, "[Symbol.match]", func(orig goja.Callable) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			// A global match returns every match at once, up to one per
			// character; bound the array by bounding the input.
			str := jsString(call.Argument(0))
			if rx, ok := call.This.(*goja.Object); ok && rx.Get("global").ToBoolean() {
				s.checkElems(float64(str.Length()+1), "global RegExp match")
			}
			return callThrough(orig, call.This, str)
		}
	})
}

// cappedSplit passes a limit of at most caps.elems+1, so the built-in stops
// by itself, then fails the run if the cap was reached.
func (s *runState) cappedSplit(orig goja.Callable, this, sep, limit goja.Value, what string) goja.Value {
	return s.cappedSplitWith(orig, this, []goja.Value{sep}, limit, what)
}

func (s *runState) cappedSplitWith(orig goja.Callable, this goja.Value, lead []goja.Value, limit goja.Value, what string) goja.Value {
	capped := float64(s.caps.elems + 1)
	if !goja.IsUndefined(limit) {
		capped = math.Min(capped, float64(uint32(limit.ToInteger())))
	}
	res := callThrough(orig, this, append(lead, s.vm.ToValue(capped))...)
	if obj, ok := res.(*goja.Object); ok {
		s.checkElems(arrayLikeLength(obj), what)
	}
	return res
}
