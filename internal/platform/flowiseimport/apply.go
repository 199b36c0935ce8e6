package flowiseimport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

// Destination is the Flowgate an import writes to.
type Destination struct {
	DB *gorm.DB
	// Cipher seals credentials with Flowgate's key; required when there are credentials.
	Cipher *secrets.Cipher
	// Keys is the API key store (APIKEY_STORAGE_TYPE); required when there are API keys.
	// With KeysInDB (APIKEY_STORAGE_TYPE=db) keys are written in the same transaction as the
	// rest, to DB's apikey table.
	Keys     apikeys.Store
	KeysInDB bool
	// KeepHistory leaves chat messages, feedback, leads and executions that Flowgate already
	// has under an id as they are: only new ones are inserted. The export-import route sets
	// it, so that an uploaded file cannot rewrite a conversation's record.
	KeepHistory bool
}

// Count is what an import did, or would do, with one kind of row.
type Count struct {
	Kind                    string
	New, Updated, Unchanged int
}

// Report is an import's summary.
type Report struct {
	Source  string
	DryRun  bool
	Counts  []Count
	Skipped map[string]int
	Notes   []string
	Elapsed time.Duration
	// Committed says the rows were written, even when a later step (the API keys' file)
	// failed: the summary is then still true and worth printing.
	Committed bool
}

// Changed reports whether the import wrote (or would write) anything.
func (r Report) Changed() bool {
	for _, c := range r.Counts {
		if c.New+c.Updated > 0 {
			return true
		}
	}
	return false
}

// ErrConflict marks an import refused because a row would take a unique value (a variable's
// name, a feedback's message) that another row here already has.
var ErrConflict = errors.New("conflicts with what Flowgate has")

// errDryRun rolls back a dry run's transaction, in which nothing was written anyway.
var errDryRun = errors.New("dry run")

