package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is matched (errors.Is) by every ConflictError.
var ErrConflict = errors.New("already exists")

// ConflictError is a write refused because it would duplicate a value that must be unique,
// such as a variable's name.
type ConflictError struct {
	What  string // the entity, e.g. "variable"
	Value string // the duplicated value
}

func (e *ConflictError) Error() string { return fmt.Sprintf("%s %q already exists", e.What, e.Value) }

// Is makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// isUniqueViolation reports whether err is a unique constraint refusing a write, on either
// database. (GORM's TranslateError cannot tell: the SQLite dialect reads the code from the
// error's JSON form, which the pure-Go driver's error does not expose.)
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Store reads and writes Flowgate's entities.
type Store struct{ db *gorm.DB }

// NewStore wraps an open database.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// opTimeout bounds every statement, so that a database that is down or unreachable fails a
// request in seconds instead of holding it.
const opTimeout = 5 * time.Second

// with returns the handle for one operation, bounded by opTimeout, and its release.
func (s *Store) with(ctx context.Context) (*gorm.DB, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	return s.db.WithContext(ctx), cancel
}

// IsUnavailable reports errors that mean the database could not be reached in time, as
// opposed to a query that failed: callers answer 503 and clients retry.
func IsUnavailable(err error) bool {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Connection exceptions (class 08), the server shutting down or starting up (57P0x),
		// and too many connections: the server is there but cannot serve now.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P0") || pgErr.Code == "53300"
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		// A connection cut in the middle of a query reads as an early end of stream.
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.As(err, &netErr) || errors.As(err, &connErr) || pgconn.SafeToRetry(err)
}

// DB exposes the handle for health checks and tests.
func (s *Store) DB() *gorm.DB { return s.db }

func notFound(err error, what, id string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("load %s %s: %w", what, id, err)
}

// CreateChatFlow inserts a flow; dates are set here.
func (s *Store) CreateChatFlow(ctx context.Context, f *ChatFlow) error {
	db, done := s.with(ctx)
	defer done()
	now := time.Now().UTC()
	f.CreatedDate, f.UpdatedDate = now, now
	if f.Type == "" {
		f.Type = TypeChatflow
	}
	if err := db.Create(f).Error; err != nil {
		return fmt.Errorf("create chatflow: %w", err)
	}
	return nil
}

// ListChatFlows returns flows, newest first, optionally of one type.
func (s *Store) ListChatFlows(ctx context.Context, typ string) ([]ChatFlow, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Order(`"updatedDate" DESC`)
	if typ != "" {
		q = q.Where("type = ?", typ)
	}
	var flows []ChatFlow
	if err := q.Find(&flows).Error; err != nil {
		return nil, fmt.Errorf("list chatflows: %w", err)
	}
	return flows, nil
}

// ListChatFlowsForKey returns, by name, the flows bound to the API key keyID and, unless
// keyOnly, the flows bound to no key: those the key may run.
func (s *Store) ListChatFlowsForKey(ctx context.Context, keyID string, keyOnly bool) ([]ChatFlow, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Where("apikeyid = ?", keyID)
	if !keyOnly {
		q = q.Or("apikeyid IS NULL").Or("apikeyid = ''")
	}
	flows := []ChatFlow{}
	if err := q.Order("name ASC").Find(&flows).Error; err != nil {
		return nil, fmt.Errorf("list chatflows of API key %s: %w", keyID, err)
	}
	return flows, nil
}

// CallableChatFlows returns, by name, the flows of type typ a caller may name without knowing
// their id: with the API key keyID, those bound to it or to no key; without one (keyID ""),
// those bound to no key that their owners made public. name, when set, keeps the flows so
// named. Only the columns a listing shows are read, never the flow data.
func (s *Store) CallableChatFlows(ctx context.Context, typ, keyID, name string) ([]ChatFlow, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Select("id", "name", "apikeyid", "isPublic", "type", "createdDate").Where("type = ?", typ)
	if keyID != "" {
		q = q.Where("(apikeyid = ? OR apikeyid IS NULL OR apikeyid = '')", keyID)
	} else {
		q = q.Where(`"isPublic" = ? AND (apikeyid IS NULL OR apikeyid = '')`, true)
	}
	if name != "" {
		q = q.Where("name = ?", name)
	}
	flows := []ChatFlow{}
	if err := q.Order("name ASC").Find(&flows).Error; err != nil {
		return nil, fmt.Errorf("list callable chatflows: %w", err)
	}
	return flows, nil
}

