package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Tool is a custom tool written in Flowise: what a model is told about it (name, description and
// the arguments in Schema) and the JavaScript body that runs when the model calls it.
type Tool struct {
	ID          string `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	Name        string `gorm:"column:name;not null" json:"name"`
	Description string `gorm:"column:description;type:text;not null" json:"description"`
	// Color is the card background the Flowise UI picks (a CSS gradient).
	Color   string  `gorm:"column:color;not null" json:"color"`
	IconSrc *string `gorm:"column:iconSrc" json:"iconSrc"`
	// Schema is a JSON string holding the arguments as an array of ToolProperty, as in Flowise.
	Schema *string `gorm:"column:schema;type:text" json:"schema"`
	// Func is the JavaScript body; it reads each argument as $<property> and returns a string.
	Func        *string   `gorm:"column:func;type:text" json:"func"`
	CreatedDate time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate time.Time `gorm:"column:updatedDate;not null" json:"updatedDate"`
}

// TableName is Flowise's.
func (Tool) TableName() string { return "tool" }

// ToolProperty is one argument of a custom tool, a row of the Flowise UI's input schema grid.
// Other keys of a row (the grid's row id) are ignored.
type ToolProperty struct {
	Property    string `json:"property"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

// ToolPropertyTypes are the argument types the Flowise UI offers.
var ToolPropertyTypes = []string{"string", "number", "boolean", "date"}

var (
	// toolName is what OpenAI and the other providers accept as a function name.
	toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// propertyName keeps an argument usable as the JavaScript variable $<property>.
	propertyName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ErrInvalidTool marks a tool that Validate rejects; the message says why.
var ErrInvalidTool = errors.New("invalid tool")

// Properties decodes Schema; a tool without a schema has no arguments.
func (t Tool) Properties() ([]ToolProperty, error) {
	if t.Schema == nil || strings.TrimSpace(*t.Schema) == "" {
		return nil, nil
	}
	var props []ToolProperty
	if err := json.Unmarshal([]byte(*t.Schema), &props); err != nil {
		return nil, fmt.Errorf("schema must be a JSON array of {property, type, description, required} objects: %w", err)
	}
	return props, nil
}

// Validate checks what the API accepts: a name a provider takes as a function name, a
// description, and a schema whose every row is a distinct identifier with a known type. Errors
// wrap ErrInvalidTool.
func (t Tool) Validate() error {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidTool, fmt.Sprintf(format, args...))
	}
	switch {
	case t.Name == "":
		return invalid("name is required")
	case !toolName.MatchString(t.Name):
		return invalid("name must be 1 to 64 letters, digits, underscores or hyphens, got %q", t.Name)
	case strings.TrimSpace(t.Description) == "":
		return invalid("description is required")
	}
	props, err := t.Properties()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTool, err)
	}
	seen := make(map[string]bool, len(props))
	for i, p := range props {
		switch {
		case !propertyName.MatchString(p.Property):
			return invalid("schema item %d: property must be letters, digits and underscores, not starting with a digit, got %q", i+1, p.Property)
		case seen[p.Property]:
			return invalid("schema item %d: property %q appears twice", i+1, p.Property)
		case !slices.Contains(ToolPropertyTypes, p.Type):
			return invalid("schema item %d (%s): type must be one of %s, got %q", i+1, p.Property, strings.Join(ToolPropertyTypes, ", "), p.Type)
		}
		seen[p.Property] = true
	}
	return nil
}

// jsonSchemaObject and jsonSchemaProperty are the JSON schema of a tool's arguments, laid out as
// zod-to-json-schema writes Flowise's zod object (a z.object strips unknown keys, hence
// additionalProperties false).
type jsonSchemaObject struct {
	Type                 string                        `json:"type"`
	Properties           map[string]jsonSchemaProperty `json:"properties"`
	Required             []string                      `json:"required,omitempty"`
	AdditionalProperties bool                          `json:"additionalProperties"`
}

