package nodekit

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/models"
)

// Variables are a run's {{$vars.*}}: the request's overrides over the stored variables. The
// workflow input carries only the overrides (the caller sent them); stored variables are read
// here, in the activity that needs them, so their values never enter a run's history.
// Runtime variables are the worker's environment, and secrets: only activities that call out
// resolve them (right before sending), and the records of what a node sent name them instead.
type Variables struct {
	values  map[string]string
	runtime map[string]string // the runtime variables' values, by name
}

// Variables reads the stored variables under overrides. Runtime variables take the worker's
// environment value of their name, as Flowise's take the server's.
func (d *Deps) Variables(ctx context.Context, overrides map[string]string) (Variables, error) {
	stored, err := d.Store.ListVariables(ctx)
	if err != nil {
		return Variables{}, fmt.Errorf("read variables: %w", err)
	}
	v := Variables{values: make(map[string]string, len(stored)+len(overrides)), runtime: map[string]string{}}
	for _, s := range stored {
		if s.Type == models.VariableRuntime {
			val := os.Getenv(s.Name)
			v.values[s.Name] = val
			if _, overridden := overrides[s.Name]; !overridden && val != "" {
				v.runtime[s.Name] = val
			}
		} else {
			v.values[s.Name] = s.Value
		}
	}
	maps.Copy(v.values, overrides)
	return v, nil
}

// Static are the variables a quick node may resolve: all but runtime ones, whose references
// stay as written for the node that calls out to resolve.
func (v Variables) Static() map[string]string {
	out := make(map[string]string, len(v.values))
	for name, val := range v.values {
		if _, secret := v.runtime[name]; !secret {
			out[name] = val
		}
	}
	return out
}

// All are every variable, for a node that calls out.
func (v Variables) All() map[string]string { return v.values }

// Redact names runtime variables where their values appear in a record of what a node sent
// (agentFlowExecutedData's input), which history and the database keep.
func (v Variables) Redact(record any) any {
	if len(v.runtime) == 0 || record == nil {
		return record
	}
	raw, err := json.Marshal(record)
	if err != nil {
		return record
	}
	s := string(raw)
	changed := false
	// Longest values first, so a value that contains another is named whole.
	names := slices.SortedFunc(maps.Keys(v.runtime), func(a, b string) int { return len(v.runtime[b]) - len(v.runtime[a]) })
	for _, name := range names {
		val := v.runtime[name]
		// Values as JSON encodes them inside a string.
		enc, _ := json.Marshal(val)
		quoted := string(enc[1 : len(enc)-1])
		if strings.Contains(s, quoted) {
			s, changed = strings.ReplaceAll(s, quoted, "{{$vars."+name+"}}"), true
		}
	}
	if !changed {
		return record
	}
	var out any
	if json.Unmarshal([]byte(s), &out) != nil {
		return record
	}
	return out
}

// Mentions reports whether a node's inputs refer to any variable; only then are they read.
func Mentions(inputs any) bool {
	raw, err := json.Marshal(inputs)
	return err != nil || strings.Contains(string(raw), "$vars")
}