// GetChatFlow loads one flow.
func (s *Store) GetChatFlow(ctx context.Context, id string) (*ChatFlow, error) {
	return getByID[ChatFlow](ctx, s, id, "chatflow")
}

// getByID reads one row of T by id; what names the entity in a not-found error.
func getByID[T any](ctx context.Context, s *Store, id, what string) (*T, error) {
	db, done := s.with(ctx)
	defer done()
	var row T
	if err := db.First(&row, "id = ?", id).Error; err != nil {
		return nil, notFound(err, what, id)
	}
	return &row, nil
}

// UpdateChatFlow saves all fields of an existing flow and bumps its updatedDate.
func (s *Store) UpdateChatFlow(ctx context.Context, f *ChatFlow) error {
	db, done := s.with(ctx)
	defer done()
	f.UpdatedDate = time.Now().UTC()
	return updateByID(db, f, "chatflow", f.ID)
}

// updateByID writes every column of row, except id and createdDate, to the row of T with id;
// what names the entity in errors, and a missing row is ErrNotFound.
func updateByID[T any](db *gorm.DB, row *T, what, id string) error {
	res := db.Model(new(T)).Where("id = ?", id).Select("*").Omit("id", "createdDate").Updates(row)
	if res.Error != nil {
		return fmt.Errorf("update %s %s: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return nil
}

// DeleteChatFlow removes a flow and its messages together.
func (s *Store) DeleteChatFlow(ctx context.Context, id string) error {
	db, done := s.with(ctx)
	defer done()
	return db.Transaction(func(tx *gorm.DB) error {
		if err := deleteByID(tx, &ChatFlow{}, "chatflow", id); err != nil {
			return err
		}
		if err := tx.Delete(&ChatMessage{}, "chatflowid = ?", id).Error; err != nil {
			return fmt.Errorf("delete messages of chatflow %s: %w", id, err)
		}
		// As in Flowise, the flow's feedback goes with it; its leads stay.
		if err := tx.Delete(&ChatMessageFeedback{}, "chatflowid = ?", id).Error; err != nil {
			return fmt.Errorf("delete feedback of chatflow %s: %w", id, err)
		}
		return nil
	})
}

// CreateCredential inserts an already encrypted credential.
func (s *Store) CreateCredential(ctx context.Context, c *Credential) error {
	db, done := s.with(ctx)
	defer done()
	now := time.Now().UTC()
	c.CreatedDate, c.UpdatedDate = now, now
	if err := db.Create(c).Error; err != nil {
		return fmt.Errorf("create credential: %w", err)
	}
	return nil
}

// ListCredentials returns credentials, optionally only of the given credential names.
func (s *Store) ListCredentials(ctx context.Context, names []string) ([]Credential, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Order(`"updatedDate" DESC`)
	if len(names) > 0 {
		q = q.Where(`"credentialName" IN ?`, names)
	}
	var creds []Credential
	if err := q.Find(&creds).Error; err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return creds, nil
}

// GetCredential loads one credential, still encrypted.
func (s *Store) GetCredential(ctx context.Context, id string) (*Credential, error) {
	return getByID[Credential](ctx, s, id, "credential")
}

// SampleCredentials returns up to n credentials, newest first, still encrypted: what a
// start-up check decrypts to prove the key is right.
func (s *Store) SampleCredentials(ctx context.Context, n int) ([]Credential, error) {
	db, done := s.with(ctx)
	defer done()
	var creds []Credential
	if err := db.Order(`"updatedDate" DESC`).Limit(n).Find(&creds).Error; err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	return creds, nil
}

// Reencrypt replaces a credential's encrypted data if it still holds old, so a rotation never
// overwrites a concurrent edit. It reports whether the row was replaced.
func (s *Store) Reencrypt(ctx context.Context, id, old, sealed, keyID string) (bool, error) {
	db, done := s.with(ctx)
	defer done()
	res := db.Model(&Credential{}).Where(`id = ? AND "encryptedData" = ?`, id, old).
		Updates(map[string]any{"encryptedData": sealed, "keyId": keyID})
	if res.Error != nil {
		return false, fmt.Errorf("re-encrypt credential %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// UpdateCredential saves name and encrypted data.
func (s *Store) UpdateCredential(ctx context.Context, c *Credential) error {
	db, done := s.with(ctx)
	defer done()
	c.UpdatedDate = time.Now().UTC()
	res := db.Model(&Credential{}).Where("id = ?", c.ID).
		Updates(map[string]any{"name": c.Name, "encryptedData": c.EncryptedData, "keyId": c.KeyID, "updatedDate": c.UpdatedDate})
	if res.Error != nil {
		return fmt.Errorf("update credential %s: %w", c.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("credential %s: %w", c.ID, ErrNotFound)
	}
	return nil
}

// DeleteCredential removes one credential.
func (s *Store) DeleteCredential(ctx context.Context, id string) error {
	db, done := s.with(ctx)
	defer done()
	return deleteByID(db, &Credential{}, "credential", id)
}

// deleteByID deletes the row of model with id; a missing row is ErrNotFound.
func deleteByID(db *gorm.DB, model any, what, id string) error {
	res := db.Delete(model, "id = ?", id)
	if res.Error != nil {
		return fmt.Errorf("delete %s %s: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return nil
}

// SaveMessages writes the messages of one turn. Rows whose id already exists are left alone,
// so a retried save (same ids) writes each message exactly once.
func (s *Store) SaveMessages(ctx context.Context, msgs ...ChatMessage) error {
	return s.SaveTurn(ctx, nil, msgs...)
}

// SaveTurn stores a turn's messages and, for an agentflow, its execution record, all or
// nothing: a retried save writes the same rows and updates the record in place.
func (s *Store) SaveTurn(ctx context.Context, exec *Execution, msgs ...ChatMessage) error {
	db, done := s.with(ctx)
	defer done()
	var err error
	if exec == nil {
		// A chatflow's turn is one INSERT, all or nothing on its own: the transaction GORM
		// opens around a write by default would only add a BEGIN and a COMMIT to every
		// prediction.
		err = insertMessages(db.Session(&gorm.Session{SkipDefaultTransaction: true}), msgs)
	} else {
		err = db.Transaction(func(tx *gorm.DB) error {
			if err := insertMessages(tx, msgs); err != nil {
				return err
			}
			return tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "id"}},
				DoUpdates: clause.AssignmentColumns([]string{"executionData", "state", "action", "updatedDate", "stoppedDate"}),
			}).Create(exec).Error
		})
	}
	if err != nil {
		return fmt.Errorf("save the turn: %w", err)
	}
	return nil
}

// insertMessages inserts msgs in one statement, leaving alone the rows whose id exists.
func insertMessages(db *gorm.DB, msgs []ChatMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	return db.Clauses(clause.OnConflict{DoNothing: true}).Create(&msgs).Error
}

// ExecutionFilter selects executions; zero fields do not filter.
type ExecutionFilter struct {
	AgentflowID, SessionID, State string
	Page, Limit                   int // Page counts from 1; Limit 0 means all
}

// ListExecutions returns a page of the executions f selects, newest first, and how many it
// selects in all.
func (s *Store) ListExecutions(ctx context.Context, f ExecutionFilter) ([]Execution, int64, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Model(&Execution{})
	for _, cond := range []struct{ col, v string }{{`"agentflowId"`, f.AgentflowID}, {`"sessionId"`, f.SessionID}, {"state", f.State}} {
		if cond.v != "" {
			q = q.Where(cond.col+" = ?", cond.v)
		}
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count executions: %w", err)
	}
	q = q.Order(`"updatedDate" DESC`)
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(max(f.Page-1, 0) * f.Limit)
	}
	var out []Execution
	if err := q.Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list executions: %w", err)
	}
	return out, total, nil
}

// GetExecution returns one execution.
func (s *Store) GetExecution(ctx context.Context, id string) (*Execution, error) {
	return getByID[Execution](ctx, s, id, "execution")
}

// MessageFilter selects messages of one chatflow; zero fields do not filter.
type MessageFilter struct {
	ChatflowID  string
	ChatID      string
	SessionID   string
	ChatTypes   []string
	Start, End  *time.Time
	Descending  bool
	Page, Limit int // Page counts from 1; Limit 0 means all
}

func (f MessageFilter) apply(q *gorm.DB) *gorm.DB {
	q = q.Where("chatflowid = ?", f.ChatflowID)
	if f.ChatID != "" {
		q = q.Where(`"chatId" = ?`, f.ChatID)
	}
	if f.SessionID != "" {
		q = q.Where(`"sessionId" = ?`, f.SessionID)
	}
	if len(f.ChatTypes) > 0 {
		q = q.Where(`"chatType" IN ?`, f.ChatTypes)
	}
	return createdBetween(q, f.Start, f.End)
}

// ListMessages returns the messages matching f, oldest first unless f.Descending.
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) ([]ChatMessage, error) {
	db, done := s.with(ctx)
	defer done()
	order := `"createdDate" ASC, role DESC`
	if f.Descending {
		order = `"createdDate" DESC, role ASC`
	}
	q := f.apply(db.Model(&ChatMessage{})).Order(order)
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(max(f.Page-1, 0) * f.Limit)
	}
	var msgs []ChatMessage
	if err := q.Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("list chat messages: %w", err)
	}
	return msgs, nil
}

