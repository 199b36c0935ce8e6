package flowiseimport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/models"
)

// sqliteSource is the SQLite fixture as Flowise's settings name it, copied so that a test
// may break it.
func sqliteSource(t *testing.T) (Source, string) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"database.sqlite", "encryption.key"} {
		b := fixture.Read(t, "flowise-3.1.2", "sqlite", f)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	src, err := SourceFromEnv(func(name string) string {
		return map[string]string{"DATABASE_PATH": dir, "SECRETKEY_PATH": dir}[name]
	})
	require.NoError(t, err)
	return src, filepath.Join(dir, "database.sqlite")
}

func destination(t *testing.T) (Destination, *gorm.DB) {
	t.Helper()
	db, err := models.Open(context.Background(), models.DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			_ = s.Close()
		}
	})
	cipher := secrets.NewCipher(secrets.NewKey("flowgate-test-key", "test"))
	return Destination{DB: db, Cipher: cipher, Keys: apikeys.NewJSONStore(t.TempDir())}, db
}

func counts(rep Report) map[string][3]int {
	out := map[string][3]int{}
	for _, c := range rep.Counts {
		out[c.Kind] = [3]int{c.New, c.Updated, c.Unchanged}
	}
	return out
}

func sum(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

func TestImportSQLiteFixture(t *testing.T) {
	ctx := context.Background()
	src, file := sqliteSource(t)
	before := sum(t, file)
	data, err := ReadDatabase(ctx, src, true)
	require.NoError(t, err)
	require.Equal(t, before, sum(t, file), "the source is only read")

	dst, db := destination(t)
	rep, err := Apply(ctx, dst, data, false)
	require.NoError(t, err)
	require.Equal(t, map[string][3]int{
		"chatflows": {3, 0, 0}, "agentflows": {1, 0, 0}, "credentials": {4, 0, 0}, "variables": {2, 0, 0},
		"custom tools": {1, 0, 0}, "document stores": {1, 0, 0}, "document chunks": {3, 0, 0},
		"chat messages": {10, 0, 0}, "feedback": {1, 0, 0}, "leads": {1, 0, 0}, "executions": {1, 0, 0}, "API keys": {2, 0, 0},
	}, counts(rep))

	// Ids, bindings and configs are kept.
	store := models.NewStore(db)
	flow, err := store.GetChatFlow(ctx, "f5adcd77-d628-4b36-a331-8a2d952cb0cf")
	require.NoError(t, err)
	require.Equal(t, "577780f6-4fae-445d-95ed-04d35610c632", *flow.APIKeyID)
	require.Equal(t, "support;fixtures", *flow.Category)
	require.Contains(t, *flow.APIConfig, `"limitMax":"5"`)
	require.Contains(t, *flow.ChatbotConfig, "https://acme.example.com")
	agent, err := store.GetChatFlow(ctx, "8cad5fd4-0d7f-4871-8adf-85450f649366")
	require.NoError(t, err)
	require.Equal(t, models.TypeAgentflow, agent.Type)

	// Credentials are sealed with Flowgate's key, in Flowgate's format.
	cred, err := store.GetCredential(ctx, "6d44e5d1-2a75-4622-b821-d0b89580523b")
	require.NoError(t, err)
	require.True(t, dst.Cipher.Current(cred.EncryptedData))
	plain, err := dst.Cipher.Decrypt(cred.EncryptedData)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"openAIApiKey": "sk-fixture-openai-123"}, plain)

	// API keys verify with their Flowise plaintext, which is stored nowhere.
	k, ok, err := dst.Keys.Verify(ctx, "mXO0X11IrF-HRKekAAURXAprTTkMv2g1ZPvXvfAq8_w")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "ci-key", k.Name)

	docStore, err := store.GetDocumentStore(ctx, "f5ad30c3-ab4c-4d40-a0b7-135b2893959f")
	require.NoError(t, err)
	require.Equal(t, models.DocStoreSync, docStore.Status, "no vectors came along")
	chunks, err := store.DocumentStoreChunks(ctx, docStore.ID, "")
	require.NoError(t, err)
	require.Len(t, chunks, 3)

	// Again: nothing changes, and the summary says so.
	data, err = ReadDatabase(ctx, src, true)
	require.NoError(t, err)
	rep, err = Apply(ctx, dst, data, false)
	require.NoError(t, err)
	require.False(t, rep.Changed(), rep.String())
	require.Contains(t, rep.String(), "nothing to change: all 30 rows are already there")
	require.Equal(t, [3]int{0, 0, 4}, counts(rep)["credentials"])

	// A flow edited in Flowise is updated, and only it.
	rw, err := sql.Open("sqlite", file)
	require.NoError(t, err)
	_, err = rw.Exec(`UPDATE chat_flow SET name = 'Renamed' WHERE id = 'a7453276-e582-49eb-8830-476bc216b2e7'`)
	require.NoError(t, err)
	require.NoError(t, rw.Close())
	data, err = ReadDatabase(ctx, src, false)
	require.NoError(t, err)
	rep, err = Apply(ctx, dst, data, true)
	require.NoError(t, err)
	require.Equal(t, [3]int{0, 1, 2}, counts(rep)["chatflows"], "dry run")
	got, err := store.GetChatFlow(ctx, "a7453276-e582-49eb-8830-476bc216b2e7")
	require.NoError(t, err)
	require.Equal(t, "Fixture LLM Chain", got.Name, "a dry run writes nothing")
	rep, err = Apply(ctx, dst, data, false)
	require.NoError(t, err)
	require.Equal(t, [3]int{0, 1, 2}, counts(rep)["chatflows"])
	got, err = store.GetChatFlow(ctx, "a7453276-e582-49eb-8830-476bc216b2e7")
	require.NoError(t, err)
	require.Equal(t, "Renamed", got.Name)

	// A store upserted in Flowgate since keeps what Flowgate made of it.
	require.NoError(t, db.Exec(`UPDATE document_store SET status = 'UPSERTED' WHERE id = ?`, docStore.ID).Error)
	require.NoError(t, db.Create(&models.DocStoreVector{ChunkID: "v1", StoreID: docStore.ID, DocID: "d", ChunkNo: 1, PageContent: "p",
		Metadata: "{}", Dimensions: 1, Embedding: []byte{0, 0, 128, 63}, CreatedDate: time.Now()}).Error)
	rep, err = Apply(ctx, dst, data, false)
	require.NoError(t, err)
	require.Equal(t, [3]int{0, 0, 1}, counts(rep)["document stores"])
	require.Equal(t, [3]int{0, 0, 3}, counts(rep)["document chunks"])
	require.Contains(t, rep.String(), "has been upserted in Flowgate since it was imported")
	docStore, err = store.GetDocumentStore(ctx, docStore.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocStoreUpserted, docStore.Status)
}

