package logs

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsSecretKey(t *testing.T) {
	for _, k := range []string{
		"authorization", "Authorization", "apikey", "apiKey", "API_KEY", "x-api-key",
		"password", "secret", "client_secret", "token", "access_token", "key", "KEY",
		"encryptedData", "cookie", "Set-Cookie", "private_key",
	} {
		require.True(t, IsSecretKey(k), k)
	}
	for _, k := range []string{
		"prompt_tokens", "max_tokens", "keyword", "object_key", "user", "msg", "tokenizer", "secretName",
	} {
		require.False(t, IsSecretKey(k), k)
	}
}

func TestRedaction(t *testing.T) {
	out := &syncBuffer{}
	log, _, err := New(Options{Stdout: out})
	require.NoError(t, err)

	headers := http.Header{"Authorization": {"Bearer abc"}, "Accept": {"*/*"}}
	log.With("password", "hunter2").WithGroup("req").Info("call",
		"Authorization", "Bearer abc", "apiKey", "k1", "API_KEY", "k2", "token", "t",
		"key", "k3", "encryptedData", "e", "Cookie", "c", "secret", "s",
		"prompt_tokens", 12, "object_key", "logs/x",
		slog.Group("inner", "access_token", "t2", "user", "ann", slog.Group("deeper", "Key", "k4")),
		slog.Group("credentials_secret", "anything", "x"),
		"headers", headers,
		"body", map[string]any{"nested": map[string]any{"api_key": "k5", "ok": 1}},
	)
	require.Equal(t, "Bearer abc", headers.Get("Authorization"), "caller's map is not modified")

	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(out.String()), &rec), out.String())
	require.Equal(t, Redacted, rec["password"])
	req := rec["req"].(map[string]any)
	for _, k := range []string{"Authorization", "apiKey", "API_KEY", "token", "key", "encryptedData", "Cookie", "secret"} {
		require.Equal(t, Redacted, req[k], k)
	}
	require.EqualValues(t, 12, req["prompt_tokens"])
	require.Equal(t, "logs/x", req["object_key"])
	inner := req["inner"].(map[string]any)
	require.Equal(t, Redacted, inner["access_token"])
	require.Equal(t, "ann", inner["user"])
	require.Equal(t, Redacted, inner["deeper"].(map[string]any)["Key"])
	require.Equal(t, Redacted, req["credentials_secret"].(map[string]any)["anything"])
	h := req["headers"].(map[string]any)
	require.Equal(t, []any{Redacted}, h["Authorization"])
	require.Equal(t, []any{"*/*"}, h["Accept"])
	nested := req["body"].(map[string]any)["nested"].(map[string]any)
	require.Equal(t, Redacted, nested["api_key"])
	require.EqualValues(t, 1, nested["ok"])
	require.NotContains(t, out.String(), "hunter2")
	require.NotContains(t, out.String(), "abc")
}

func TestRedactionTextFormat(t *testing.T) {
	out := &syncBuffer{}
	log, _, err := New(Options{Stdout: out, Format: "text"})
	require.NoError(t, err)
	log.Info("login", "user", "ann", "password", "hunter2")
	require.Contains(t, out.String(), "user=ann")
	require.Contains(t, out.String(), "password=[REDACTED]")
}
