package flowiseimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

// Data is what an import moves, converted to Flowgate's rows.
type Data struct {
	// Flows are chatflows and agentflows, ids kept.
	Flows []models.ChatFlow
	// Credentials are decrypted with the source's key; they are sealed with Flowgate's when
	// written.
	Credentials []Credential
	// APIKeys carry each key's prefix, Flowise's scrypt secret and, when the secret proves the
	// plaintext Flowise kept, its fingerprint: never the plaintext.
	APIKeys    []apikeys.Key
	Variables  []models.Variable
	Tools      []models.Tool
	Stores     []models.DocumentStore
	Chunks     []models.DocumentStoreFileChunk
	Messages   []models.ChatMessage
	Feedback   []models.ChatMessageFeedback
	Leads      []models.Lead
	Executions []models.Execution
	// RestrictedKeys are the API keys (among APIKeys) whose Flowise permissions were not full.
	RestrictedKeys []RestrictedKey
	// Skipped counts rows of the source that Flowgate has no place for, by what they are.
	Skipped map[string]int
	// Notes say what changed on the way, for the summary.
	Notes []string
}

// Credential is a credential in the clear, between the source's key and Flowgate's.
type Credential struct {
	ID, Name, CredentialName string
	Plain                    map[string]any
	CreatedDate, UpdatedDate time.Time
}

// table is a Flowise table an import reads: the columns it cannot do without and those it
// takes when they are there.
type table struct {
	name     string
	required []string
	optional []string
	// messages marks the tables read only when chat history is asked for.
	messages bool
}

// tables are the Flowise tables an import reads, in the order they are read.
var tables = []table{
	{name: "chat_flow", required: []string{"id", "name", "flowData", "createdDate", "updatedDate"},
		optional: []string{"deployed", "isPublic", "apikeyid", "chatbotConfig", "apiConfig", "analytic", "category", "type"}},
	{name: "credential", required: []string{"id", "name", "credentialName", "encryptedData", "createdDate", "updatedDate"}},
	{name: "apikey", required: []string{"id", "apiKey", "apiSecret", "keyName", "updatedDate"},
		optional: []string{"createdDate", "permissions"}},
	{name: "variable", required: []string{"id", "name", "type", "createdDate", "updatedDate"}, optional: []string{"value"}},
	{name: "tool", required: []string{"id", "name", "description", "color", "createdDate", "updatedDate"},
		optional: []string{"iconSrc", "schema", "func"}},
	{name: "document_store", required: []string{"id", "name", "status", "createdDate", "updatedDate"},
		optional: []string{"description", "loaders", "whereUsed", "vectorStoreConfig", "embeddingConfig", "recordManagerConfig"}},
	{name: "document_store_file_chunk", required: []string{"id", "docId", "storeId", "chunkNo", "pageContent"},
		optional: []string{"metadata"}},
	{name: "chat_message", messages: true, required: []string{"id", "role", "chatflowid", "content", "chatId", "createdDate"},
		optional: []string{"executionId", "sourceDocuments", "usedTools", "fileUploads", "agentReasoning", "action", "chatType",
			"memoryType", "sessionId", "leadEmail"}},
	{name: "chat_message_feedback", messages: true, required: []string{"id", "chatflowid", "chatId", "messageId", "rating", "createdDate"},
		optional: []string{"content"}},
	{name: "lead", messages: true, required: []string{"id", "chatflowid", "chatId", "createdDate"},
		optional: []string{"name", "email", "phone"}},
	{name: "execution", messages: true, required: []string{"id", "executionData", "state", "agentflowId", "sessionId", "createdDate", "updatedDate"},
		optional: []string{"action", "isPublic", "stoppedDate"}},
}