func TestWrongFlowiseKeyFailsBeforeReadingRows(t *testing.T) {
	src, _ := sqliteSource(t)
	src.Key.Overwrite = "not-the-key"
	_, err := ReadDatabase(context.Background(), src, false)
	require.ErrorIs(t, err, secrets.ErrWrongKey)
	require.ErrorContains(t, err, "Flowise's encryption key")

	src.Key.Overwrite = ""
	src.Key.Path = t.TempDir()
	_, err = ReadDatabase(context.Background(), src, false)
	require.ErrorContains(t, err, "no key file at")
	require.NoFileExists(t, filepath.Join(src.Key.Path, secrets.KeyFileName), "Flowise's key is never created")
}

// breakFixture runs SQL on a copy of the fixture.
func breakFixture(t *testing.T, file string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", file)
	require.NoError(t, err)
	defer db.Close()
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
}

func TestUnknownSchema(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		stmts []string
		want  string
	}{
		"no migrations":  {[]string{`DROP TABLE migrations`}, "not a Flowise database: it has no migrations table"},
		"missing table":  {[]string{`DROP TABLE tool`}, "unknown Flowise schema: table tool is missing"},
		"missing column": {[]string{`ALTER TABLE credential DROP COLUMN "encryptedData"`}, "unknown Flowise schema: table credential lacks column(s) encryptedData"},
	} {
		t.Run(name, func(t *testing.T) {
			src, file := sqliteSource(t)
			breakFixture(t, file, tc.stmts...)
			_, err := ReadDatabase(ctx, src, false)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// A messages table is checked only when messages are asked for.
	src, file := sqliteSource(t)
	breakFixture(t, file, `DROP TABLE lead`)
	_, err := ReadDatabase(ctx, src, false)
	require.NoError(t, err)
	_, err = ReadDatabase(ctx, src, true)
	var schemaErr *SchemaError
	require.ErrorAs(t, err, &schemaErr)
	require.Equal(t, "lead", schemaErr.Table)
}

func TestUnreadableRowsAreNamedAndNothingIsWritten(t *testing.T) {
	ctx := context.Background()
	src, file := sqliteSource(t)
	breakFixture(t, file,
		`UPDATE chat_flow SET "createdDate" = 'yesterday' WHERE id = '52784499-3261-438c-ab50-57211b8f0fe2'`,
		`UPDATE apikey SET "apiSecret" = 'nope' WHERE id = '577780f6-4fae-445d-95ed-04d35610c632'`,
		`UPDATE document_store_file_chunk SET "chunkNo" = 'x' WHERE id = '06bda9a9-b764-47f5-9120-d0f806d45539'`,
		// One credential corrupt among good ones: the key is right, the row is not.
		`UPDATE credential SET "encryptedData" = 'U2FsdGVkX1+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' WHERE id = 'f5bb618f-82f4-49d8-bcf5-1f9c7aae488c'`,
	)
	_, err := ReadDatabase(ctx, src, false)
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "4 rows cannot be read, nothing was imported")
	require.Contains(t, msg, `chat_flow row 52784499-3261-438c-ab50-57211b8f0fe2: column createdDate: "yesterday" is not a date`)
	require.Contains(t, msg, "apikey row 577780f6-4fae-445d-95ed-04d35610c632: column apiSecret")
	require.Contains(t, msg, `document_store_file_chunk row 06bda9a9-b764-47f5-9120-d0f806d45539: column chunkNo: "x" is not a whole number`)
	require.Contains(t, msg, "credential row f5bb618f-82f4-49d8-bcf5-1f9c7aae488c: column encryptedData")
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
}

func TestFieldConversions(t *testing.T) {
	s := func(v string) *string { return &v }
	f := &fields{table: "t", r: row{"id": s("x"), "b1": s("1"), "b2": s("false"), "d1": s("2026-12-03 18:24:56.664"),
		"d2": s("2026-12-03T18:24:56.000Z"), "d3": s("2026-12-03 18:24:56.123456"), "bad": s("maybe")}}
	require.True(t, *f.flag("b1"))
	require.False(t, *f.flag("b2"))
	require.Nil(t, f.flag("absent"))
	require.Equal(t, 664, f.date("d1").Nanosecond()/1e6)
	require.Equal(t, f.date("d2").Truncate(1e9), f.date("d1").Truncate(1e9))
	require.Equal(t, 123456, f.date("d3").Nanosecond()/1e3)
	require.NoError(t, f.errOrNil())
	f.flag("bad")
	require.EqualError(t, f.errOrNil(), `t row x: column bad: "maybe" is not a boolean`)
	f = &fields{table: "t", r: row{"id": s("y")}}
	f.text("name")
	require.EqualError(t, f.errOrNil(), "t row y: column name: is empty (NULL) but Flowgate needs a value")
}

func (f *fields) errOrNil() error {
	if f.err == nil {
		return nil
	}
	return f.err
}

func TestParseEnv(t *testing.T) {
	env, err := ParseEnv([]byte("# Flowise\nPORT=3000\nexport DATABASE_TYPE=postgres\nDATABASE_PASSWORD=\"p#ss word\"\n" +
		"DATABASE_NAME=flowise # the db\nSECRETKEY_PATH='/var/lib/flowise'\n\nEMPTY=\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"PORT": "3000", "DATABASE_TYPE": "postgres", "DATABASE_PASSWORD": "p#ss word",
		"DATABASE_NAME": "flowise", "SECRETKEY_PATH": "/var/lib/flowise", "EMPTY": ""}, env)
	_, err = ParseEnv([]byte("NOT A LINE\n"))
	require.EqualError(t, err, ".env line 1 is not NAME=value")

	src, err := SourceFromEnv(func(n string) string { return env[n] })
	require.NoError(t, err)
	require.Equal(t, "postgres", src.Database.Type)
	require.Equal(t, 5432, src.Database.Port)
	require.Equal(t, "/var/lib/flowise", src.Key.Path)
	_, err = SourceFromEnv(func(n string) string { return map[string]string{"DATABASE_TYPE": "mysql"}[n] })
	require.ErrorContains(t, err, `DATABASE_TYPE "mysql" cannot be imported`)
}

// exportOf makes a Flowise export file of the fixture's rows, as Flowise writes one.
func exportOf(t *testing.T) []byte {
	t.Helper()
	src, _ := sqliteSource(t)
	data, err := ReadDatabase(context.Background(), src, true)
	require.NoError(t, err)
	dst, db := destination(t)
	_, err = Apply(context.Background(), dst, data, false)
	require.NoError(t, err)
	out, err := Export(context.Background(), db, Selection{AgentflowV2: true, Chatflow: true, ChatMessage: true,
		ChatFeedback: true, DocumentStore: true, Execution: true, Tool: true, Variable: true})
	require.NoError(t, err)
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return b
}

func TestExportFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	file := exportOf(t)
	data, err := ParseExport(bytes.NewReader(file), 1<<20)
	require.NoError(t, err)
	require.Len(t, data.Flows, 4)
	require.Empty(t, data.Credentials, "an export file carries no credentials")
	dst, db := destination(t)
	rep, err := Apply(ctx, dst, data, false)
	require.NoError(t, err)
	c := counts(rep)
	require.Equal(t, [3]int{3, 0, 0}, c["chatflows"])
	require.Equal(t, [3]int{1, 0, 0}, c["agentflows"])
	require.Equal(t, [3]int{10, 0, 0}, c["chat messages"])
	require.Equal(t, [3]int{3, 0, 0}, c["document chunks"])
	again, err := Export(ctx, db, Selection{AgentflowV2: true, Chatflow: true, ChatMessage: true, ChatFeedback: true,
		DocumentStore: true, Execution: true, Tool: true, Variable: true})
	require.NoError(t, err)
	b, err := json.Marshal(again)
	require.NoError(t, err)
	require.JSONEq(t, string(file), string(b), "export → import → export gives the same file")
	rep, err = Apply(ctx, dst, data, false)
	require.NoError(t, err)
	require.False(t, rep.Changed())
}

