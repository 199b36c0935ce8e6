package node

import (
	"maps"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// RedactedInput stands, in a plan and so in workflow history, for an input that holds a
// secret without a credential to keep it in (Kind.SecretInputs: a SQL chain's connection
// string, password included). The activity reads the input from the saved flow instead.
const RedactedInput = "[kept out of workflow history: read from the saved flow]"

// RedactSecretInputs returns the plan with every secret input of its nodes replaced by
// RedactedInput. An input that refers to variables ({{$vars.dsn}}) is left as it is: the
// reference is no secret, and the activity resolves it. The plan given is not changed (the
// API shares compiled plans between predictions).
func RedactSecretInputs(p chatflow.Plan) chatflow.Plan {
	var steps []chatflow.Step // copied on the first change
	for i, s := range p.Steps {
		k, ok := Lookup(s.Node.Data.Name)
		if !ok || len(k.SecretInputs) == 0 {
			continue
		}
		var inputs map[string]any
		for _, name := range k.SecretInputs {
			if v, _ := s.Node.Data.Inputs[name].(string); v != "" && !strings.Contains(v, "{{") {
				if inputs == nil {
					inputs = maps.Clone(s.Node.Data.Inputs)
				}
				inputs[name] = RedactedInput
			}
		}
		if inputs == nil {
			continue
		}
		if steps == nil {
			steps = slices.Clone(p.Steps)
		}
		steps[i].Node.Data.Inputs = inputs
	}
	if steps != nil {
		p.Steps = steps
	}
	return p
}
