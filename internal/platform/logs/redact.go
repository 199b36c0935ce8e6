package logs

import (
	"log/slog"
	"net/http"
	"strings"
)

// Redacted replaces the value of secret-looking attributes.
const Redacted = "[REDACTED]"

// secretSuffixes match normalized keys (lower case, no '-', '_', '.', ' ')
// by suffix so "x-api-key", "access_token" and "client_secret" are caught.
// Suffix rather than substring keeps LLM usage fields such as
// "prompt_tokens" and "max_tokens" readable.
var secretSuffixes = []string{
	"authorization", "apikey", "password", "passwd", "secret", "token",
	"cookie", "encrypteddata", "privatekey", "accesskey",
}

// IsSecretKey reports whether an attribute or map key names a secret.
// "key" alone is secret, but "object_key" or "cache_key" are not.
func IsSecretKey(k string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(k))
	if n == "key" {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts secrets:
// attributes with a secret key, everything inside a group with a secret
// name, and secret entries of map values (e.g. logged HTTP headers).
func ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	if IsSecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	for _, g := range groups {
		if IsSecretKey(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	if a.Value.Kind() == slog.KindAny {
		if v, ok := redactValue(a.Value.Any()); ok {
			return slog.Any(a.Key, v)
		}
	}
	return a
}

// redactValue returns a redacted copy of common map shapes; ok is false when
// v needs no change. The original is never modified: callers still own it.
func redactValue(v any) (any, bool) {
	switch m := v.(type) {
	case map[string]string:
		if !anySecret(m) {
			return nil, false
		}
		out := make(map[string]string, len(m))
		for k, x := range m {
			out[k] = x
			if IsSecretKey(k) {
				out[k] = Redacted
			}
		}
		return out, true
	case http.Header:
		return redactMulti(m)
	case map[string][]string:
		return redactMulti(m)
	case map[string]any:
		out := make(map[string]any, len(m))
		changed := false
		for k, x := range m {
			if IsSecretKey(k) {
				out[k], changed = Redacted, true
				continue
			}
			if r, ok := redactValue(x); ok {
				out[k], changed = r, true
				continue
			}
			out[k] = x
		}
		return out, changed
	}
	return nil, false
}

func redactMulti[M ~map[string][]string](m M) (any, bool) {
	if !anySecret(m) {
		return nil, false
	}
	out := make(M, len(m))
	for k, x := range m {
		out[k] = x
		if IsSecretKey(k) {
			out[k] = []string{Redacted}
		}
	}
	return out, true
}

func anySecret[V any](m map[string]V) bool {
	for k := range m {
		if IsSecretKey(k) {
			return true
		}
	}
	return false
}