func TestParseExportRefuses(t *testing.T) {
	for body, want := range map[string]string{
		`[]`:                                "must be a JSON object",
		`{"FileDefaultName":"x"}`:           "none of Flowise's keys",
		`{"ChatFlow":{}}`:                   "ChatFlow must be an array of objects",
		`{"ChatFlow":[null]}`:               "ChatFlow[0] must be an object",
		`{"Tool":[{"id":"t1","name":"x"}]}`: "tool row t1: column description",
		`{"ChatFlow":[` + strings.Repeat("[", 100) + `]}`: "nested deeper than 64 levels",
	} {
		_, err := ParseExport(strings.NewReader(body), 1<<20)
		require.ErrorContains(t, err, want, body)
	}
	_, err := ParseExport(strings.NewReader(`{"ChatFlow":[]}`), 5)
	require.ErrorContains(t, err, "larger than 5 bytes")

	data, err := ParseExport(strings.NewReader(`{"AgentFlow":[{"id":"m","name":"n","flowData":"{}","type":"MULTIAGENT","createdDate":"2026-01-01T00:00:00Z","updatedDate":"2026-01-01T00:00:00Z"}],"CustomTemplate":[{"id":"c"}]}`), 1<<20)
	require.NoError(t, err)
	require.Empty(t, data.Flows)
	require.Equal(t, map[string]int{"multiagent flows (Flowgate runs CHATFLOW and AGENTFLOW)": 1, "CustomTemplate (not supported by Flowgate)": 1}, data.Skipped)
}

