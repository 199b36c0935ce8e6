package zod

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

const movies = `z.array(z.object({
    title: z.string(), // Title of the movie as a string
    yearOfRelease: z.number().int(), // Release year as an integer number,
    genres: z.enum([
        "Action", "Comedy", "Drama", "Fantasy", "Horror",
        "Mystery", "Romance", "Science Fiction", "Thriller", "Documentary"
    ]).array().max(2), // Array of genres, max of 2 from the defined enum
    shortDescription: z.string().max(500) // Short description, max 500 characters
}))`

func TestParseMarketplaceSchema(t *testing.T) {
	typ, err := Parse(movies)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"array","items":{"type":"object","properties":{
		"title":{"type":"string"},"yearOfRelease":{"type":"integer"},
		"genres":{"type":"array","items":{"type":"string","enum":["Action","Comedy","Drama","Fantasy","Horror","Mystery","Romance","Science Fiction","Thriller","Documentary"]},"maxItems":2},
		"shortDescription":{"type":"string","maxLength":500}},
		"required":["title","yearOfRelease","genres","shortDescription"],"additionalProperties":false},
		"$schema":"http://json-schema.org/draft-07/schema#"}`, string(typ.JSONSchema()))

	var ok any
	require.NoError(t, json.Unmarshal([]byte(`[{"title":"Heat","yearOfRelease":1995,"genres":["Action","Drama"],"shortDescription":"x"}]`), &ok))
	_, err = Check(typ.JSONSchema(), ok)
	require.NoError(t, err)
	var bad any
	require.NoError(t, json.Unmarshal([]byte(`[{"title":"Heat","yearOfRelease":1995.5,"genres":[],"shortDescription":"x"}]`), &bad))
	_, err = Check(typ.JSONSchema(), bad)
	require.ErrorContains(t, err, "[0].yearOfRelease: expected integer")
}

func TestParseModifiersAndDefaults(t *testing.T) {
	typ, err := Parse(`z.object({ "a b": z.string().optional().describe('the "a"'), n: z.number().default(3), nested: z.object({ ok: z.boolean() }) })`)
	require.NoError(t, err)
	out, err := Check(typ.JSONSchema(), map[string]any{"nested": map[string]any{"ok": true}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"n": float64(3), "nested": map[string]any{"ok": true}}, out)
}

func TestParseRefusesCode(t *testing.T) {
	for _, src := range []string{
		`z.object({a: z.string().transform(x => x)})`,
		`z.object({a: z.custom()})`,
		`require("fs")`,
		`z.object({a: z.string()}); process.exit()`,
		"z.object({a: z.string().describe(`${process.env}`)})",
		`z.string()`,
	} {
		_, err := Parse(src)
		require.Error(t, err, src)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(movies)
	f.Add(`z.object({a: z.string().max(3).optional()})`)
	f.Add(`z.object({a: z.enum(["x"]).array().min(1)})`)
	f.Fuzz(func(t *testing.T, src string) {
		typ, err := Parse(src)
		if err != nil {
			return
		}
		var v any
		require.NoError(t, json.Unmarshal(typ.JSONSchema(), &v), "the schema is valid JSON")
		_, _ = Check(typ.JSONSchema(), v)
	})
}
