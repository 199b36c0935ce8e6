package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/flowgate/flowgate/api"
)

func TestTimingDebug(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-bench"})
	flowID := h.createFlow("bench", h.loadFlow("llm-chain.json", cred), nil)
	for i := 0; i < 15; i++ {
		s := time.Now()
		ans := h.predict(flowID, map[string]any{"question": "hello"})
		fmt.Println("took", time.Since(s))
		iter := h.app.Temporal().GetWorkflowHistory(context.Background(), api.WorkflowID(flowID, ans.ChatID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var prev time.Time
		for iter.HasNext() {
			ev, _ := iter.Next()
			tm := ev.GetEventTime().AsTime()
			if !prev.IsZero() {
				fmt.Printf("  +%6.1fms %s\n", float64(tm.Sub(prev).Microseconds())/1000, ev.GetEventType())
			}
			prev = tm
		}
	}
}