// Apply writes data to dst: each row by its id, new rows inserted, rows that differ
// updated, rows equal to what is there left alone, so running it twice changes nothing the
// second time. Every kind is written in one transaction (API keys in a JSON file right after
// it commits, in one write), so a failure leaves nothing half-imported. With dryRun it only
// counts.
func Apply(ctx context.Context, dst Destination, data *Data, dryRun bool) (Report, error) {
	rep := Report{DryRun: dryRun, Skipped: data.Skipped, Notes: slices.Clone(data.Notes)}
	if len(data.Credentials) > 0 && dst.Cipher == nil {
		return rep, errors.New("credentials to import but no Flowgate encryption key")
	}
	if len(data.APIKeys) > 0 && dst.Keys == nil && !dst.KeysInDB {
		return rep, errors.New("API keys to import but no Flowgate key store")
	}
	var keysAfter func() error
	err := dst.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		w := &writer{tx: tx, dry: dryRun}
		history := &writer{tx: tx, dry: dryRun, insertOnly: dst.KeepHistory}
		var flows, agentflows []models.ChatFlow
		for _, f := range data.Flows {
			if f.Type == models.TypeAgentflow {
				agentflows = append(agentflows, f)
			} else {
				flows = append(flows, f)
			}
		}
		creds, haveCreds, err := sealCredentials(tx, dst.Cipher, data.Credentials)
		if err != nil {
			return err
		}
		if err := checkUnique(tx, "variable", "name", data.Variables, func(v *models.Variable) (string, string) { return v.ID, v.Name }); err != nil {
			return err
		}
		if err := checkUnique(tx, "feedback", `"messageId"`, data.Feedback, func(f *models.ChatMessageFeedback) (string, string) { return f.ID, f.MessageID }); err != nil {
			return err
		}
		stores, chunks, kept, err := leaveUpserted(tx, data.Stores, data.Chunks)
		if err != nil {
			return err
		}
		for _, s := range kept {
			rep.Notes = append(rep.Notes, fmt.Sprintf("document store %s (%s) has been upserted in Flowgate since it was imported: it and its chunks are kept as Flowgate has them", s.ID, s.Name))
		}
		steps := []func() (Count, error){
			func() (Count, error) { return upsert(w, "chatflows", flows, chatFlowID) },
			func() (Count, error) { return upsert(w, "agentflows", agentflows, chatFlowID) },
			func() (Count, error) { return upsertOver(w, "credentials", creds, credentialID, haveCreds) },
			func() (Count, error) {
				return upsert(w, "variables", data.Variables, func(v *models.Variable) string { return v.ID })
			},
			func() (Count, error) {
				return upsert(w, "custom tools", data.Tools, func(t *models.Tool) string { return t.ID })
			},
			func() (Count, error) {
				c, err := upsert(w, "document stores", stores, storeID)
				c.Unchanged += len(kept)
				return c, err
			},
			func() (Count, error) {
				c, err := upsert(w, "document chunks", chunks, func(c *models.DocumentStoreFileChunk) string { return c.ID })
				c.Unchanged += len(data.Chunks) - len(chunks)
				return c, err
			},
			func() (Count, error) {
				return upsert(history, "chat messages", data.Messages, func(m *models.ChatMessage) string { return m.ID })
			},
			func() (Count, error) {
				return upsert(history, "feedback", data.Feedback, func(f *models.ChatMessageFeedback) string { return f.ID })
			},
			func() (Count, error) {
				return upsert(history, "leads", data.Leads, func(l *models.Lead) string { return l.ID })
			},
			func() (Count, error) {
				return upsert(history, "executions", data.Executions, func(e *models.Execution) string { return e.ID })
			},
		}
		for _, step := range steps {
			c, err := step()
			if err != nil {
				return err
			}
			rep.Counts = append(rep.Counts, c)
		}
		for _, c := range rep.Counts {
			if n := history.kept[c.Kind]; n > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%d %s differ from what Flowgate has under the same id and were left as they are (an upload adds history, never rewrites it); counted unchanged", n, c.Kind))
			}
		}
		store := dst.Keys
		if dst.KeysInDB {
			store = apikeys.NewDBStore(tx)
		}
		c, write, err := planKeys(ctx, store, data.APIKeys)
		if err != nil {
			return err
		}
		rep.Counts = append(rep.Counts, c)
		switch {
		case dryRun:
			return errDryRun
		case dst.KeysInDB:
			return write()
		default:
			keysAfter = write
			return nil
		}
	})
	if errors.Is(err, errDryRun) {
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	rep.Committed = true
	if keysAfter != nil {
		if err := keysAfter(); err != nil {
			return rep, fmt.Errorf("the rows were imported, the API keys were not (run the import again): %w", err)
		}
	}
	return rep, nil
}

func chatFlowID(f *models.ChatFlow) string     { return f.ID }
func credentialID(c *models.Credential) string { return c.ID }
func storeID(s *models.DocumentStore) string   { return s.ID }
func clearCredentialID(c *Credential) string   { return c.ID }

// writer writes rows inside the import's transaction, or with dry set only reads.
type writer struct {
	tx  *gorm.DB
	dry bool
	// insertOnly leaves rows already here as they are, counting those that differ in kept.
	insertOnly bool
	kept       map[string]int
}

// idBatch bounds the ids of one IN (...) query and the rows of one insert.
const idBatch = 500

// existing loads the rows of T with the given ids, by id.
func existing[T any](tx *gorm.DB, ids []string, id func(*T) string) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	for chunk := range slices.Chunk(ids, idBatch) {
		var rows []T
		if err := tx.Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for i := range rows {
			out[id(&rows[i])] = rows[i]
		}
	}
	return out, nil
}

// upsert writes rows of one kind by id and counts what it did.
func upsert[T any](w *writer, kind string, rows []T, id func(*T) string) (Count, error) {
	if len(rows) == 0 {
		return Count{Kind: kind}, nil
	}
	have, err := existing(w.tx, idsOf(rows, id), id)
	if err != nil {
		return Count{Kind: kind}, fmt.Errorf("import %s: read what is there: %w", kind, err)
	}
	return upsertOver(w, kind, rows, id, have)
}

