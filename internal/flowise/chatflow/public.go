package chatflow

import (
	"bytes"
	"encoding/json"
	"strings"
)

// secretParamTypes are the input types whose values never leave the server: what a node keeps
// as a password, and the files and folders it reads.
var secretParamTypes = map[string]bool{"password": true, "file": true, "folder": true}

// secretHeaders are request headers that carry credentials; an HTTP node's headers lose them.
var secretHeaders = map[string]bool{"authorization": true, "x-api-key": true, "x-auth-token": true, "cookie": true}

// PublicFlowData is flowData (of a chatflow or an agentflow) as the public routes show it to
// anyone: each node without its credential (wherever its inputs name it), its password, file
// and folder inputs, and the credential headers of its headers input. Everything else is kept, since the chat widget reads
// the flow (an agentflow's start form). flowData that is not an object of nodes is shown as it
// is when it has no nodes array, and as an empty flow when it is not JSON at all.
func PublicFlowData(flowData string) string {
	if flowData == "" {
		return flowData
	}
	dec := json.NewDecoder(strings.NewReader(flowData))
	dec.UseNumber() // numbers stay exactly as written
	var flow map[string]any
	if err := dec.Decode(&flow); err != nil {
		return `{"nodes":[],"edges":[]}`
	}
	nodes, ok := flow["nodes"].([]any)
	if !ok {
		return flowData
	}
	for _, n := range nodes {
		node, _ := n.(map[string]any)
		data, _ := node["data"].(map[string]any)
		if data == nil {
			continue
		}
		delete(data, "credential")
		inputs, _ := data["inputs"].(map[string]any)
		for name := range inputs {
			if secretParamTypes[paramType(data, name)] {
				delete(inputs, name)
			}
		}
		dropCredentialIDs(inputs)
		if h, ok := inputs["headers"]; ok && h != nil && h != "" {
			if kept, ok := publicHeaders(h); ok {
				inputs["headers"] = kept
			} else {
				delete(inputs, "headers")
			}
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(flow); err != nil {
		return `{"nodes":[],"edges":[]}`
	}
	return strings.TrimSuffix(out.String(), "\n")
}

// credentialKeys are where nodes keep the id of their credential besides data.credential: a
// chat model's inputs, and an agentflow node's model settings (agentModelConfig, …).
var credentialKeys = map[string]bool{"credential": true, "FLOWISE_CREDENTIAL_ID": true}

// dropCredentialIDs removes credential ids at any depth of v. Flowise's public routes leave
// these copies in; an id is no secret, but it names one to whoever may use credentials.
func dropCredentialIDs(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if credentialKeys[k] {
				delete(t, k)
				continue
			}
			dropCredentialIDs(child)
		}
	case []any:
		for _, child := range t {
			dropCredentialIDs(child)
		}
	}
}

// paramType is the declared type of a node's input, from its inputParams ("" when undeclared).
func paramType(data map[string]any, name string) string {
	params, _ := data["inputParams"].([]any)
	for _, p := range params {
		if param, _ := p.(map[string]any); param["name"] == name {
			t, _ := param["type"].(string)
			return t
		}
	}
	return ""
}

// publicHeaders drops the credential headers from a headers input in each form Flowise nodes
// write it: a list of {key, value} rows (the agentflow HTTP node), an object, or an object as
// JSON text. A value it cannot read is dropped whole (ok false).
func publicHeaders(h any) (any, bool) {
	switch v := h.(type) {
	case []any:
		kept := make([]any, 0, len(v))
		for _, row := range v {
			if r, _ := row.(map[string]any); r != nil {
				if k, _ := r["key"].(string); secretHeaders[strings.ToLower(k)] {
					continue
				}
			}
			kept = append(kept, row)
		}
		return kept, true
	case map[string]any:
		for k := range v {
			if secretHeaders[strings.ToLower(k)] {
				delete(v, k)
			}
		}
		return v, true
	case string:
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil || obj == nil {
			return nil, false
		}
		kept, _ := publicHeaders(obj)
		raw, err := json.Marshal(kept)
		if err != nil {
			return nil, false
		}
		return string(raw), true
	}
	return nil, false
}
