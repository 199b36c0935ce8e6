package chatnodes

import (
	"cmp"
	"context"
	"strings"

	"github.com/flowgate/flowgate/workflows/node"
)

// InputModerationSimple hands on its deny list (one entry a line) and, when one is wired, the
// chat model that judges similarity to it.
func (n *Nodes) InputModerationSimple(_ context.Context, req node.Request) (node.Value, error) {
	m := &node.Moderation{Kind: req.Node.Data.Name,
		ErrorMessage: cmp.Or(req.Node.Input("moderationErrorMessage"), "Cannot Process! Input violates content moderation policies.")}
	for _, line := range strings.Split(req.Node.Input("denyList"), "\n") {
		if line != "" {
			m.DenyList = append(m.DenyList, line)
		}
	}
	if v, _, ok := upstream(req, "model"); ok {
		m.Model = v.Model
	}
	return node.Value{Kind: m.Kind, Moderation: m}, nil
}
