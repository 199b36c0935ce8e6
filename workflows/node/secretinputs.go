package node

import (
	"maps"
	"regexp"
	"slices"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// RedactedInput stands, in a plan and so in workflow history, for an input that holds a
// secret without a credential to keep it in (Kind.SecretInputs: a SQL chain's connection
// string, password included). The activity reads the input from the saved flow instead.
const RedactedInput = "[kept out of workflow history: read from the saved flow]"

// variableRef is an input that is nothing but one {{$vars.name}} reference.
var variableRef = regexp.MustCompile(`^\s*\{\{\s*\$vars\.[A-Za-z0-9_.-]+\s*\}\}\s*$`)

// RedactSecretInputs returns the plan with every secret input of its nodes replaced by
// RedactedInput. An input that is only a reference to a variable ({{$vars.dsn}}) is left as
// it is: the reference is no secret, and the activity resolves it. (A value that mixes text
// and references, postgres://u:pw@h/{{$vars.db}}, is redacted whole.) The plan given is not changed (the
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
			if v, _ := s.Node.Data.Inputs[name].(string); v != "" && !variableRef.MatchString(v) {
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
