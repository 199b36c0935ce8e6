package secrets

import (
	"maps"
	"slices"
	"strings"
)

// RedactedValue stands in for a password field in credential data sent to
// clients. It is Flowise's REDACTED_CREDENTIAL_VALUE, so the Flowise UI shows
// the field as set-but-hidden and sends the same value back when the user
// leaves it alone; MergeUpdate then keeps the stored secret.
const RedactedValue = "_FLOWISE_BLANK_07167752-1a71-43b1-bf8f-4f32252165db"

// passwordFieldsByCredential maps a Flowise credential name to the inputs of
// type "password" in its definition.
var passwordFieldsByCredential = map[string][]string{
	"openAIApi":             {"openAIApiKey"},
	"azureOpenAIApi":        {"azureOpenAIApiKey"},
	"anthropicApi":          {"anthropicApiKey"},
	"ollamaApi":             {"ollamaApiKey"},
	"googleGenerativeAI":    {"googleGenerativeAPIKey"},
	"groqApi":               {"groqApiKey"},
	"mistralAIApi":          {"mistralAIAPIKey"},
	"serpApi":               {"serpApiKey"},
	"googleCustomSearchApi": {"googleCustomSearchApiKey"},
}

// secretNameParts are the name fragments that mark a field as secret when the
// credential's definition is unknown.
var secretNameParts = []string{"key", "secret", "password", "token"}

// PasswordFields returns the names of the password fields of the Flowise
// credential type credentialName, or nil if the type is unknown. Redact treats
// nil as "unknown" and falls back to guessing from field names, so callers
// can pass the result straight through.
func PasswordFields(credentialName string) []string {
	return slices.Clone(passwordFieldsByCredential[credentialName])
}

// Redact returns a copy of plain with every password field that is present
// replaced by RedactedValue; fields not present are not added.
//
// An empty passwordFields means the credential type is unknown (see
// PasswordFields). Then every field whose name contains "key", "secret",
// "password" or "token", in any case, is treated as a password. Erring
// towards redaction is safe: a client echoing RedactedValue back leaves the
// stored value untouched (see MergeUpdate), whereas a missed secret leaks.
func Redact(plain map[string]any, passwordFields []string) map[string]any {
	redacted := maps.Clone(plain)
	for name := range redacted {
		if isPasswordField(name, passwordFields) {
			redacted[name] = RedactedValue
		}
	}
	return redacted
}

func isPasswordField(name string, passwordFields []string) bool {
	if len(passwordFields) > 0 {
		return slices.Contains(passwordFields, name)
	}
	lower := strings.ToLower(name)
	return slices.ContainsFunc(secretNameParts, func(part string) bool {
		return strings.Contains(lower, part)
	})
}

// MergeUpdate applies an update to stored credential data the way Flowise's
// PUT does: incoming fields replace old ones, fields absent from incoming are
// kept, and a field whose incoming value is RedactedValue keeps its old value
// (the client never saw it). A RedactedValue with no old value to keep is
// dropped, so the placeholder is never stored as if it were the secret.
// Neither argument is modified.
func MergeUpdate(old, incoming map[string]any) map[string]any {
	merged := make(map[string]any, len(old)+len(incoming))
	maps.Copy(merged, old)
	for name, value := range incoming {
		if value == RedactedValue {
			continue
		}
		merged[name] = value
	}
	return merged
}
