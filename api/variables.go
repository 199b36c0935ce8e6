package api

import (
	"log/slog"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/models"
)

// variables serves the variables flows read as {{$vars.<name>}}.
type variables struct {
	store *models.Store
	log   *slog.Logger
}

func (h *variables) routes(_, v1 *gin.RouterGroup) {
	v1.GET("/variables", h.list)
	v1.POST("/variables", h.create)
	v1.PUT("/variables/:id", h.update)
	v1.DELETE("/variables/:id", h.delete)
}

type variableBody struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
	Type  *string `json:"type"`
}

// variableName keeps names usable in {{$vars.<name>}}.
var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (b variableBody) apply(v *models.Variable) (string, bool) {
	if b.Name != nil {
		if !variableName.MatchString(*b.Name) {
			return "name must be letters, digits and underscores, not starting with a digit", false
		}
		v.Name = *b.Name
	}
	if b.Value != nil {
		v.Value = *b.Value
	}
	if b.Type != nil {
		if *b.Type != models.VariableStatic && *b.Type != models.VariableRuntime {
			return `type must be "static" or "runtime"`, false
		}
		v.Type = *b.Type
	}
	return "", true
}

func (h *variables) list(c *gin.Context) {
	vars, err := h.store.ListVariables(c)
	if err != nil {
		failErr(c, h.log, "Variables", err)
		return
	}
	c.JSON(http.StatusOK, vars)
}

func (h *variables) create(c *gin.Context) {
	var b variableBody
	if !bindJSON(c, &b) {
		return
	}
	if b.Name == nil {
		fail(c, http.StatusBadRequest, "name is required")
		return
	}
	v := &models.Variable{ID: uuid.NewString(), Type: models.VariableStatic}
	if msg, ok := b.apply(v); !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if err := h.store.SaveVariable(c, v, true); err != nil {
		failErr(c, h.log, "Variable", err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *variables) update(c *gin.Context) {
	v, err := h.store.GetVariable(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Variable", err)
		return
	}
	var b variableBody
	if !bindJSON(c, &b) {
		return
	}
	if msg, ok := b.apply(v); !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if err := h.store.SaveVariable(c, v, false); err != nil {
		failErr(c, h.log, "Variable", err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *variables) delete(c *gin.Context) {
	if err := h.store.DeleteVariable(c, c.Param("id")); err != nil {
		failErr(c, h.log, "Variable", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}
