package agentflow

import "slices"

// Status of a node within one pass over a scope.
type Status int

// Statuses. A node is Pending until it is started; Skipped when every input it could get came
// from a branch that was not taken (or from a skipped node).
const (
	Pending Status = iota
	Running
	Done
	Skipped
)

// Schedule decides which nodes of one scope (the top level, or one item of an iteration) run
// next. A node runs once every edge into it is resolved (its source is done or skipped) and at
// least one of them is active: its source is done and, when the source is a decision node,
// the edge is on a branch the decision chose. So a node waits for all its parents, a node after
// two exclusive branches runs after whichever was taken, and a node only reachable through
// branches not taken is skipped, and with it what only it feeds.
//
// Schedule holds no I/O and no clock; the workflow drives it and records results in history,
// so replaying the same results rebuilds the same schedule.
type Schedule struct {
	g      *Graph
	scope  string
	nodes  []string // the scope's nodes, in file order
	status map[string]Status
	chosen map[string][]int // decision node → branches it enabled
	loops  map[string]int   // loop node → times it has jumped back
}

// NewSchedule starts a pass over scope: "" for the top level (it starts at the Start node) or
// an iteration node's id (it starts at the children no other child feeds).
func (g *Graph) NewSchedule(scope string) *Schedule {
	s := &Schedule{g: g, scope: scope, status: map[string]Status{}, chosen: map[string][]int{}, loops: map[string]int{}}
	for _, n := range g.Nodes {
		if n.Parent == scope {
			s.nodes = append(s.nodes, n.ID)
		}
	}
	return s
}

// Status reports a node's status in this pass.
func (s *Schedule) Status(id string) Status { return s.status[id] }

// Ready returns the pending nodes that can start now, in file order, after marking as skipped
// every node that can no longer run.
func (s *Schedule) Ready() []string {
	for s.skipUnreachable() {
	}
	var ready []string
	for _, id := range s.nodes {
		if s.status[id] != Pending {
			continue
		}
		resolved, active, inputs := s.inputs(id)
		if (inputs == 0 && s.isRoot(id)) || (resolved && active) {
			ready = append(ready, id)
		}
	}
	return ready
}

// isRoot reports where a pass begins: the Start node at the top level; inside an iteration,
// every child that no other child feeds.
func (s *Schedule) isRoot(id string) bool {
	if s.scope == "" {
		return id == s.g.Start
	}
	return true
}

// inputs reports whether every edge into id is resolved, whether one is active, and how many
// edges there are.
func (s *Schedule) inputs(id string) (resolved, active bool, n int) {
	resolved = true
	for _, e := range s.g.Edges {
		if e.Target != id {
			continue
		}
		n++
		switch s.status[e.Source] {
		case Done:
			if e.Branch < 0 || !s.isDecision(e.Source) || slices.Contains(s.chosen[e.Source], e.Branch) {
				active = true
			}
		case Skipped:
		default:
			resolved = false
		}
	}
	return resolved, active, n
}

func (s *Schedule) isDecision(id string) bool {
	n, _ := s.g.Node(id)
	return IsDecision(n.Kind)
}

// skipUnreachable marks one round of pending nodes whose inputs are all resolved and none
// active; it reports whether it marked any.
func (s *Schedule) skipUnreachable() bool {
	changed := false
	for _, id := range s.nodes {
		if s.status[id] != Pending {
			continue
		}
		resolved, active, n := s.inputs(id)
		if n > 0 && resolved && !active {
			s.status[id] = Skipped
			changed = true
		}
	}
	return changed
}

// Start marks a node as running.
func (s *Schedule) Start(id string) { s.status[id] = Running }

// Done records a finished node. A decision node passes the output branches it enabled (a
// condition's first fulfilled one or its else branch; a human's proceed 0 or reject 1).
func (s *Schedule) Done(id string, branches ...int) {
	s.status[id] = Done
	if len(branches) > 0 {
		s.chosen[id] = slices.Clone(branches)
	}
}

// LoopBack is what a loop node does when it runs: while it has jumped back fewer than its
// maxLoopCount times, the target and every node downstream of it become pending again, and
// LoopBack returns the target; after that it returns false and the loop ends its path (with
// its fallback message).
func (s *Schedule) LoopBack(loopID string) (string, bool) {
	loop, _ := s.g.Node(loopID)
	target, err := s.g.LoopTarget(loop)
	if err != nil || s.loops[loopID] >= MaxLoopCount(loop) {
		return "", false
	}
	s.loops[loopID]++
	for _, id := range s.downstream(target) {
		s.status[id] = Pending
		delete(s.chosen, id)
	}
	// The target runs again whatever its inputs: the loop is its input now.
	s.status[target] = Running
	return target, true
}

// downstream lists id and every node reachable from it by edges, in file order.
func (s *Schedule) downstream(id string) []string {
	seen := map[string]bool{id: true}
	for changed := true; changed; {
		changed = false
		for _, e := range s.g.Edges {
			if seen[e.Source] && !seen[e.Target] {
				seen[e.Target] = true
				changed = true
			}
		}
	}
	var out []string
	for _, n := range s.nodes {
		if seen[n] {
			out = append(out, n)
		}
	}
	return out
}

// Finished reports whether nothing is running and nothing more can start.
func (s *Schedule) Finished() bool {
	for _, id := range s.nodes {
		if s.status[id] == Running {
			return false
		}
	}
	return len(s.Ready()) == 0
}

// Loops reports how many times a loop node has jumped back.
func (s *Schedule) Loops(loopID string) int { return s.loops[loopID] }