// convert turns the rows of each table into Data. flowiseKey opens the credentials; it is
// needed only when there are some. Every row that cannot be read is reported, by table and
// id, in the error, and then Data is nil: an import writes all or nothing.
func convert(rows map[string][]row, flowiseKey *secrets.Cipher) (*Data, error) {
	d := &Data{Skipped: map[string]int{}}
	var errs []error
	if creds := rows["credential"]; len(creds) > 0 {
		if flowiseKey == nil {
			return nil, fmt.Errorf("the source has %d credentials but no Flowise encryption key was given", len(creds))
		}
		samples := make([]string, 0, len(creds))
		for _, r := range creds {
			if v := r["encryptedData"]; v != nil {
				samples = append(samples, *v)
			}
		}
		// A wrong key opens none of them: say that once, not once per row.
		if _, err := flowiseKey.CheckKey(samples); err != nil {
			return nil, fmt.Errorf("Flowise's encryption key: %w", err)
		}
	}
	flows := convertAll(rows, "chat_flow", &errs, chatFlow)
	for _, f := range flows {
		switch f.Type {
		case models.TypeChatflow, models.TypeAgentflow:
			d.Flows = append(d.Flows, f)
		default:
			d.Skipped[strings.ToLower(f.Type)+" flows (Flowgate runs CHATFLOW and AGENTFLOW)"]++
		}
	}
	d.Credentials = convertAll(rows, "credential", &errs, func(f *fields) Credential { return credential(f, flowiseKey) })
	d.APIKeys = convertAll(rows, "apikey", &errs, apiKey)
	if len(d.APIKeys) > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%d API keys: their plaintexts keep working; Flowise's per-key permissions do not come along (a Flowgate key may call every route)", len(d.APIKeys)))
		d.RestrictedKeys = restrictedKeys(rows["apikey"])
		for _, k := range d.RestrictedKeys {
			d.Notes = append(d.Notes, fmt.Sprintf("API key %s (%s) had restricted permissions in Flowise; in Flowgate it may call every route: delete it, give its clients a new key, or import with --skip-restricted-keys if that matters",
				k.ID, k.Name))
		}
	}
	d.Variables = convertAll(rows, "variable", &errs, variable)
	d.Tools = convertAll(rows, "tool", &errs, tool)
	d.Stores = convertAll(rows, "document_store", &errs, documentStore)
	d.Chunks = convertAll(rows, "document_store_file_chunk", &errs, chunk)
	for i, s := range d.Stores {
		// Flowgate keeps vectors in its own store, so none come along: a store that had them
		// is back to "chunks ready, not upserted" until it is upserted again.
		switch s.Status {
		case models.DocStoreUpserted, models.DocStoreUpserting, models.DocStoreSyncing:
			d.Stores[i].Status = models.DocStoreSync
			d.Notes = append(d.Notes, fmt.Sprintf("document store %s (%s) was %s in Flowise; its vectors stay behind, so it is %s until upserted again (POST /api/v1/document-store/upsert/%s)",
				s.ID, s.Name, s.Status, models.DocStoreSync, s.ID))
		}
	}
	d.Messages = convertAll(rows, "chat_message", &errs, chatMessage)
	d.Feedback = convertAll(rows, "chat_message_feedback", &errs, feedback)
	d.Leads = convertAll(rows, "lead", &errs, lead)
	d.Executions = convertAll(rows, "execution", &errs, execution)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d rows cannot be read, nothing was imported: %w", len(errs), joinCapped(errs, 20))
	}
	return d, nil
}

// joinCapped joins errs, the first max of them, and says how many more there were.
func joinCapped(errs []error, max int) error {
	if len(errs) <= max {
		return joinLines(errs)
	}
	return joinLines(append(errs[:max:max], fmt.Errorf("and %d more", len(errs)-max)))
}

type lines []error

func (l lines) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return "\n  " + strings.Join(parts, "\n  ")
}

func (l lines) Unwrap() []error { return l }

func joinLines(errs []error) error { return lines(errs) }

// convertAll converts every row of one table, collecting the rows that fail: an id that is
// missing, not one Flowise could have stored (see checkID) or given twice (an export file may
// list a flow under both ChatFlow and AgentFlowV2). NUL bytes are taken out of every value,
// as Flowise does before it saves a row (PostgreSQL's text cannot hold them).
func convertAll[T any](rows map[string][]row, name string, errs *[]error, conv func(*fields) T) []T {
	src := rows[name]
	out := make([]T, 0, len(src))
	seen := make(map[string]bool, len(src))
	for _, r := range src {
		for k, v := range r {
			if v != nil && strings.IndexByte(*v, 0) >= 0 {
				s := strings.ReplaceAll(*v, "\x00", "")
				r[k] = &s
			}
		}
		f := &fields{table: name, r: r}
		id := f.id()
		switch err := checkID(id); {
		case err != nil:
			f.fail("id", err)
		case seen[id]:
			f.fail("id", errors.New("the same id is given twice"))
		}
		seen[id] = true
		v := conv(f)
		if f.err != nil {
			*errs = append(*errs, f.err)
			continue
		}
		out = append(out, v)
	}
	return out
}

// maxIDLen is the length of Flowise's id columns, varchar(36) (a UUID).
const maxIDLen = 36

