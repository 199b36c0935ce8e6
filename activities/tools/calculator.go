package tools

import (
	"context"
	"strings"
	"time"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/workflows/node"
)

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
			if strings.TrimSpace(expr) == "" || strings.Trim(expr, "0123456789.+-*/%() ") != "" {
				return "", nodekit.FlowError("calculator: %q is not an arithmetic expression", expr)
			}
			return jsrun.RunString(ctx, "return ("+expr+");", jsrun.Env{}, jsrun.Limits{Timeout: time.Second})
		},
	}
}
