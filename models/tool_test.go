package models

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// weatherSchema is a schema as the Flowise UI saves it: a JSON string, rows with a grid row id.
const weatherSchema = `[{"id":1,"property":"city","type":"string","description":"the city","required":true},` +
	`{"id":2,"property":"days","type":"number","description":"","required":false}]`

func TestToolValidate(t *testing.T) {
	valid := Tool{Name: "get_weather-2", Description: "Weather for a city", Schema: ptr(weatherSchema)}
	require.NoError(t, valid.Validate())
	noSchema := valid
	noSchema.Schema = nil
	require.NoError(t, noSchema.Validate(), "a tool may take no arguments")
	emptySchema := valid
	emptySchema.Schema = ptr("[]")
	require.NoError(t, emptySchema.Validate())

	for _, tc := range []struct {
		name   string
		edit   func(*Tool)
		wantIn string
	}{
		{"no name", func(tl *Tool) { tl.Name = "" }, "name is required"},
		{"space in name", func(tl *Tool) { tl.Name = "get weather" }, "name must be 1 to 64"},
		{"dot in name", func(tl *Tool) { tl.Name = "get.weather" }, "name must be 1 to 64"},
		{"long name", func(tl *Tool) { tl.Name = strings.Repeat("a", 65) }, "name must be 1 to 64"},
		{"no description", func(tl *Tool) { tl.Description = "  " }, "description is required"},
		{"schema not JSON", func(tl *Tool) { tl.Schema = ptr("city: string") }, "schema must be a JSON array"},
		{"schema an object", func(tl *Tool) { tl.Schema = ptr(`{"property":"city"}`) }, "schema must be a JSON array"},
		{"row not an object", func(tl *Tool) { tl.Schema = ptr(`["city"]`) }, "schema must be a JSON array"},
		{"required not a bool", func(tl *Tool) { tl.Schema = ptr(`[{"property":"city","type":"string","required":"yes"}]`) }, "schema must be a JSON array"},
		{"blank row", func(tl *Tool) {
			tl.Schema = ptr(`[{"id":1,"property":"","type":"","description":"","required":false}]`)
		}, "schema item 1: property must be"},
		{"property not an identifier", func(tl *Tool) { tl.Schema = ptr(`[{"property":"user-id","type":"string"}]`) }, `got "user-id"`},
		{"unknown type", func(tl *Tool) { tl.Schema = ptr(`[{"property":"n","type":"integer"}]`) }, `schema item 1 (n): type must be one of string, number, boolean, date, got "integer"`},
		{"duplicate property", func(tl *Tool) {
			tl.Schema = ptr(`[{"property":"n","type":"number"},{"property":"n","type":"string"}]`)
		}, `schema item 2: property "n" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := valid
			tc.edit(&tl)
			err := tl.Validate()
			require.ErrorIs(t, err, ErrInvalidTool)
			require.ErrorContains(t, err, tc.wantIn)
		})
	}
}

func TestToolParametersSchema(t *testing.T) {
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"no schema", "", `{"type":"object","properties":{},"additionalProperties":false}`},
		{"each type", `[
			{"id":1,"property":"city","type":"string","description":"the city","required":true},
			{"id":2,"property":"days","type":"number","description":"","required":false},
			{"id":3,"property":"metric","type":"boolean","description":"SI units","required":true},
			{"id":4,"property":"from","type":"date","description":"first day"}]`,
			`{"type":"object","properties":{` +
				`"city":{"type":"string","description":"the city"},` +
				`"days":{"type":"number"},` +
				`"from":{"type":"string","format":"date-time","description":"first day"},` +
				`"metric":{"type":"boolean","description":"SI units"}},` +
				`"required":["city","metric"],"additionalProperties":false}`},
		// What Flowise's UI can save and Flowise tolerates: a blank row, a later duplicate.
		{"blank row skipped", `[{"id":1,"property":"","type":"","description":"","required":false},{"property":"q","type":"string","required":true}]`,
			`{"type":"object","properties":{"q":{"type":"string"}},"required":["q"],"additionalProperties":false}`},
		{"unknown type skipped", `[{"property":"n","type":"integer","required":true}]`,
			`{"type":"object","properties":{},"additionalProperties":false}`},
		{"later duplicate wins, keeps first place", `[
			{"property":"a","type":"number","required":true},
			{"property":"b","type":"string","required":true},
			{"property":"a","type":"string","description":"again","required":true}]`,
			`{"type":"object","properties":{"a":{"type":"string","description":"again"},"b":{"type":"string"}},"required":["a","b"],"additionalProperties":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := Tool{Name: "t"}
			if tc.schema != "" {
				tl.Schema = ptr(tc.schema)
			}
			got, err := tl.ParametersSchema()
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(got))
		})
	}

	_, err := Tool{Name: "broken", Schema: ptr("not json")}.ParametersSchema()
	require.ErrorContains(t, err, "tool broken: schema must be a JSON array")
}

func TestToolStore(t *testing.T) {
	for name, s := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := &Tool{ID: uuid.NewString(), Name: "a", Description: "first", Color: "red", Schema: ptr(weatherSchema), Func: ptr("return $city")}
			require.NoError(t, s.CreateTool(ctx, a))
			b := &Tool{ID: uuid.NewString(), Name: "b", Description: "second"}
			require.NoError(t, s.CreateTool(ctx, b))

			got, err := s.GetTool(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, weatherSchema, *got.Schema)
			require.Equal(t, "return $city", *got.Func)
			require.Nil(t, got.IconSrc)
			gotB, err := s.GetTool(ctx, b.ID)
			require.NoError(t, err)
			require.Nil(t, gotB.Schema, "an unset schema stays NULL, as in Flowise")

			// Listing: most recently updated first, all or one page.
			tools, total, err := s.ListTools(ctx, 0, 0)
			require.NoError(t, err)
			require.EqualValues(t, 2, total)
			require.Equal(t, []string{"b", "a"}, toolNames(tools))
			createdA := got.CreatedDate
			a.Description = "first, edited"
			require.NoError(t, s.UpdateTool(ctx, a))
			tools, total, err = s.ListTools(ctx, 1, 1)
			require.NoError(t, err)
			require.EqualValues(t, 2, total)
			require.Equal(t, []string{"a"}, toolNames(tools))
			tools, _, err = s.ListTools(ctx, 2, 1)
			require.NoError(t, err)
			require.Equal(t, []string{"b"}, toolNames(tools))

			got, err = s.GetTool(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, "first, edited", got.Description)
			require.WithinDuration(t, createdA, got.CreatedDate, time.Millisecond, "an update keeps createdDate")
			require.True(t, got.UpdatedDate.After(createdA))

			require.ErrorIs(t, s.UpdateTool(ctx, &Tool{ID: uuid.NewString(), Name: "x", Description: "x"}), ErrNotFound)
			require.NoError(t, s.DeleteTool(ctx, a.ID))
			require.ErrorIs(t, s.DeleteTool(ctx, a.ID), ErrNotFound)
			_, err = s.GetTool(ctx, a.ID)
			require.ErrorIs(t, err, ErrNotFound)
		})
	}
}

func toolNames(tools []Tool) []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Name
	}
	return out
}
