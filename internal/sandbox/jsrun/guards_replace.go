package jsrun

import "github.com/dop251/goja"

// boundReplacement returns what to pass to the built-in replace: the
// replacement itself when the worst-case result fits the string cap, or a
// native function that produces each substitution and counts as it goes.
// Function replacements are always counted, because returning the same big
// string for every match costs nothing per call but everything at the end.
func (s *runState) boundReplacement(str goja.String, repl goja.Value, matches float64) goja.Value {
	n := float64(str.Length())
	if fn, ok := goja.AssertFunction(repl); ok {
		return s.countingReplacer(n, func(args []goja.Value) goja.String {
			return jsString(callThrough(fn, goja.Undefined(), args...))
		})
	}
	r := jsString(repl)
	captureRefs, contextRefs := scanDollars(r)
	// Matches never overlap, so all $&/$n/$<name> expansions of one token
	// together copy at most the input once; $` and $' may copy it per match.
	bound := n + matches*float64(r.Length()) + captureRefs*n + contextRefs*matches*n
	if bound <= float64(s.caps.strLen) {
		return r
	}
	return s.countingReplacer(n, func(args []goja.Value) goja.String { return s.substitute(r, args) })
}

func (s *runState) countingReplacer(inputLen float64, produce func([]goja.Value) goja.String) goja.Value {
	total := inputLen
	return s.newFunc("replacer", 1, func(call goja.FunctionCall) goja.Value {
		s.checkpoint()
		piece := produce(call.Arguments)
		total += float64(piece.Length())
		s.checkStrLen(total, "String.prototype.replace")
		return piece
	})
}

// scanDollars counts substitution tokens in a replacement pattern.
func scanDollars(r goja.String) (captureRefs, contextRefs float64) {
	for i := 0; i+1 < r.Length(); i++ {
		if r.CharAt(i) != '$' {
			continue
		}
		switch c := r.CharAt(i + 1); {
		case c == '$':
			i++
		case c == '&' || c == '<' || (c >= '0' && c <= '9'):
			captureRefs++
		case c == '`' || c == '\'':
			contextRefs++
		}
	}
	return captureRefs, contextRefs
}

// substitute implements GetSubstitution (ECMA-262 22.1.3.19.1) for the
// arguments a replace callback receives: (match, p1..pn, position, string[, groups]).
func (s *runState) substitute(r goja.String, args []goja.Value) goja.String {
	var groups *goja.Object
	if g, ok := args[len(args)-1].(*goja.Object); ok {
		groups, args = g, args[:len(args)-1]
	}
	matched := jsString(args[0])
	str := jsString(args[len(args)-1])
	pos := int(args[len(args)-2].ToInteger())
	captures := args[1 : len(args)-2]
	capture := func(k int) goja.String {
		if v := captures[k-1]; !isNullish(v) {
			return jsString(v)
		}
		return s.vm.ToValue("").(goja.String)
	}

	var b goja.StringBuilder
	for i := 0; i < r.Length(); i++ {
		if r.CharAt(i) != '$' || i+1 >= r.Length() {
			b.WriteSubstring(r, i, i+1)
			continue
		}
		switch c := r.CharAt(i + 1); {
		case c == '$':
			b.WriteSubstring(r, i, i+1)
			i++
		case c == '&':
			b.WriteString(matched)
			i++
		case c == '`':
			b.WriteString(str.Substring(0, min(pos, str.Length())))
			i++
		case c == '\'':
			b.WriteString(str.Substring(min(pos+matched.Length(), str.Length()), str.Length()))
			i++
		case c >= '0' && c <= '9':
			d := int(c - '0')
			if i+2 < r.Length() {
				if c2 := r.CharAt(i + 2); c2 >= '0' && c2 <= '9' {
					if nn := d*10 + int(c2-'0'); nn >= 1 && nn <= len(captures) {
						b.WriteString(capture(nn))
						i += 2
						continue
					}
				}
			}
			if d >= 1 && d <= len(captures) {
				b.WriteString(capture(d))
				i++
				continue
			}
			b.WriteSubstring(r, i, i+1)
		case c == '<' && groups != nil:
			end := -1
			for j := i + 2; j < r.Length(); j++ {
				if r.CharAt(j) == '>' {
					end = j
					break
				}
			}
			if end < 0 {
				b.WriteSubstring(r, i, i+1)
				continue
			}
			if v := groups.Get(r.Substring(i+2, end).String()); !isNullish(v) {
				b.WriteString(jsString(v))
			}
			i = end
		default:
			b.WriteSubstring(r, i, i+1)
		}
	}
	return b.String()
}
