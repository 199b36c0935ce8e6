package agentflow

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// EvalCondition reports whether one condition holds, with the semantics of Flowise's Condition
// node (packages/components/nodes/agentflow/Condition/Condition.ts):
//
//   - string: both values lose their markdown first (remove-markdown), then comparisons are
//     exact and case-sensitive, with no trimming. regex is a JavaScript RegExp built from
//     value2 (so value2 is markdown-stripped too) and searched anywhere in value1; an invalid
//     pattern is simply false.
//   - number: each value is JavaScript parseFloat of the text (leading number prefix, so "12abc"
//     is 12) with anything unparsable counting as 0. isEmpty is therefore always false and
//     notEmpty always true.
//   - boolean: the values are compared as given (as text here: "true" equals "true").
//
// Every type accepts every operation name, as in Flowise, where one table of comparisons
// serves all three: contains, notContains, startsWith, endsWith, equal, notEqual, regex,
// isEmpty, notEmpty, larger, largerEqual, smaller, smallerEqual (the last four compare
// Number(value) with unparsable text as 0). startsWith/endsWith on a number condition fail as
// they do in Flowise. An unknown operation is ErrUnknownOperation.
func EvalCondition(c Condition) (bool, error) {
	var a, b condValue
	switch c.Type {
	case ConditionBoolean:
		a, b = condText(c.Value1), condText(c.Value2)
	case ConditionNumber:
		a, b = condNum(condParseFloat(c.Value1)), condNum(condParseFloat(c.Value2))
	default:
		a, b = condText(condRemoveMarkdown(c.Value1)), condText(condRemoveMarkdown(c.Value2))
	}
	ok, err := condCompare(c.Operation, a, b)
	if err != nil {
		return false, fmt.Errorf("%s condition %q: %w", condTypeName(c.Type), c.Operation, err)
	}
	return ok, nil
}

func condTypeName(t string) string {
	if t == ConditionNumber || t == ConditionBoolean {
		return t
	}
	return ConditionString
}

// condValue is a JavaScript operand: a number (number conditions) or a string (the others).
type condValue struct {
	isNum bool
	num   float64
	str   string
}

func condText(s string) condValue     { return condValue{str: s} }
func condNum(f float64) condValue     { return condValue{isNum: true, num: f} }
func (v condValue) isEmptyText() bool { return !v.isNum && v.str == "" }

// orEmpty is String(v || ”): falsy values (0, NaN, "") read as "".
func (v condValue) orEmpty() string {
	if v.isNum {
		if v.num == 0 || math.IsNaN(v.num) {
			return ""
		}
		return varsJSNumber(v.num)
	}
	return v.str
}

// toNumber is Number(v) || 0.
func (v condValue) toNumber() float64 {
	f := v.num
	if !v.isNum {
		f = condToNumber(v.str)
	}
	if math.IsNaN(f) {
		return 0
	}
	return f
}

// condStrictEqual is ===.
func condStrictEqual(a, b condValue) bool {
	if a.isNum != b.isNum {
		return false
	}
	if a.isNum {
		return a.num == b.num // NaN never equals; -0 equals 0
	}
	return a.str == b.str
}

func condCompare(op string, a, b condValue) (bool, error) {
	switch op {
	case "contains":
		return strings.Contains(a.orEmpty(), b.orEmpty()), nil
	case "notContains":
		return !strings.Contains(a.orEmpty(), b.orEmpty()), nil
	case "startsWith", "endsWith":
		// Flowise calls value1.startsWith directly, which a number does not have.
		if a.isNum {
			return false, fmt.Errorf("value1 %s is a number, not text", varsJSNumber(a.num))
		}
		if op == "startsWith" {
			return strings.HasPrefix(a.str, b.jsString()), nil
		}
		return strings.HasSuffix(a.str, b.jsString()), nil
	case "equal":
		return condStrictEqual(a, b), nil
	case "notEqual":
		return !condStrictEqual(a, b), nil
	case "larger":
		return a.toNumber() > b.toNumber(), nil
	case "largerEqual":
		return a.toNumber() >= b.toNumber(), nil
	case "smaller":
		return a.toNumber() < b.toNumber(), nil
	case "smallerEqual":
		return a.toNumber() <= b.toNumber(), nil
	case "regex":
		return condRegexTest(b.jsString(), a.orEmpty()), nil
	case "isEmpty":
		return a.isEmptyText(), nil
	case "notEmpty":
		return !a.isEmptyText(), nil
	}
	return false, ErrUnknownOperation
}

// jsString is String(v).
func (v condValue) jsString() string {
	if v.isNum {
		return varsJSNumber(v.num)
	}
	return v.str
}

// condRegexTest is new RegExp(pattern).test(s), false when the pattern is not a valid
// JavaScript regular expression or the match gives up (Flowise wraps it in try/catch).
func condRegexTest(pattern, s string) bool {
	re, err := condCompileJS(pattern)
	if err != nil {
		return false
	}
	ok, err := re.MatchString(s)
	return err == nil && ok
}

// condFloatPrefix is the longest prefix JavaScript's parseFloat reads.
var condFloatPrefix = regexp.MustCompile(`^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`)

// condParseFloat is parseFloat(s) || 0: the number at the start of s after leading whitespace,
// 0 when there is none.
func condParseFloat(s string) float64 {
	m := condFloatPrefix.FindString(strings.TrimLeftFunc(s, varsIsJSSpace))
	if m == "" {
		return 0
	}
	f := condParseDecimal(m)
	if math.IsNaN(f) {
		return 0
	}
	return f
}

// condParseDecimal parses a decimal literal or [+-]Infinity, out-of-range values becoming
// ±Infinity or 0 as in JavaScript.
func condParseDecimal(s string) float64 {
	switch strings.TrimLeft(s, "+") {
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN()
	}
	return f // out of range, ParseFloat already gives ±Inf or ±0
}

var (
	condDecimalLiteral = regexp.MustCompile(`^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$`)
	condRadixLiteral   = regexp.MustCompile(`^0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)$`)
)

// condToNumber is JavaScript's Number(s) for a string: the whole trimmed text must be a number
// ("" is 0; "0x1A", "0o17" and "0b11" are accepted; anything else is NaN).
func condToNumber(s string) float64 {
	t := varsJSTrim(s)
	switch {
	case t == "":
		return 0
	case condDecimalLiteral.MatchString(t):
		return condParseDecimal(t)
	case condRadixLiteral.MatchString(t):
		base := 16
		switch t[1] | 0x20 { // lower case
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		n, ok := new(big.Int).SetString(t[2:], base)
		if !ok {
			return math.NaN()
		}
		f, _ := new(big.Float).SetInt(n).Float64()
		return f
	}
	return math.NaN()
}
