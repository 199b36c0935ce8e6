package tools

import (
	"context"
	"time"

	"github.com/flowgate/flowgate/workflows/node"
)

// CurrentDateTime tells the model the date and time, in UTC.
func (t *Tools) CurrentDateTime() Tool {
	return Tool{
		Offer: fixed("current_date_time", "Useful to get current day, date and time.", `{"type":"object","properties":{}}`),
		Run: func(context.Context, node.ToolRequest) (string, error) {
			return time.Now().UTC().Format(time.RFC3339), nil
		},
	}
}
