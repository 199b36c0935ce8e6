package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/models"
)

// tools serves the custom tools agents can call.
type tools struct {
	store *models.Store
	log   *slog.Logger
	// metrics counts creations (nil: off).
	metrics *telemetry.Metrics
}

func (h *tools) routes(_, v1 *gin.RouterGroup) {
	v1.GET("/tools", h.list)
	v1.GET("/tools/:id", h.get)
	v1.POST("/tools", h.create)
	v1.PUT("/tools/:id", h.update)
	v1.DELETE("/tools/:id", h.delete)
}

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
func (h *tools) failTool(c *gin.Context, err error) {
	if errors.Is(err, models.ErrInvalidTool) {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	failErr(c, h.log, "Tool", err)
}

// list answers GET /api/v1/tools: every tool, most recently updated first; with page and
// limit (both above 0, as in Flowise 3.x) one page as {data, total}.
func (h *tools) list(c *gin.Context) {
	page, limit, err := pageParams(c)
	if err != nil {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	list, total, err := h.store.ListTools(c, page, limit)
	if err != nil {
		failErr(c, h.log, "Tools", err)
		return
	}
	if page > 0 && limit > 0 {
		c.JSON(http.StatusOK, gin.H{"data": list, "total": total})
		return
	}
	c.JSON(http.StatusOK, list)
}

// get answers GET /api/v1/tools/{id}.
func (h *tools) get(c *gin.Context) {
	t, err := h.store.GetTool(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Tool", err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// create answers POST /api/v1/tools with the saved tool.
func (h *tools) create(c *gin.Context) {
	var b toolBody
	if !bindJSON(c, &b) {
		return
	}
	t := &models.Tool{ID: uuid.NewString()}
	if err := b.apply(t); err != nil {
		h.failTool(c, err)
		return
	}
	if err := h.store.CreateTool(c, t); err != nil {
		h.failTool(c, err)
		return
	}
	h.metrics.Count(c, telemetry.ToolCreated, true)
	c.JSON(http.StatusOK, t)
}

// update answers PUT /api/v1/tools/{id}: the sent fields merged over the stored tool.
func (h *tools) update(c *gin.Context) {
	t, err := h.store.GetTool(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Tool", err)
		return
	}
	var b toolBody
	if !bindJSON(c, &b) {
		return
	}
	if err := b.apply(t); err != nil {
		h.failTool(c, err)
		return
	}
	if err := h.store.UpdateTool(c, t); err != nil {
		h.failTool(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// delete answers DELETE /api/v1/tools/{id} with TypeORM's delete result, as Flowise does.
func (h *tools) delete(c *gin.Context) {
	if err := h.store.DeleteTool(c, c.Param("id")); err != nil {
		failErr(c, h.log, "Tool", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}
