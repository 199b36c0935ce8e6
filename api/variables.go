package api

import (
	"net/http"
	"os"
	"regexp"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/models"
)

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

func (s *Server) listVariables(c *gin.Context) {
	vars, err := s.store.ListVariables(c)
	if err != nil {
		s.failErr(c, "Variables", err)
		return
	}
	c.JSON(http.StatusOK, vars)
}

func (s *Server) createVariable(c *gin.Context) {
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
	if err := s.store.SaveVariable(c, v, true); err != nil {
		s.failErr(c, "Variable", err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) updateVariable(c *gin.Context) {
	v, err := s.store.GetVariable(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Variable", err)
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
	if err := s.store.SaveVariable(c, v, false); err != nil {
		s.failErr(c, "Variable", err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) deleteVariable(c *gin.Context) {
	if err := s.store.DeleteVariable(c, c.Param("id")); err != nil {
		s.failErr(c, "Variable", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}

// flowVariables are the values of {{$vars.*}} for one prediction: static variables as stored,
// runtime ones from this server's environment, then the caller's overrides the chatflow allows.
func (s *Server) flowVariables(c *gin.Context, allowed map[string]string) (map[string]string, error) {
	stored, err := s.store.ListVariables(c)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(stored)+len(allowed))
	for _, v := range stored {
		if v.Type == models.VariableRuntime {
			out[v.Name] = os.Getenv(v.Name)
		} else {
			out[v.Name] = v.Value
		}
	}
	for k, v := range allowed {
		out[k] = v
	}
	return out, nil
}