// checkID refuses an id Flowise could not have stored: empty, longer than its varchar(36), or
// with spaces or control characters.
func checkID(id string) error {
	if id == "" {
		return errNull
	}
	if !utf8.ValidString(id) || utf8.RuneCountInString(id) > maxIDLen {
		return fmt.Errorf("%q is not an id (at most %d characters)", clip(id), maxIDLen)
	}
	for _, r := range id {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%q is not an id (printable characters only)", clip(id))
		}
	}
	return nil
}

func chatFlow(f *fields) models.ChatFlow {
	typ := models.TypeChatflow
	if t := f.optText("type"); t != nil && *t != "" {
		typ = *t
	}
	return models.ChatFlow{ID: f.id(), Name: f.text("name"), FlowData: f.text("flowData"), Deployed: f.flag("deployed"),
		IsPublic: f.flag("isPublic"), APIKeyID: f.optText("apikeyid"), ChatbotConfig: f.optText("chatbotConfig"),
		APIConfig: f.optText("apiConfig"), Analytic: f.optText("analytic"), Category: f.optText("category"), Type: typ,
		CreatedDate: f.date("createdDate"), UpdatedDate: f.date("updatedDate")}
}

func credential(f *fields, key *secrets.Cipher) Credential {
	c := Credential{ID: f.id(), Name: f.text("name"), CredentialName: f.text("credentialName"),
		CreatedDate: f.date("createdDate"), UpdatedDate: f.date("updatedDate")}
	sealed := f.text("encryptedData")
	if f.err != nil {
		return c
	}
	plain, err := key.Decrypt(sealed)
	if err != nil {
		f.fail("encryptedData", err)
	}
	c.Plain = plain
	return c
}

func apiKey(f *fields) apikeys.Key {
	plaintext, secret := f.text("apiKey"), f.text("apiSecret")
	k := apikeys.Key{ID: f.id(), Name: f.text("keyName"), Prefix: apikeys.Prefix(plaintext), Secret: secret}
	k.CreatedAt = f.dateOr("createdDate", f.date("updatedDate"))
	switch {
	case f.err != nil:
	case plaintext == "":
		f.fail("apiKey", errNull)
	case !apikeys.ValidSecret(secret):
		f.fail("apiSecret", fmt.Errorf("not a Flowise API key secret (hex(scrypt).salt)"))
	case apikeys.Verify(plaintext, secret):
		// Flowise 3 keeps the plaintext; once the secret proves it, its fingerprint finds the
		// key from now on and the plaintext goes no further.
		k.Fingerprint = apikeys.Fingerprint(plaintext)
	default:
		f.fail("apiKey", fmt.Errorf("the key does not match its apiSecret"))
	}
	return k
}

// fullKeyPermissions are the permissions of a Flowise 3.1 API key that may do everything: those
// a key created with every box ticked holds and those Flowise's AddApiKeyPermission migration
// gave the keys that existed before permissions did.
var fullKeyPermissions = []string{
	"chatflows:view", "chatflows:create", "chatflows:update", "chatflows:duplicate", "chatflows:delete",
	"chatflows:export", "chatflows:import", "chatflows:config", "chatflows:domains",
	"agentflows:view", "agentflows:create", "agentflows:update", "agentflows:duplicate", "agentflows:delete",
	"agentflows:export", "agentflows:import", "agentflows:config", "agentflows:domains",
	"tools:view", "tools:create", "tools:update", "tools:delete", "tools:export",
	"assistants:view", "assistants:create", "assistants:update", "assistants:delete",
	"credentials:view", "credentials:create", "credentials:update", "credentials:delete",
	"variables:view", "variables:create", "variables:update", "variables:delete",
	"apikeys:view", "apikeys:create", "apikeys:update", "apikeys:delete",
	"documentStores:view", "documentStores:create", "documentStores:update", "documentStores:delete",
	"documentStores:add-loader", "documentStores:delete-loader", "documentStores:preview-process",
	"documentStores:upsert-config", "executions:view", "executions:delete",
}

// RestrictedKey is an API key whose Flowise permissions were not full.
type RestrictedKey struct{ ID, Name string }

// restrictedKeys lists the API keys whose Flowise permissions were not full: in Flowgate they
// may call every route, which an operator must know before clients keep using them.
func restrictedKeys(rows []row) []RestrictedKey {
	var out []RestrictedKey
	for _, r := range rows {
		p := r["permissions"]
		if p == nil {
			continue // a Flowise before permissions: every key could do everything
		}
		var perms []string
		full := json.Unmarshal([]byte(*p), &perms) == nil
		for _, want := range fullKeyPermissions {
			full = full && slices.Contains(perms, want)
		}
		if !full {
			f := &fields{r: r}
			k := RestrictedKey{ID: f.id()}
			if n := r["keyName"]; n != nil {
				k.Name = *n
			}
			out = append(out, k)
		}
	}
	return out
}

