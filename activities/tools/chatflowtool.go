package tools

// ChatflowTool runs another chatflow (selectedChatflow) with the model's input.
func (t *Tools) ChatflowTool() FlowTool {
	return flowTool{kind: "ChatflowTool", flowKey: "selectedChatflow", name: "chatflow_tool",
		description: "Execute another chatflow"}.tool(t.Deps)
}
