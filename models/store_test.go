package models

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/pgtest"
)

// testDatabases opens a fresh database of each supported type: SQLite in a temp dir, and a new
// database on the local PostgreSQL server, dropped afterwards.
func testDatabases(t *testing.T) map[string]*Store {
	t.Helper()
	ctx := context.Background()
	stores := map[string]*Store{}

	db, err := Open(ctx, DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	stores["sqlite"] = NewStore(db)
	t.Cleanup(func() { closeDB(db) })

	name := pgtest.NewDatabase(t)
	pg, err := Open(ctx, DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: name, User: pgtest.User})
	require.NoError(t, err)
	stores["postgres"] = NewStore(pg)
	t.Cleanup(func() { closeDB(pg) })
	return stores
}

func closeDB(db interface{ DB() (*sql.DB, error) }) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}

func TestStore(t *testing.T) {
	for name, s := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()

			// Migrations are idempotent.
			require.NoError(t, Migrate(s.DB()))

			// Chatflows: newest first, type filter, update, delete.
			a := &ChatFlow{ID: uuid.NewString(), Name: "a", FlowData: "{}"}
			require.NoError(t, s.CreateChatFlow(ctx, a))
			b := &ChatFlow{ID: uuid.NewString(), Name: "b", FlowData: "{}", Type: TypeAgentflow}
			require.NoError(t, s.CreateChatFlow(ctx, b))
			flows, err := s.ListChatFlows(ctx, "")
			require.NoError(t, err)
			require.Equal(t, []string{"b", "a"}, []string{flows[0].Name, flows[1].Name})
			flows, err = s.ListChatFlows(ctx, TypeChatflow)
			require.NoError(t, err)
			require.Len(t, flows, 1)
			a.Name = "a2"
			require.NoError(t, s.UpdateChatFlow(ctx, a))
			got, err := s.GetChatFlow(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, "a2", got.Name)
			require.ErrorIs(t, s.UpdateChatFlow(ctx, &ChatFlow{ID: uuid.NewString(), Name: "x", FlowData: "{}"}), ErrNotFound)
			_, err = s.GetChatFlow(ctx, uuid.NewString())
			require.ErrorIs(t, err, ErrNotFound)

			// Messages: a retried save writes nothing twice; history in conversation order.
			t0 := time.Now().UTC().Truncate(time.Millisecond)
			msgs := []ChatMessage{
				{ID: uuid.NewString(), Role: RoleUser, ChatflowID: a.ID, ChatID: "c1", Content: "q1", ChatType: "EXTERNAL", SessionID: ptr("s1"), CreatedDate: t0},
				{ID: uuid.NewString(), Role: RoleAPI, ChatflowID: a.ID, ChatID: "c1", Content: "a1", ChatType: "EXTERNAL", SessionID: ptr("s1"), CreatedDate: t0.Add(time.Millisecond)},
				{ID: uuid.NewString(), Role: RoleUser, ChatflowID: a.ID, ChatID: "c1", Content: "q2", ChatType: "INTERNAL", SessionID: ptr("s1"), CreatedDate: t0.Add(2 * time.Millisecond)},
				{ID: uuid.NewString(), Role: RoleAPI, ChatflowID: a.ID, ChatID: "c1", Content: "a2", ChatType: "INTERNAL", SessionID: ptr("s1"), CreatedDate: t0.Add(3 * time.Millisecond)},
			}
			require.NoError(t, s.SaveMessages(ctx, msgs[:2]...))
			require.NoError(t, s.SaveMessages(ctx, msgs[:2]...))
			require.NoError(t, s.SaveMessages(ctx, msgs[2:]...))
			hist, err := s.History(ctx, a.ID, "s1", 0)
			require.NoError(t, err)
			require.Equal(t, []string{"q1", "a1", "q2", "a2"}, contents(hist))
			hist, err = s.History(ctx, a.ID, "s1", 2)
			require.NoError(t, err)
			require.Equal(t, []string{"q2", "a2"}, contents(hist))

			list, err := s.ListMessages(ctx, MessageFilter{ChatflowID: a.ID, ChatTypes: []string{"INTERNAL"}, Descending: true})
			require.NoError(t, err)
			require.Equal(t, []string{"a2", "q2"}, contents(list))
			end := t0.Add(time.Millisecond)
			list, err = s.ListMessages(ctx, MessageFilter{ChatflowID: a.ID, End: &end})
			require.NoError(t, err)
			require.Equal(t, []string{"q1", "a1"}, contents(list))
			list, err = s.ListMessages(ctx, MessageFilter{ChatflowID: a.ID, Page: 2, Limit: 3})
			require.NoError(t, err)
			require.Equal(t, []string{"a2"}, contents(list))

			n, err := s.DeleteMessages(ctx, MessageFilter{ChatflowID: a.ID, ChatTypes: []string{"EXTERNAL"}})
			require.NoError(t, err)
			require.EqualValues(t, 2, n)

			// Deleting the flow deletes the rest of its messages.
			require.NoError(t, s.DeleteChatFlow(ctx, a.ID))
			list, err = s.ListMessages(ctx, MessageFilter{ChatflowID: a.ID})
			require.NoError(t, err)
			require.Empty(t, list)
			require.ErrorIs(t, s.DeleteChatFlow(ctx, a.ID), ErrNotFound)

			// Credentials.
			c := &Credential{ID: uuid.NewString(), Name: "c", CredentialName: "openAIApi", EncryptedData: "enc"}
			require.NoError(t, s.CreateCredential(ctx, c))
			creds, err := s.ListCredentials(ctx, []string{"anthropicApi"})
			require.NoError(t, err)
			require.Empty(t, creds)
			c.EncryptedData = "enc2"
			require.NoError(t, s.UpdateCredential(ctx, c))
			gotC, err := s.GetCredential(ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, "enc2", gotC.EncryptedData)
			require.NoError(t, s.DeleteCredential(ctx, c.ID))
			require.ErrorIs(t, s.DeleteCredential(ctx, c.ID), ErrNotFound)
		})
	}
}

