package flowiseimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gorm.io/gorm"

	"github.com/flowgate/flowgate/models"
)

// Flowise's export file (Settings → Export, the body of POST /api/v1/export-import/export and
// of .../import) is one JSON object: FileDefaultName, then an array of entity rows per key,
// each row an object with the entity's column names.

// exportTables maps the export file's keys to the tables their rows belong to. The keys
// without a table hold what Flowgate has no place for; their rows are counted as skipped.
var exportTables = map[string]string{
	"ChatFlow":               "chat_flow",
	"AgentFlowV2":            "chat_flow",
	"AgentFlow":              "chat_flow", // MULTIAGENT flows: skipped by type
	"AssistantFlow":          "chat_flow", // ASSISTANT flows: skipped by type
	"ChatMessage":            "chat_message",
	"ChatMessageFeedback":    "chat_message_feedback",
	"DocumentStore":          "document_store",
	"DocumentStoreFileChunk": "document_store_file_chunk",
	"Execution":              "execution",
	"Tool":                   "tool",
	"Variable":               "variable",
	"AssistantCustom":        "",
	"AssistantOpenAI":        "",
	"AssistantAzure":         "",
	"CustomTemplate":         "",
}

// ErrExport marks an export file that cannot be read; the message says why.
var ErrExport = errors.New("not a Flowise export file")

// maxExportDepth bounds the nesting of a value inside a row: Flowise's rows are flat, their
// JSON columns are strings.
const maxExportDepth = 64

// ParseExport reads a Flowise export file of at most limit bytes. Every row is checked as
// an import from a database would check it; any that cannot be read fails the whole file,
// named by its table and id.
func ParseExport(r io.Reader, limit int64) (*Data, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read export file: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrExport, limit)
	}
	if err := checkDepth(b, maxExportDepth); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExport, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return nil, fmt.Errorf("%w: the file must be a JSON object", ErrExport)
	}
	rows := map[string][]row{}
	skipped := map[string]int{}
	known := 0
	for key, raw := range top {
		name, ok := exportTables[key]
		if !ok {
			continue // FileDefaultName, and what a later Flowise may add
		}
		known++
		var objs []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &objs); err != nil {
			return nil, fmt.Errorf("%w: %s must be an array of objects", ErrExport, key)
		}
		if name == "" {
			if len(objs) > 0 {
				skipped[key+" (not supported by Flowgate)"] += len(objs)
			}
			continue
		}
		for i, o := range objs {
			if o == nil {
				return nil, fmt.Errorf("%w: %s[%d] must be an object", ErrExport, key, i)
			}
			rows[name] = append(rows[name], exportRow(o))
		}
	}
	if known == 0 {
		return nil, fmt.Errorf("%w: it has none of Flowise's keys (ChatFlow, AgentFlowV2, Tool, Variable, ...)", ErrExport)
	}
	d, err := convert(rows, nil)
	if err != nil {
		return nil, err
	}
	for k, n := range skipped {
		d.Skipped[k] += n
	}
	return d, nil
}

// exportRow turns a row of the export file into text columns: strings as they are, null as
// NULL, and numbers, booleans, objects and arrays as their JSON text.
func exportRow(o map[string]json.RawMessage) row {
	r := make(row, len(o))
	for k, raw := range o {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) == 0 || string(raw) == "null":
			continue
		case raw[0] == '"':
			var s string
			if json.Unmarshal(raw, &s) == nil {
				r[k] = &s
			}
		default:
			s := string(raw)
			r[k] = &s
		}
	}
	return r
}

// checkDepth refuses JSON nested deeper than max before it is decoded.
func checkDepth(b []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return fmt.Errorf("nested deeper than %d levels", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// Selection is what an export holds: the body of Flowise's POST /api/v1/export-import/export,
// one boolean per kind.
type Selection struct {
	AgentflowV2   bool `json:"agentflowv2"`
	Chatflow      bool `json:"chatflow"`
	ChatMessage   bool `json:"chat_message"`
	ChatFeedback  bool `json:"chat_feedback"`
	DocumentStore bool `json:"document_store"`
	Execution     bool `json:"execution"`
	Tool          bool `json:"tool"`
	Variable      bool `json:"variable"`
}

// ParseSelection reads an export request's body: an object whose every known key, if
// present, is a boolean, as Flowise requires. Keys of what Flowgate does not keep (agentflow,
// assistant, custom_template) are accepted and export empty arrays.
func ParseSelection(b []byte) (Selection, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return Selection{}, errors.New("the body must be a JSON object of booleans such as {\"chatflow\":true}")
	}
	for k, v := range raw {
		if s := strings.TrimSpace(string(v)); s != "true" && s != "false" && s != "null" {
			return Selection{}, fmt.Errorf("invalid %s property in the export request: want a boolean", k)
		}
	}
	var sel Selection
	if err := json.Unmarshal(b, &sel); err != nil {
		return Selection{}, fmt.Errorf("read export request: %w", err)
	}
	return sel, nil
}

// Export is Flowgate's data in Flowise's export format, so a file exported here imports into
// Flowise or another Flowgate, and a Flowise export imports here.
func Export(ctx context.Context, db *gorm.DB, sel Selection) (map[string]any, error) {
	out := map[string]any{"FileDefaultName": "ExportData.json"}
	for _, k := range []string{"AgentFlow", "AssistantCustom", "AssistantFlow", "AssistantOpenAI", "AssistantAzure", "CustomTemplate"} {
		out[k] = []any{}
	}
	db = db.WithContext(ctx)
	var err error
	load := func(key string, want bool, dst any, query func(*gorm.DB) *gorm.DB) {
		if err != nil {
			return
		}
		if want {
			if e := query(db).Find(dst).Error; e != nil {
				err = fmt.Errorf("export %s: %w", key, e)
				return
			}
		}
		out[key] = dst
	}
	flows := func(typ string) func(*gorm.DB) *gorm.DB {
		return func(q *gorm.DB) *gorm.DB { return q.Where("type = ?", typ).Order(`"createdDate"`) }
	}
	all := func(q *gorm.DB) *gorm.DB { return q.Order("id") }
	load("ChatFlow", sel.Chatflow, &[]models.ChatFlow{}, flows(models.TypeChatflow))
	load("AgentFlowV2", sel.AgentflowV2, &[]models.ChatFlow{}, flows(models.TypeAgentflow))
	load("ChatMessage", sel.ChatMessage, &[]models.ChatMessage{}, func(q *gorm.DB) *gorm.DB { return q.Order(`"createdDate", id`) })
	load("ChatMessageFeedback", sel.ChatFeedback, &[]models.ChatMessageFeedback{}, all)
	load("DocumentStore", sel.DocumentStore, &[]models.DocumentStore{}, all)
	load("DocumentStoreFileChunk", sel.DocumentStore, &[]models.DocumentStoreFileChunk{}, all)
	load("Execution", sel.Execution, &[]models.Execution{}, all)
	load("Tool", sel.Tool, &[]models.Tool{}, all)
	load("Variable", sel.Variable, &[]models.Variable{}, all)
	if err != nil {
		return nil, err
	}
	return out, nil
}