func TestParseSelection(t *testing.T) {
	sel, err := ParseSelection([]byte(`{"chatflow":true,"tool":false,"assistant":true}`))
	require.NoError(t, err)
	require.Equal(t, Selection{Chatflow: true}, sel)
	_, err = ParseSelection([]byte(`{"chatflow":"yes"}`))
	require.EqualError(t, err, "invalid chatflow property in the export request: want a boolean")
	_, err = ParseSelection([]byte(`[]`))
	require.Error(t, err)
}

// FuzzParseExport: no input panics; what parses has, in every kind, ids that are non-empty and
// unique, and survives Apply → Export → ParseExport with the same ids.
func FuzzParseExport(f *testing.F) {
	f.Add([]byte(`{"ChatFlow":[{"id":"a","name":"n","flowData":"{}","createdDate":"2026-12-03T18:24:56.000Z","updatedDate":"2026-12-03 18:24:56"}]}`))
	f.Add([]byte(`{"Variable":[{"id":"v","name":"x","type":"static","value":null,"createdDate":"2026-01-01","updatedDate":"2026-01-01"}],"Tool":[]}`))
	f.Add([]byte(`{"DocumentStoreFileChunk":[{"id":"c","docId":"d","storeId":"s","chunkNo":1,"pageContent":"p","metadata":{"a":[1,2]}}]}`))
	f.Add([]byte(`{"ChatMessage":[{"id":"m","role":"userMessage","chatflowid":"a","content":"hi","chatId":"c","createdDate":"x"}],"AssistantCustom":[{}]}`))
	f.Add([]byte(`{"ChatFlow":[[[[{"\"":"\\"}]]]]}`))
	f.Add(fixture.Read(f, "flowise-3.1.2", "export", "ExportData.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		data, err := ParseExport(bytes.NewReader(b), 1<<17)
		if err != nil {
			return
		}
		for _, fl := range data.Flows {
			if fl.Type != models.TypeChatflow && fl.Type != models.TypeAgentflow {
				t.Fatalf("a flow of type %q passed", fl.Type)
			}
		}
		want := idsByKind(data)
		for kind, ids := range want {
			seen := map[string]bool{}
			for _, id := range ids {
				if id == "" || seen[id] {
					t.Fatalf("%s: id %q is empty or given twice", kind, id)
				}
				seen[id] = true
			}
		}
		db, err := models.OpenMemory(context.Background())
		require.NoError(t, err)
		defer closeDB(db)
		if _, err := Apply(context.Background(), Destination{DB: db}, data, false); err != nil {
			if errors.Is(err, ErrConflict) {
				return // two variables of one name, or two feedbacks of one message
			}
			t.Fatalf("a parsed file cannot be written: %v", err)
		}
		out, err := Export(context.Background(), db, Selection{AgentflowV2: true, Chatflow: true, ChatMessage: true,
			ChatFeedback: true, DocumentStore: true, Execution: true, Tool: true, Variable: true})
		require.NoError(t, err)
		file, err := json.Marshal(out)
		require.NoError(t, err)
		again, err := ParseExport(bytes.NewReader(file), 1<<20)
		require.NoError(t, err, "Flowgate's own export parses")
		require.Equal(t, want, idsByKind(again), "Export → ParseExport keeps every row")
	})
}

