package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

// TestToolsAPI: custom tools as a Flowise client manages them, on each database, kept across a
// restart.
func TestToolsAPI(t *testing.T) {
	for name, mutate := range map[string]func(*config.Config){
		"sqlite": func(*config.Config) {},
		"postgres": func(cfg *config.Config) {
			cfg.Database = models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: pgtest.NewDatabase(t), User: pgtest.User}
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, mutate)
			type tool struct {
				ID          string    `json:"id"`
				Name        string    `json:"name"`
				Description string    `json:"description"`
				Color       string    `json:"color"`
				IconSrc     *string   `json:"iconSrc"`
				Schema      *string   `json:"schema"`
				Func        *string   `json:"func"`
				CreatedDate time.Time `json:"createdDate"`
				UpdatedDate time.Time `json:"updatedDate"`
			}
			// The body the Flowise UI sends: schema as a JSON string of grid rows.
			const schema = `[{"id":1,"property":"city","description":"the city","type":"string","required":true}]`
			var weather, clock tool
			h.doJSON("POST", "/api/v1/tools", map[string]any{
				"name": "get_weather", "description": "Weather for a city", "color": "linear-gradient(rgb(1,2,3), rgb(4,5,6))",
				"schema": schema, "func": "return `sunny in ${$city}`", "iconSrc": "",
			}, 200, &weather)
			require.NotEmpty(t, weather.ID)
			require.Equal(t, schema, *weather.Schema)
			h.doJSON("POST", "/api/v1/tools", map[string]any{"name": "clock", "description": "The time"}, 200, &clock)
			require.Nil(t, clock.Schema)
			require.Nil(t, clock.Func)

			var list []tool
			h.doJSON("GET", "/api/v1/tools", nil, 200, &list)
			require.Len(t, list, 2)
			require.Equal(t, "clock", list[0].Name, "most recently updated first")

			var updated tool
			h.doJSON("PUT", "/api/v1/tools/"+weather.ID, map[string]any{"func": "return $city"}, 200, &updated)
			require.Equal(t, "return $city", *updated.Func)
			require.Equal(t, "Weather for a city", updated.Description, "fields not sent are kept")
			require.True(t, updated.UpdatedDate.After(weather.UpdatedDate))

			status, body := h.do("POST", "/api/v1/tools", map[string]any{"name": "get weather", "description": "d"})
			requireFlowiseError(t, status, body, 400, "name must be 1 to 64 letters, digits, underscores or hyphens")
			status, body = h.do("PUT", "/api/v1/tools/"+weather.ID, map[string]any{"schema": `[{"property":"city","type":"text"}]`})
			requireFlowiseError(t, status, body, 400, "type must be one of string, number, boolean, date")

			// A restart keeps the tools.
			h.stop()
			h = startHarness(t, h.cfg)
			var got tool
			h.doJSON("GET", "/api/v1/tools/"+weather.ID, nil, 200, &got)
			require.Equal(t, "return $city", *got.Func)
			require.Equal(t, schema, *got.Schema)

			var deleted map[string]any
			h.doJSON("DELETE", "/api/v1/tools/"+weather.ID, nil, 200, &deleted)
			require.EqualValues(t, 1, deleted["affected"])
			status, body = h.do("GET", "/api/v1/tools/"+weather.ID, nil)
			requireFlowiseError(t, status, body, 404, "Tool "+weather.ID+" not found")
			status, body = h.do("DELETE", "/api/v1/tools/"+weather.ID, nil)
			requireFlowiseError(t, status, body, 404, "not found")
			h.doJSON("GET", "/api/v1/tools", nil, 200, &list)
			require.Len(t, list, 1)

			h.key = ""
			status, body = h.do("GET", "/api/v1/tools", nil)
			requireFlowiseError(t, status, body, 401, "Unauthorized")
		})
	}
}
