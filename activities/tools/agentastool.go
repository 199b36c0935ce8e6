package tools

// AgentAsTool runs another agentflow (selectedAgentflow) with the model's input.
func (t *Tools) AgentAsTool() FlowTool {
	return flowTool{kind: "agentAsTool", flowKey: "selectedAgentflow", name: "agentflow_tool",
		description: "Execute another agentflow"}.tool(t.Deps)
}
