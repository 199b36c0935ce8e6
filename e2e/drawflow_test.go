package e2e

// Chatflows the tests draw by hand, in Flowise's export format.

// flowNode is one node of a hand-made chatflow.
func flowNode(id, name, category string, inputs map[string]any, outputs map[string]any) map[string]any {
	if outputs == nil {
		outputs = map[string]any{}
	}
	return map[string]any{"id": id, "type": "customNode", "data": map[string]any{"id": id, "name": name, "label": name, "category": category,
		"inputs": inputs, "outputs": outputs}}
}

// cfNode is a node with no outputs set.
func cfNode(id, kind, category string, inputs map[string]any) map[string]any {
	return flowNode(id, kind, category, inputs, nil)
}

// withCredential sets a chatflow node's credential, where Flowise keeps it.
func withCredential(n map[string]any, cred string) map[string]any {
	n["data"].(map[string]any)["credential"] = cred
	return n
}

// ref is how an input refers to the node wired into it.
func ref(id string) string { return "{{" + id + ".data.instance}}" }