type jsonSchemaProperty struct {
	Type        string `json:"type"`
	Format      string `json:"format,omitempty"`
	Description string `json:"description,omitempty"`
}

// ParametersSchema is the JSON schema of the tool's arguments, what a model is offered:
// {"type":"object","properties":{...},"required":[...],"additionalProperties":false}.
//
// It maps rows as Flowise's convertSchemaToZod does: string, number and boolean as themselves,
// date (z.date) as a string in date-time format; a required row is listed in required, and a
// description is kept when not empty. Like Flowise it tolerates what its UI can save: a row of
// another type (a blank row) is skipped, and of two rows with one property the later wins. A
// row without a property is skipped too, since no code could read it. Only a schema that is
// not a JSON array of rows is an error.
func (t Tool) ParametersSchema() (json.RawMessage, error) {
	props, err := t.Properties()
	if err != nil {
		return nil, fmt.Errorf("tool %s: %w", t.Name, err)
	}
	out := jsonSchemaObject{Type: "object", Properties: map[string]jsonSchemaProperty{}}
	// required follows the order in which properties first appear, as a JS object's keys do.
	var order []string
	required := map[string]bool{}
	for _, p := range props {
		if p.Property == "" || !slices.Contains(ToolPropertyTypes, p.Type) {
			continue
		}
		prop := jsonSchemaProperty{Type: p.Type, Description: p.Description}
		if p.Type == "date" {
			prop.Type, prop.Format = "string", "date-time"
		}
		if _, dup := out.Properties[p.Property]; !dup {
			order = append(order, p.Property)
		}
		out.Properties[p.Property] = prop
		required[p.Property] = p.Required
	}
	for _, name := range order {
		if required[name] {
			out.Required = append(out.Required, name)
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("tool %s: encode parameters schema: %w", t.Name, err)
	}
	return raw, nil
}

// ListTools returns tools, most recently updated first, as Flowise lists them. With limit > 0
// it returns that page (page counts from 1) and the number of tools in all; otherwise every tool
// and their count.
func (s *Store) ListTools(ctx context.Context, page, limit int) ([]Tool, int64, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Model(&Tool{}).Order(`"updatedDate" DESC`)
	var total int64
	if limit > 0 {
		if err := q.Count(&total).Error; err != nil {
			return nil, 0, fmt.Errorf("count tools: %w", err)
		}
		q = q.Limit(limit).Offset(max(page-1, 0) * limit)
	}
	var tools []Tool
	if err := q.Find(&tools).Error; err != nil {
		return nil, 0, fmt.Errorf("list tools: %w", err)
	}
	if limit <= 0 {
		total = int64(len(tools))
	}
	return tools, total, nil
}

// GetTool loads one tool.
func (s *Store) GetTool(ctx context.Context, id string) (*Tool, error) {
	return getByID[Tool](ctx, s, id, "tool")
}

// CreateTool inserts a tool; dates are set here.
func (s *Store) CreateTool(ctx context.Context, t *Tool) error {
	db, done := s.with(ctx)
	defer done()
	now := time.Now().UTC()
	t.CreatedDate, t.UpdatedDate = now, now
	if err := db.Create(t).Error; err != nil {
		return fmt.Errorf("create tool %s: %w", t.Name, err)
	}
	return nil
}

// UpdateTool saves all fields of an existing tool and bumps its updatedDate.
func (s *Store) UpdateTool(ctx context.Context, t *Tool) error {
	db, done := s.with(ctx)
	defer done()
	t.UpdatedDate = time.Now().UTC()
	return updateByID(db, t, "tool", t.ID)
}

// DeleteTool removes one tool.
func (s *Store) DeleteTool(ctx context.Context, id string) error {
	db, done := s.with(ctx)
	defer done()
	return deleteByID(db, &Tool{}, "tool", id)
}