// SkipRestrictedKeys leaves out of d the API keys whose Flowise permissions were not full, and
// says so in the notes instead of warning about them.
func (d *Data) SkipRestrictedKeys() {
	if len(d.RestrictedKeys) == 0 {
		return
	}
	d.APIKeys = slices.DeleteFunc(d.APIKeys, func(k apikeys.Key) bool {
		return slices.ContainsFunc(d.RestrictedKeys, func(r RestrictedKey) bool { return r.ID == k.ID })
	})
	d.Notes = slices.DeleteFunc(d.Notes, func(n string) bool { return strings.Contains(n, "had restricted permissions in Flowise") })
	for _, k := range d.RestrictedKeys {
		d.Notes = append(d.Notes, fmt.Sprintf("API key %s (%s) had restricted permissions in Flowise: not imported (--skip-restricted-keys)", k.ID, k.Name))
	}
	d.RestrictedKeys = nil
}

func variable(f *fields) models.Variable {
	v := models.Variable{ID: f.id(), Name: f.text("name"), Type: f.text("type"),
		CreatedDate: f.date("createdDate"), UpdatedDate: f.date("updatedDate")}
	if s := f.optText("value"); s != nil {
		v.Value = *s
	}
	return v
}

func tool(f *fields) models.Tool {
	return models.Tool{ID: f.id(), Name: f.text("name"), Description: f.text("description"), Color: f.text("color"),
		IconSrc: f.optText("iconSrc"), Schema: f.optText("schema"), Func: f.optText("func"),
		CreatedDate: f.date("createdDate"), UpdatedDate: f.date("updatedDate")}
}

func documentStore(f *fields) models.DocumentStore {
	return models.DocumentStore{ID: f.id(), Name: f.text("name"), Description: f.optText("description"),
		Loaders: f.optText("loaders"), WhereUsed: f.optText("whereUsed"), Status: f.text("status"),
		VectorStoreConfig: f.optText("vectorStoreConfig"), EmbeddingConfig: f.optText("embeddingConfig"),
		RecordManagerConfig: f.optText("recordManagerConfig"), CreatedDate: f.date("createdDate"), UpdatedDate: f.date("updatedDate")}
}

func chunk(f *fields) models.DocumentStoreFileChunk {
	return models.DocumentStoreFileChunk{ID: f.id(), DocID: f.text("docId"), StoreID: f.text("storeId"),
		ChunkNo: f.number("chunkNo"), PageContent: f.text("pageContent"), Metadata: f.optText("metadata")}
}

func chatMessage(f *fields) models.ChatMessage {
	chatType := "INTERNAL"
	if t := f.optText("chatType"); t != nil && *t != "" {
		chatType = *t
	}
	return models.ChatMessage{ID: f.id(), Role: f.text("role"), ChatflowID: f.text("chatflowid"),
		ExecutionID: f.optText("executionId"), Content: f.text("content"), SourceDocuments: f.optText("sourceDocuments"),
		UsedTools: f.optText("usedTools"), FileUploads: f.optText("fileUploads"), AgentReasoning: f.optText("agentReasoning"),
		Action: f.optText("action"), ChatType: chatType, ChatID: f.text("chatId"), MemoryType: f.optText("memoryType"),
		SessionID: f.optText("sessionId"), CreatedDate: f.date("createdDate"), LeadEmail: f.optText("leadEmail")}
}

func feedback(f *fields) models.ChatMessageFeedback {
	return models.ChatMessageFeedback{ID: f.id(), ChatflowID: f.text("chatflowid"), ChatID: f.text("chatId"),
		MessageID: f.text("messageId"), Rating: f.text("rating"), Content: f.optText("content"), CreatedDate: f.date("createdDate")}
}

func lead(f *fields) models.Lead {
	return models.Lead{ID: f.id(), ChatflowID: f.text("chatflowid"), ChatID: f.text("chatId"), Name: f.optText("name"),
		Email: f.optText("email"), Phone: f.optText("phone"), CreatedDate: f.date("createdDate")}
}

func execution(f *fields) models.Execution {
	e := models.Execution{ID: f.id(), ExecutionData: f.text("executionData"), State: f.text("state"),
		AgentflowID: f.text("agentflowId"), SessionID: f.text("sessionId"), Action: f.optText("action"),
		CreatedDate: f.date("createdDate"), UpdatedDate: f.date("updatedDate"), StoppedDate: f.optDate("stoppedDate")}
	if p := f.flag("isPublic"); p != nil {
		e.IsPublic = *p
	}
	return e
}