// DeleteMessages removes the messages matching f, and their feedback, and returns how many
// messages went.
func (s *Store) DeleteMessages(ctx context.Context, f MessageFilter) (int64, error) {
	db, done := s.with(ctx)
	defer done()
	var n int64
	err := db.Transaction(func(tx *gorm.DB) error {
		ids := f.apply(tx.Model(&ChatMessage{})).Select("id")
		if err := tx.Where(`"messageId" IN (?)`, ids).Delete(&ChatMessageFeedback{}).Error; err != nil {
			return fmt.Errorf("delete their feedback: %w", err)
		}
		res := f.apply(tx).Delete(&ChatMessage{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("delete chat messages: %w", err)
	}
	return n, nil
}

// MessageChatIDs returns the distinct chat ids of the messages f selects.
func (s *Store) MessageChatIDs(ctx context.Context, f MessageFilter) ([]string, error) {
	db, done := s.with(ctx)
	defer done()
	var ids []string
	if err := f.apply(db.Model(&ChatMessage{})).Distinct(`"chatId"`).Order(`"chatId"`).Pluck(`"chatId"`, &ids).Error; err != nil {
		return nil, fmt.Errorf("list chat ids: %w", err)
	}
	return ids, nil
}

// History returns the last limit messages of a session in conversation order (limit 0: all).
func (s *Store) History(ctx context.Context, chatflowID, sessionID string, limit int) ([]ChatMessage, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Where(`chatflowid = ? AND "sessionId" = ?`, chatflowID, sessionID).
		Order(`"createdDate" DESC, role ASC`)
	if limit > 0 {
		q = q.Limit(limit)
	}
	var msgs []ChatMessage
	if err := q.Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("load chat history: %w", err)
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, nil
}

// ListVariables returns every variable by name.
func (s *Store) ListVariables(ctx context.Context) ([]Variable, error) {
	db, done := s.with(ctx)
	defer done()
	var vars []Variable
	if err := db.Order("name").Find(&vars).Error; err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	return vars, nil
}

// SaveVariable creates or updates a variable (by id); names are unique, and a name another
// variable has is a ConflictError.
func (s *Store) SaveVariable(ctx context.Context, v *Variable, create bool) error {
	db, done := s.with(ctx)
	defer done()
	now := time.Now().UTC()
	v.UpdatedDate = now
	if create {
		v.CreatedDate = now
		if err := db.Create(v).Error; err != nil {
			return variableWriteError("create", v, err)
		}
		return nil
	}
	res := db.Model(&Variable{}).Where("id = ?", v.ID).
		Updates(map[string]any{"name": v.Name, "value": v.Value, "type": v.Type, "updatedDate": now})
	if res.Error != nil {
		return variableWriteError("update", v, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("variable %s: %w", v.ID, ErrNotFound)
	}
	return nil
}

// variableWriteError wraps a failed write of v; a taken name is a ConflictError.
func variableWriteError(op string, v *Variable, err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("%s variable %s: %w", op, v.ID, &ConflictError{What: "variable", Value: v.Name})
	}
	return fmt.Errorf("%s variable %s: %w", op, v.ID, err)
}

// GetVariable loads one variable.
func (s *Store) GetVariable(ctx context.Context, id string) (*Variable, error) {
	db, done := s.with(ctx)
	defer done()
	var v Variable
	if err := db.First(&v, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "variable", id)
	}
	return &v, nil
}

// DeleteVariable removes one variable.
func (s *Store) DeleteVariable(ctx context.Context, id string) error {
	db, done := s.with(ctx)
	defer done()
	return deleteByID(db, &Variable{}, "variable", id)
}