func idsOf[T any](rows []T, id func(*T) string) []string {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = id(&rows[i])
	}
	return ids
}

// upsertOver is upsert with the rows already here (have, by id) read by the caller.
func upsertOver[T any](w *writer, kind string, rows []T, id func(*T) string, have map[string]T) (Count, error) {
	c := Count{Kind: kind}
	ids := idsOf(rows, id)
	var fresh []T
	for i := range rows {
		old, ok := have[ids[i]]
		switch {
		case !ok:
			c.New++
			fresh = append(fresh, rows[i])
		case same(old, rows[i]):
			c.Unchanged++
		case w.insertOnly:
			c.Unchanged++
			if w.kept == nil {
				w.kept = map[string]int{}
			}
			w.kept[kind]++
		default:
			c.Updated++
			if !w.dry {
				if err := w.tx.Select("*").Save(&rows[i]).Error; err != nil {
					return c, writeError(kind, ids[i], err)
				}
			}
		}
	}
	if len(fresh) > 0 && !w.dry {
		if err := w.tx.CreateInBatches(fresh, idBatch/5).Error; err != nil {
			return c, writeError(kind, "", err)
		}
	}
	return c, nil
}

// writeError is a failed write of kind (of the row id, when one row was written): a unique
// value another row already has is ErrConflict, which the database's message details.
func writeError(kind, id string, err error) error {
	what := kind
	if id != "" {
		what += " " + id
	}
	if models.IsUniqueViolation(err) {
		return fmt.Errorf("import %s: %w: %v", what, ErrConflict, err)
	}
	return fmt.Errorf("import %s: %w", what, err)
}

// same compares two rows as the database keeps them: dates in UTC to the microsecond
// (PostgreSQL's precision).
func same[T any](a, b T) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}

func normalized[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch t := f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(t.UTC().Truncate(time.Microsecond)))
		case *time.Time:
			if t != nil {
				n := t.UTC().Truncate(time.Microsecond)
				f.Set(reflect.ValueOf(&n))
			}
		}
	}
	return v
}

// sealCredentials turns credentials in the clear into rows sealed with Flowgate's key, and
// returns the credentials already here too, for upsertOver. A credential already stored with
// the same fields keeps its sealed value, so that a second import finds it unchanged (sealing
// is randomised).
func sealCredentials(tx *gorm.DB, cipher *secrets.Cipher, creds []Credential) ([]models.Credential, map[string]models.Credential, error) {
	if len(creds) == 0 {
		return nil, nil, nil
	}
	have, err := existing(tx, idsOf(creds, clearCredentialID), credentialID)
	if err != nil {
		return nil, nil, fmt.Errorf("import credentials: read what is there: %w", err)
	}
	out := make([]models.Credential, len(creds))
	keyID := cipher.KeyID()
	for i, c := range creds {
		row := models.Credential{ID: c.ID, Name: c.Name, CredentialName: c.CredentialName, KeyID: &keyID,
			CreatedDate: c.CreatedDate, UpdatedDate: c.UpdatedDate}
		if old, ok := have[c.ID]; ok {
			if plain, err := cipher.Decrypt(old.EncryptedData); err == nil && maps.EqualFunc(plain, c.Plain, func(a, b any) bool { return reflect.DeepEqual(a, b) }) {
				row.EncryptedData, row.KeyID = old.EncryptedData, old.KeyID
			}
		}
		if row.EncryptedData == "" {
			if row.EncryptedData, err = cipher.Encrypt(c.Plain); err != nil {
				return nil, nil, fmt.Errorf("import credential %s: %w", c.ID, err)
			}
		}
		out[i] = row
	}
	return out, have, nil
}