func TestOpenRejectsUnknownDatabaseType(t *testing.T) {
	_, err := Open(context.Background(), DBConfig{Type: "oracle"})
	require.ErrorContains(t, err, `DATABASE_TYPE "oracle" is not supported`)
}

func ptr(s string) *string { return &s }

func contents(msgs []ChatMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Content
	}
	return out
}

// TestConcurrentMigrations starts several "processes" (separate pools) on one fresh database at
// once: every one must come up, and each step must be recorded exactly once.
func TestConcurrentMigrations(t *testing.T) {
	for name, s := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			// Start from an empty schema so the racers really create it.
			for _, table := range []string{"flowgate_schema_migrations", "chat_message", "chat_flow", "credential"} {
				require.NoError(t, s.DB().Migrator().DropTable(table))
			}
			cfg := s.DB().Dialector.Name()
			var open func() (*Store, error)
			switch cfg {
			case "postgres":
				var dbName string
				require.NoError(t, s.DB().Raw("SELECT current_database()").Scan(&dbName).Error)
				open = func() (*Store, error) {
					db, err := Open(context.Background(), DBConfig{Type: "postgres", Host: "127.0.0.1", Port: 5432, Name: dbName, User: "postgres"})
					return NewStore(db), err
				}
			default:
				var file string
				require.NoError(t, s.DB().Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error)
				open = func() (*Store, error) {
					db, err := Open(context.Background(), DBConfig{Type: "sqlite", Path: filepath.Dir(file)})
					return NewStore(db), err
				}
			}
			const racers = 6
			errs := make(chan error, racers)
			for range racers {
				go func() {
					st, err := open()
					if err == nil {
						closeDB(st.DB())
					}
					errs <- err
				}()
			}
			for range racers {
				require.NoError(t, <-errs)
			}
			var applied []int
			require.NoError(t, s.DB().Table("flowgate_schema_migrations").Order("version").Pluck("version", &applied).Error)
			want := make([]int, len(migrations))
			for i, m := range migrations {
				want[i] = m.Version
			}
			require.Equal(t, want, applied)
			require.True(t, s.DB().Migrator().HasTable(&ChatMessage{}))
		})
	}
}

