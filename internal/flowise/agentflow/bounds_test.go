package agentflow_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
)

// Parse runs for every prediction of a stored flow, whose flowData may be as large as a
// request body (50 MB by default). It looked nodes up by scanning the list, so a flow of n
// nodes took n² steps: these two flows of 30,000 nodes and as many sticky notes took 20 s,
// and the depth-first search nested 30,000 calls. Now it is linear and keeps its own stack.
func TestParseLargeFlows(t *testing.T) {
	const n = 30000
	nodes := make([]string, 0, 2*n+1)
	nodes = append(nodes, `{"id":"s","data":{"name":"startAgentflow"}}`)
	edges := make([]string, 0, 2*n)
	for i := range n {
		nodes = append(nodes, fmt.Sprintf(`{"id":"n%d"}`, i), fmt.Sprintf(`{"id":"note%d","data":{"name":"stickyNoteAgentflow"}}`, i))
		if i > 0 {
			edges = append(edges, fmt.Sprintf(`{"source":"n%d","target":"n%d"}`, i-1, i))
		}
		edges = append(edges, fmt.Sprintf(`{"source":"note%d","target":"n%d"}`, n-1-i, i))
	}
	chain := `{"nodes":[` + strings.Join(nodes, ",") + `],"edges":[` + strings.Join(edges, ",") + `]}`
	cycle := strings.TrimSuffix(chain, "]}") + fmt.Sprintf(`,{"source":"n%d","target":"n0"}]}`, n-1)

	start := time.Now()
	g, err := agentflow.Parse(chain)
	require.NoError(t, err)
	require.Len(t, g.Nodes, n+1)
	require.Len(t, g.Edges, n-1)
	_, err = agentflow.Parse(cycle)
	require.ErrorContains(t, err, "the flow has a cycle through n0")
	require.Less(t, time.Since(start), 5*time.Second)
}
