package models

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestCallableChatFlows: a caller with a key may name the chatflows bound to it or to none; one
// without, only the public chatflows bound to none; agentflows and other keys' chatflows never;
// a name keeps those so named; and no flow data is read.
func TestCallableChatFlows(t *testing.T) {
	for name, s := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			yes, empty := true, ""
			mine, theirs := "key-mine", "key-theirs"
			create := func(name, typ string, public *bool, key *string) string {
				f := &ChatFlow{ID: uuid.NewString(), Name: name, FlowData: `{"nodes":[]}`, Type: typ, IsPublic: public, APIKeyID: key}
				require.NoError(t, s.CreateChatFlow(ctx, f))
				return f.ID
			}
			open := create("open", TypeChatflow, nil, nil)
			public := create("public", TypeChatflow, &yes, &empty)
			bound := create("bound", TypeChatflow, &yes, &mine)
			create("other", TypeChatflow, &yes, &theirs)
			create("agent", TypeAgentflow, &yes, nil)
			ids := func(keyID, name string) []string {
				flows, err := s.CallableChatFlows(ctx, TypeChatflow, keyID, name)
				require.NoError(t, err)
				out := []string{}
				for _, f := range flows {
					require.Empty(t, f.FlowData, "a listing reads no flow data")
					require.NotEmpty(t, f.Name)
					require.False(t, f.CreatedDate.IsZero())
					out = append(out, f.ID)
				}
				return out
			}
			require.Equal(t, []string{bound, open, public}, ids(mine, ""))
			require.Equal(t, []string{public}, ids("", ""))
			require.Equal(t, []string{bound}, ids(mine, "bound"))
			require.Empty(t, ids("", "bound"))
			require.Empty(t, ids(mine, "agent"))
		})
	}
}