func TestSaveVariableNameConflict(t *testing.T) {
	for name, s := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			require.NoError(t, s.SaveVariable(ctx, &Variable{ID: uuid.NewString(), Name: "tone", Type: VariableStatic}, true))
			err := s.SaveVariable(ctx, &Variable{ID: uuid.NewString(), Name: "tone", Type: VariableStatic}, true)
			require.ErrorIs(t, err, ErrConflict)
			var conflict *ConflictError
			require.ErrorAs(t, err, &conflict)
			require.Equal(t, ConflictError{What: "variable", Value: "tone"}, *conflict)

			other := &Variable{ID: uuid.NewString(), Name: "mood", Type: VariableStatic}
			require.NoError(t, s.SaveVariable(ctx, other, true))
			other.Name = "tone"
			require.ErrorIs(t, s.SaveVariable(ctx, other, false), ErrConflict)
			// Other failures are not conflicts.
			require.NotErrorIs(t, s.SaveVariable(ctx, &Variable{ID: uuid.NewString(), Name: "x"}, false), ErrConflict)
		})
	}
}

// TestFeedbackAndLeads: a message has one feedback (a second is a ConflictError), feedback
// goes with its messages and its chatflow, and leads list by chatflow, oldest first.
func TestFeedbackAndLeads(t *testing.T) {
	for name, s := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			flow := &ChatFlow{ID: uuid.NewString(), Name: "f", FlowData: "{}"}
			require.NoError(t, s.CreateChatFlow(ctx, flow))
			msgs := []ChatMessage{
				{ID: uuid.NewString(), Role: RoleAPI, ChatflowID: flow.ID, ChatID: "c1", Content: "a", CreatedDate: time.Now()},
				{ID: uuid.NewString(), Role: RoleAPI, ChatflowID: flow.ID, ChatID: "c2", Content: "b", CreatedDate: time.Now()},
			}
			require.NoError(t, s.SaveMessages(ctx, msgs...))
			for _, m := range msgs {
				require.NoError(t, s.CreateFeedback(ctx, &ChatMessageFeedback{ID: uuid.NewString(), ChatflowID: flow.ID, ChatID: m.ChatID, MessageID: m.ID, Rating: RatingThumbsUp}))
			}
			err := s.CreateFeedback(ctx, &ChatMessageFeedback{ID: uuid.NewString(), ChatflowID: flow.ID, ChatID: "c1", MessageID: msgs[0].ID, Rating: RatingThumbsDown})
			require.ErrorIs(t, err, ErrConflict)

			_, err = s.DeleteMessages(ctx, MessageFilter{ChatflowID: flow.ID, ChatID: "c1"})
			require.NoError(t, err)
			left, err := s.ListFeedback(ctx, FeedbackFilter{ChatflowID: flow.ID})
			require.NoError(t, err)
			require.Len(t, left, 1)
			require.Equal(t, msgs[1].ID, left[0].MessageID)

			for _, name := range []string{"first", "second"} {
				require.NoError(t, s.CreateLead(ctx, &Lead{ID: uuid.NewString(), ChatflowID: flow.ID, ChatID: "c1", Name: &name}))
			}
			leads, err := s.ListLeads(ctx, flow.ID)
			require.NoError(t, err)
			require.Equal(t, "first", *leads[0].Name)
			require.Len(t, leads, 2)

			require.NoError(t, s.DeleteChatFlow(ctx, flow.ID))
			left, err = s.ListFeedback(ctx, FeedbackFilter{ChatflowID: flow.ID})
			require.NoError(t, err)
			require.Empty(t, left)
			leads, err = s.ListLeads(ctx, flow.ID)
			require.NoError(t, err)
			require.Len(t, leads, 2, "leads outlive their chatflow, as in Flowise")
		})
	}
}
