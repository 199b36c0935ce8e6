package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/models"
)

// toolBody is what POST and PUT /api/v1/tools accept: the fields Flowise lets a client set.
// Absent fields are left as they are.
type toolBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Color       *string `json:"color"`
	IconSrc     *string `json:"iconSrc"`
	// Schema is, as Flowise's UI sends it, a JSON string holding the array of arguments; the
	// array itself is accepted too and stored as its text.
	Schema json.RawMessage `json:"schema"`
	Func   *string         `json:"func"`
}

// apply copies the sent fields onto t and checks the result.
func (b toolBody) apply(t *models.Tool) error {
	if b.Name != nil {
		t.Name = *b.Name
	}
	if b.Description != nil {
		t.Description = *b.Description
	}
	if b.Color != nil {
		t.Color = *b.Color
	}
	if b.IconSrc != nil {
		t.IconSrc = b.IconSrc
	}
	if b.Func != nil {
		t.Func = b.Func
	}
	if schema, ok, err := schemaText(b.Schema); err != nil {
		return err
	} else if ok {
		t.Schema = &schema
	}
	return t.Validate()
}

// schemaText reads the schema field: a JSON string is the schema's text, an array is encoded
// as text, and null or an absent field leaves the schema unchanged (ok false).
func schemaText(raw json.RawMessage) (text string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false, nil
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", false, fmt.Errorf("%w: schema: %w", models.ErrInvalidTool, err)
		}
		return text, true, nil
	case raw[0] == '[':
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return "", false, fmt.Errorf("%w: schema: %w", models.ErrInvalidTool, err)
		}
		return compact.String(), true, nil
	default:
		return "", false, fmt.Errorf("%w: schema must be a JSON array of {property, type, description, required} objects, or that array as a string", models.ErrInvalidTool)
	}
}

// failTool answers an invalid tool with 400 and anything else as a store error.
func (s *Server) failTool(c *gin.Context, err error) {
	if errors.Is(err, models.ErrInvalidTool) {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	s.failErr(c, "Tool", err)
}

// listTools answers GET /api/v1/tools: every tool, most recently updated first; with page and
// limit (both above 0, as in Flowise 3.x) one page as {data, total}.
func (s *Server) listTools(c *gin.Context) {
	page, limit, err := pageParams(c)
	if err != nil {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	tools, total, err := s.store.ListTools(c, page, limit)
	if err != nil {
		s.failErr(c, "Tools", err)
		return
	}
	if page > 0 && limit > 0 {
		c.JSON(http.StatusOK, gin.H{"data": tools, "total": total})
		return
	}
	c.JSON(http.StatusOK, tools)
}

// getTool answers GET /api/v1/tools/{id}.
func (s *Server) getTool(c *gin.Context) {
	t, err := s.store.GetTool(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Tool", err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// createTool answers POST /api/v1/tools with the saved tool.
func (s *Server) createTool(c *gin.Context) {
	var b toolBody
	if !bindJSON(c, &b) {
		return
	}
	t := &models.Tool{ID: uuid.NewString()}
	if err := b.apply(t); err != nil {
		s.failTool(c, err)
		return
	}
	if err := s.store.CreateTool(c, t); err != nil {
		s.failTool(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// updateTool answers PUT /api/v1/tools/{id}: the sent fields merged over the stored tool.
func (s *Server) updateTool(c *gin.Context) {
	t, err := s.store.GetTool(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Tool", err)
		return
	}
	var b toolBody
	if !bindJSON(c, &b) {
		return
	}
	if err := b.apply(t); err != nil {
		s.failTool(c, err)
		return
	}
	if err := s.store.UpdateTool(c, t); err != nil {
		s.failTool(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// deleteTool answers DELETE /api/v1/tools/{id} with TypeORM's delete result, as Flowise does.
func (s *Server) deleteTool(c *gin.Context) {
	if err := s.store.DeleteTool(c, c.Param("id")); err != nil {
		s.failErr(c, "Tool", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}
