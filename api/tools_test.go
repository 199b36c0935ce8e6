package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/models"
)

func TestToolsRoutes(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	const schema = `[{"id":1,"property":"city","type":"string","description":"the city","required":true}]`

	// Create, as the Flowise UI does: schema as a JSON string.
	var created map[string]any
	body, _ := json.Marshal(map[string]any{"name": "get_weather", "description": "Weather for a city", "color": "linear-gradient(red, blue)", "schema": schema, "func": "return $city"})
	a.call("POST", "/api/v1/tools", string(body), http.StatusOK, &created)
	id, _ := created["id"].(string)
	require.NotEmpty(t, id)
	for _, field := range []string{"name", "description", "color", "iconSrc", "schema", "func", "createdDate", "updatedDate"} {
		require.Contains(t, created, field, "every Flowise field is present, null when unset")
	}
	require.Nil(t, created["iconSrc"])
	require.Equal(t, schema, created["schema"], "schema is kept as the string it was sent as")

	// The array itself is accepted and stored as its text.
	var second models.Tool
	a.call("POST", "/api/v1/tools", `{"name":"second","description":"d","schema":[{"property":"n","type":"number","required":false}]}`, http.StatusOK, &second)
	require.JSONEq(t, `[{"property":"n","type":"number","required":false}]`, *second.Schema)

	var got models.Tool
	a.call("GET", "/api/v1/tools/"+id, "", http.StatusOK, &got)
	require.Equal(t, "get_weather", got.Name)
	params, err := got.ParametersSchema()
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"object","properties":{"city":{"type":"string","description":"the city"}},"required":["city"],"additionalProperties":false}`, string(params))

	// Update merges the sent fields over the stored tool and moves it to the front.
	var updated models.Tool
	a.call("PUT", "/api/v1/tools/"+id, `{"description":"Weather, updated","iconSrc":"https://example.com/i.svg"}`, http.StatusOK, &updated)
	require.Equal(t, "get_weather", updated.Name)
	require.Equal(t, "Weather, updated", updated.Description)
	require.Equal(t, schema, *updated.Schema)
	require.Equal(t, "https://example.com/i.svg", *updated.IconSrc)

	var list []models.Tool
	a.call("GET", "/api/v1/tools", "", http.StatusOK, &list)
	require.Equal(t, []string{"get_weather", "second"}, []string{list[0].Name, list[1].Name})
	var page struct {
		Data  []models.Tool `json:"data"`
		Total int           `json:"total"`
	}
	a.call("GET", "/api/v1/tools?page=2&limit=1", "", http.StatusOK, &page)
	require.Equal(t, 2, page.Total)
	require.Len(t, page.Data, 1)
	require.Equal(t, "second", page.Data[0].Name)
	a.requireError("GET", "/api/v1/tools?limit=x", "", http.StatusBadRequest, "limit must be")

	// Validation, on create and on update.
	for _, tc := range []struct{ body, wantIn string }{
		{`{"description":"d"}`, "name is required"},
		{`{"name":"get weather","description":"d"}`, "name must be 1 to 64 letters, digits, underscores or hyphens"},
		{`{"name":"t"}`, "description is required"},
		{`{"name":"t","description":"d","schema":"{}"}`, "schema must be a JSON array"},
		{`{"name":"t","description":"d","schema":{"property":"x"}}`, "schema must be a JSON array"},
		{`{"name":"t","description":"d","schema":"[{\"property\":\"x\",\"type\":\"integer\"}]"}`, "type must be one of string, number, boolean, date"},
		{`{"name":"t","description":"d","schema":[{"property":"1x","type":"string"}]}`, "property must be letters, digits and underscores"},
		{`{"name":`, "invalid JSON body"},
	} {
		a.requireError("POST", "/api/v1/tools", tc.body, http.StatusBadRequest, tc.wantIn)
	}
	a.requireError("PUT", "/api/v1/tools/"+id, `{"name":""}`, http.StatusBadRequest, "name is required")
	a.call("GET", "/api/v1/tools/"+id, "", http.StatusOK, &got)
	require.Equal(t, "get_weather", got.Name, "a rejected update changes nothing")

	// Delete answers TypeORM's delete result; then the tool is gone everywhere.
	var deleted map[string]any
	a.call("DELETE", "/api/v1/tools/"+id, "", http.StatusOK, &deleted)
	require.Equal(t, map[string]any{"raw": []any{}, "affected": float64(1)}, deleted)
	missing := "Tool " + id + " not found"
	a.requireError("GET", "/api/v1/tools/"+id, "", http.StatusNotFound, missing)
	a.requireError("PUT", "/api/v1/tools/"+id, `{"name":"x"}`, http.StatusNotFound, missing)
	a.requireError("DELETE", "/api/v1/tools/"+id, "", http.StatusNotFound, missing)

	// The routes need a key, like every management route.
	a.key = "wrong"
	a.requireError("GET", "/api/v1/tools", "", http.StatusUnauthorized, "Unauthorized")
}
