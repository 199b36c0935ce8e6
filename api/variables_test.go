package api

import (
	"fmt"
	"net/http"
	"testing"
)

// TestVariableNameTaken: creating or renaming a variable to a name another one has is 409 in
// Flowise's error shape, on both databases, and nothing is logged as an error.
func TestVariableNameTaken(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			a := newTestAPI(t, db)
			a.call("POST", "/api/v1/variables", `{"name":"tone","value":"dry"}`, http.StatusOK, nil)
			a.requireError("POST", "/api/v1/variables", `{"name":"tone","value":"wet"}`, http.StatusConflict, `Variable "tone" already exists`)

			var other struct{ ID string }
			a.call("POST", "/api/v1/variables", `{"name":"mood"}`, http.StatusOK, &other)
			a.requireError("PUT", fmt.Sprintf("/api/v1/variables/%s", other.ID), `{"name":"tone"}`, http.StatusConflict, `Variable "tone" already exists`)
			a.call("PUT", "/api/v1/variables/"+other.ID, `{"name":"mood","value":"calm"}`, http.StatusOK, nil)
			a.logs.requireNoErrors(t)
		})
	}
}
