package jsrun

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
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
	ast, err := goja.Parse(scriptName, wrapperHead+code+wrapperTail, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err)
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
