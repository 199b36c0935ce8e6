package tools

import (
	"context"
	"strings"
	"time"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/workflows/node"
)

// maxExpression bounds the calculator's input.
const maxExpression = 1000

// Calculator evaluates an arithmetic expression. Only digits, operators, parentheses and
// spaces reach the JavaScript sandbox, so the expression can be nothing but arithmetic.
func (t *Tools) Calculator() Tool {
	return Tool{
		Offer: fixed("calculator", "Useful for getting the result of a math expression. The input to this tool should be a valid mathematical expression.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the expression"}},"required":["input"]}`),
		Run: func(ctx context.Context, req node.ToolRequest) (string, error) {
			a, err := callArgs(req.Call)
			if err != nil {
				return "", err
			}
			expr, _ := a["input"].(string)
			// The expression comes from the model, which anyone chatting steers: short and
			// arithmetic only, so it cannot nest or chain deep enough to cost the compiler.
			if len(expr) > maxExpression {
				return "", nodekit.FlowError("calculator: the expression is %d characters long; at most %d are allowed", len(expr), maxExpression)
			}
			if strings.TrimSpace(expr) == "" || strings.Trim(expr, "0123456789.+-*/%() ") != "" {
				return "", nodekit.FlowError("calculator: %q is not an arithmetic expression", expr)
			}
			return jsrun.RunString(ctx, "return ("+expr+");", jsrun.Env{}, jsrun.Limits{Timeout: time.Second})
		},
	}
}