// leaveUpserted takes out of an import the document stores that Flowgate has vectors for, and
// their chunks: they were upserted here after an earlier import, which replaced their chunks
// and configs with Flowgate's own, and importing Flowise's again would undo that.
func leaveUpserted(tx *gorm.DB, stores []models.DocumentStore, chunks []models.DocumentStoreFileChunk) (
	[]models.DocumentStore, []models.DocumentStoreFileChunk, []models.DocumentStore, error) {
	if len(stores) == 0 {
		return stores, chunks, nil, nil
	}
	var upserted []string
	err := tx.Model(&models.DocStoreVector{}).Distinct(`"storeId"`).Where(`"storeId" IN ?`, idsOf(stores, storeID)).Pluck(`"storeId"`, &upserted).Error
	if err != nil {
		return nil, nil, nil, fmt.Errorf("import document stores: %w", err)
	}
	if len(upserted) == 0 {
		return stores, chunks, nil, nil
	}
	isUpserted := make(map[string]bool, len(upserted))
	for _, id := range upserted {
		isUpserted[id] = true
	}
	var keep, kept []models.DocumentStore
	for _, s := range stores {
		if isUpserted[s.ID] {
			kept = append(kept, s)
		} else {
			keep = append(keep, s)
		}
	}
	var keepChunks []models.DocumentStoreFileChunk
	for _, c := range chunks {
		if !isUpserted[c.StoreID] {
			keepChunks = append(keepChunks, c)
		}
	}
	return keep, keepChunks, kept, nil
}

// checkUnique refuses rows of what whose unique column (a variable's name, a feedback's
// message id) another row has, in the import or already in Flowgate, with each row's id: the
// database would refuse the write with no id to name.
func checkUnique[T any](tx *gorm.DB, what, column string, rows []T, key func(*T) (id, value string)) error {
	var errs []error
	seen := map[string]string{}
	label := strings.Trim(column, `"`)
	for i := range rows {
		id, value := key(&rows[i])
		if other, dup := seen[value]; dup {
			errs = append(errs, fmt.Errorf("%s %s (%s): %s %s has the same %s", what, id, value, what, other, label))
		}
		seen[value] = id
		var clash []string
		err := tx.Model(new(T)).Where(column+" = ? AND id <> ?", value, id).Limit(1).Pluck("id", &clash).Error
		if err != nil {
			return fmt.Errorf("import %s: %w", what, err)
		}
		if len(clash) > 0 {
			errs = append(errs, fmt.Errorf("%s %s (%s): Flowgate already has %s %s with that %s", what, id, value, what, clash[0], label))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("import %s: %w: %w", what, ErrConflict, joinCapped(errs, 20))
	}
	return nil
}

// planKeys counts what importing keys into store would do and returns the write that does it.
func planKeys(ctx context.Context, store apikeys.Store, keys []apikeys.Key) (Count, func() error, error) {
	c := Count{Kind: "API keys"}
	if len(keys) == 0 {
		return c, func() error { return nil }, nil
	}
	stored, err := store.List(ctx)
	if err != nil {
		return c, nil, fmt.Errorf("import API keys: %w", err)
	}
	byID := make(map[string]apikeys.Key, len(stored))
	for _, k := range stored {
		byID[k.ID] = k
	}
	var changed []apikeys.Key
	for _, k := range keys {
		old, ok := byID[k.ID]
		switch {
		case !ok:
			c.New++
		case old.Name == k.Name && old.Prefix == k.Prefix && old.Secret == k.Secret && old.Fingerprint == k.Fingerprint &&
			old.CreatedAt.Truncate(time.Second).Equal(k.CreatedAt.Truncate(time.Second)):
			c.Unchanged++
			continue
		default:
			c.Updated++
		}
		changed = append(changed, k)
	}
	return c, func() error {
		if err := apikeys.ImportKeys(ctx, store, changed); err != nil {
			return fmt.Errorf("import API keys: %w", err)
		}
		return nil
	}, nil
}