// idsByKind lists the ids of each kind in data, sorted.
func idsByKind(d *Data) map[string][]string {
	out := map[string][]string{}
	addIDs(out, "flows", d.Flows, func(v models.ChatFlow) string { return v.ID })
	addIDs(out, "variables", d.Variables, func(v models.Variable) string { return v.ID })
	addIDs(out, "tools", d.Tools, func(v models.Tool) string { return v.ID })
	addIDs(out, "stores", d.Stores, func(v models.DocumentStore) string { return v.ID })
	addIDs(out, "chunks", d.Chunks, func(v models.DocumentStoreFileChunk) string { return v.ID })
	addIDs(out, "messages", d.Messages, func(v models.ChatMessage) string { return v.ID })
	addIDs(out, "feedback", d.Feedback, func(v models.ChatMessageFeedback) string { return v.ID })
	addIDs(out, "executions", d.Executions, func(v models.Execution) string { return v.ID })
	return out
}

func addIDs[T any](out map[string][]string, kind string, rows []T, id func(T) string) {
	for _, r := range rows {
		out[kind] = append(out[kind], id(r))
	}
	slices.Sort(out[kind])
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

// FuzzParseEnv: no .env text panics, and every name read is one a shell could set.
func FuzzParseEnv(f *testing.F) {
	f.Add([]byte("DATABASE_PATH=/var/lib/flowise\nexport SECRETKEY_PATH='/k'\n# c\nX=\"a\\nb\" # d\n"))
	f.Add([]byte("A=\"unterminated\nB=' x '\n=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ParseEnv(b)
		if err != nil {
			return
		}
		for name := range env {
			if name == "" || strings.ContainsAny(name, " \t\"'=\n") {
				t.Fatalf("name %q passed", name)
			}
		}
	})
}

// TestSourceKeySettings: Flowise's key settings reach the key reader as Flowise reads them
// (secrets.ReadKey is tested against a Secrets Manager stand-in driven by the real SDK).
func TestSourceKeySettings(t *testing.T) {
	env := map[string]string{"SECRETKEY_STORAGE_TYPE": "aws", "SECRETKEY_AWS_NAME": "prod/flowise", "SECRETKEY_AWS_REGION": "eu-west-1",
		"SECRETKEY_AWS_ACCESS_KEY": "AKID", "SECRETKEY_AWS_SECRET_KEY": "s3cr3t", "SECRETKEY_AWS_ENDPOINT": "http://127.0.0.1:4566"}
	src, err := SourceFromEnv(func(n string) string { return env[n] })
	require.NoError(t, err)
	require.Equal(t, secrets.StorageTypeAWS, src.Key.StorageType)
	require.Equal(t, secrets.AWSKeyConfig{Name: "prod/flowise", Region: "eu-west-1", AccessKey: "AKID", SecretKey: "s3cr3t",
		Endpoint: "http://127.0.0.1:4566"}, src.Key.AWS)
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	src, err = SourceFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, filepath.Join(home, ".flowise"), src.Key.Path, "Flowise's default key folder")
	require.Equal(t, filepath.Join(home, ".flowise"), src.Database.Path)
	require.Equal(t, "sqlite", src.Database.Type)
	require.NotContains(t, src.Describe(), "s3cr3t")
}
