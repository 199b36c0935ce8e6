package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// decodePrediction decodes a JSON prediction body as the route does.
func decodePrediction(t testing.TB, body []byte) (predictionBody, int) {
	t.Helper()
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest("POST", "/api/v1/prediction/x", bytes.NewReader(body))
	c.Request.Header.Set("Content-Type", "application/json")
	b, _, ok := readPrediction(c)
	if !ok {
		return b, rec.Code
	}
	return b, 200
}

func TestPredictionBodyBounds(t *testing.T) {
	b, status := decodePrediction(t, []byte(`{"question":"hi","overrideConfig":{"sessionId":"s1","vars":{"tone":"dry"},"temperature":0.2},
		"history":[{"role":"userMessage","content":"a"}],"uploads":[{"type":"url","name":"x","data":"https://x"}],"ignored":[1,2,3]}`))
	require.Equal(t, 200, status)
	require.Equal(t, "s1", b.sessionID())
	require.Equal(t, map[string]any{"tone": "dry"}, b.requestedVars())
	require.Len(t, b.History, 1)
	require.Len(t, b.Uploads, 1)

	tooMany := func(field string, n int, item string) []byte {
		return []byte(`{"question":"hi","` + field + `":[` + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + `]}`)
	}
	for name, body := range map[string][]byte{
		"history":        tooMany("history", maxHistory+1, `{"role":"userMessage","content":""}`),
		"uploads":        tooMany("uploads", maxUploads+1, `{"type":"url","name":"x","data":"y"}`),
		"overrideConfig": []byte(`{"overrideConfig":{"x":"` + strings.Repeat("a", maxObjectBytes) + `"}}`),
		"form":           []byte(`{"form":{"x":"` + strings.Repeat("a", maxObjectBytes) + `"}}`),
		"not an object":  []byte(`{"overrideConfig":[1]}`),
	} {
		_, status := decodePrediction(t, body)
		require.Equal(t, 400, status, name)
	}
}

// BenchmarkHostilePredictionBody measures what a 39 MB body of tiny JSON values costs to
// decode, in a field the route does not read and in overrideConfig. Decoded into generic maps,
// the second cost +1.4 GB before the bounds. Run with -benchmem: B/op must stay a small
// multiple of the body's size (the decoder holds the body once), not tens of times it.
func BenchmarkHostilePredictionBody(b *testing.B) {
	for _, c := range []struct {
		field  string
		status int
	}{{"unknownField", 200}, {"overrideConfig", 400}} {
		b.Run(c.field, func(b *testing.B) {
			var buf bytes.Buffer
			buf.WriteString(`{"question":"hi","` + c.field + `":{"values":[`)
			for i := 0; buf.Len() < 39<<20; i++ {
				fmt.Fprintf(&buf, `{"k%d":[0,0,0,0,0,0,0,0]},`, i)
			}
			buf.WriteString(`0]}}`)
			body := buf.Bytes()
			require.True(b, json.Valid(body))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				_, status := decodePrediction(b, body)
				require.Equal(b, c.status, status)
			}
		})
	}
}
