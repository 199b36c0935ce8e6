package api

import (
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// planCache keeps compiled plans by chatflow id and version, so a hot flow is not reparsed on
// every prediction. An edited flow has a new updatedDate and so a new entry.
type planCache struct {
	mu    sync.Mutex
	limit int
	plans map[planKey]*chatflow.Plan
}

type planKey struct {
	id      string
	updated time.Time
}

func newPlanCache(limit int) *planCache {
	return &planCache{limit: limit, plans: map[planKey]*chatflow.Plan{}}
}

// get returns the compiled plan of f; plans are shared and must not be modified.
func (pc *planCache) get(f *models.ChatFlow) (*chatflow.Plan, error) {
	key := planKey{f.ID, f.UpdatedDate}
	pc.mu.Lock()
	p, ok := pc.plans[key]
	pc.mu.Unlock()
	if ok {
		return p, nil
	}
	g, err := chatflow.Parse(f.FlowData)
	if err != nil {
		return nil, err
	}
	p, err = chatflow.Compile(g, node.InChatflow)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.plans) >= pc.limit {
		// Flows rarely number in the hundreds; dropping everything is simpler than LRU
		// bookkeeping and costs one recompile per flow.
		clear(pc.plans)
	}
	pc.plans[key] = p
	return p, nil
}
