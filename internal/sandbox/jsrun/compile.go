package jsrun

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/dop251/goja"
	gojaast "github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// scriptName appears in stack traces and syntax errors.
const scriptName = "custom-function.js"

// wrapperHead goes on the same line as the first line of user code so that
// reported line numbers match the code the user wrote. Like Flowise, the
// body becomes an async function, so top-level await and return work.
const (
	wrapperHead = "(async function() {"
	wrapperTail = "\n})()"
)

// compile parses the user code with source maps disabled: otherwise a
// "//# sourceMappingURL=/some/file" comment makes goja read that file from
// disk while parsing (with /dev/zero, forever).
func compile(code string) (prg *goja.Program, err error) {
	defer func() {
		// The compiler re-panics on anything but syntax errors; a goja bug
		// must not take the worker down.
		if x := recover(); x != nil {
			prg, err = nil, fmt.Errorf("jsrun: compile: internal error: %v", x)
		}
	}()
	if err := checkNesting(code); err != nil {
		return nil, err
	}
	ast, err := goja.Parse(scriptName, wrapperHead+code+wrapperTail, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err)
	}
	// Checked before compiling: the compiler folds constant expressions, so 3n ** 10n ** 8n
	// would run inside CompileAST, before any deadline is armed.
	if lit, ok := findBigInt(reflect.ValueOf(ast), map[uintptr]bool{}); ok {
		return nil, &ScriptError{Name: "SyntaxError", Message: fmt.Sprintf(
			"BigInt literal %s at %s: BigInt is not available in this sandbox (its arithmetic cannot be bounded)",
			lit.Literal, ast.File.Position(int(lit.Idx)-1))}
	}
	prg, err = goja.CompileAST(ast, false)
	if err != nil {
		return nil, syntaxError(err)
	}
	return prg, nil
}

func syntaxError(err error) error {
	msg := err.Error()
	var ce *goja.CompilerSyntaxError
	if errors.As(err, &ce) {
		msg = ce.Error()
	}
	msg = strings.TrimPrefix(msg, "SyntaxError: ")
	se := &ScriptError{Name: "SyntaxError", Message: msg}
	if strings.Contains(msg, "Unexpected reserved word") {
		se.Message += " (ES modules and import() are not available; the code runs as the body of an async function)"
	}
	return se
}

// findBigInt looks through the syntax tree for a BigInt literal. goja's ast package has no
// walker, so this follows every pointer, interface, slice and struct field; seen guards
// against shared or cyclic pointers.
var numberLiteral = reflect.TypeFor[*gojaast.NumberLiteral]()

func findBigInt(v reflect.Value, seen map[uintptr]bool) (*gojaast.NumberLiteral, bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return nil, false
		}
		seen[v.Pointer()] = true
		if v.Type() == numberLiteral {
			lit := v.Interface().(*gojaast.NumberLiteral)
			_, big := lit.Value.(*big.Int)
			return lit, big
		}
		return findBigInt(v.Elem(), seen)
	case reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return findBigInt(v.Elem(), seen)
	case reflect.Slice:
		for i := range v.Len() {
			if lit, ok := findBigInt(v.Index(i), seen); ok {
				return lit, true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue // the syntax tree is all exported fields; the rest is bookkeeping
			}
			if lit, ok := findBigInt(v.Field(i), seen); ok {
				return lit, true
			}
		}
	}
	return nil, false
}
