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

// credentialInputs maps a Flowise credential name to the inputs its definition
// (packages/components/credentials/*.credential.ts) declares: true for an input of type
// "password", a secret clients never see back, false for one shown as typed. Declaring the
// plain inputs too matters where a name looks secret but is not: httpApiKey's "key" is the
// header name, its secret is "value".
var credentialInputs = map[string]map[string]bool{
	"openAIApi":             {"openAIApiKey": true},
	"azureOpenAIApi":        {"azureOpenAIApiKey": true, "azureOpenAIApiInstanceName": false, "azureOpenAIApiDeploymentName": false, "azureOpenAIApiVersion": false},
	"anthropicApi":          {"anthropicApiKey": true},
	"ollamaApi":             {"ollamaApiKey": true},
	"googleGenerativeAI":    {"googleGenerativeAPIKey": true},
	"groqApi":               {"groqApiKey": true},
	"mistralAIApi":          {"mistralAIAPIKey": true},
	"deepseekApi":           {"deepseekApiKey": true},
	"serpApi":               {"serpApiKey": true},
	"googleCustomSearchApi": {"googleCustomSearchApiKey": true, "googleCustomSearchApiId": false},
	"httpApiKey":            {"key": false, "value": true},
	"httpBasicAuth":         {"basicAuthUsername": false, "basicAuthPassword": true},
	"httpBearerToken":       {"token": true},
	"gmailOAuth2": {"authorizationUrl": false, "accessTokenUrl": false, "clientId": false, "clientSecret": true,
		"additionalParameters": false, "scope": false},
}

// secretNameParts are the name fragments that mark a field as secret when the credential's
// definition does not declare it.
var secretNameParts = []string{"key", "secret", "password", "token"}

// IsSecretField reports whether field of a credential of type credentialName holds a secret:
// a password input of the type's Flowise definition. Fields the definition does not declare
// (every field of an unknown type, and what Flowise stores beside the inputs, such as an
// OAuth2 credential's access_token and refresh_token) are judged by name: one containing
// "key", "secret", "password" or "token", in any case, is secret. Erring towards secrecy is
// safe: a client echoing RedactedValue back leaves the stored value untouched (see
// MergeUpdate), whereas a missed secret leaks.
func IsSecretField(credentialName, field string) bool {
	if secret, declared := credentialInputs[credentialName][field]; declared {
		return secret
	}
	lower := strings.ToLower(field)
	return slices.ContainsFunc(secretNameParts, func(part string) bool {
		return strings.Contains(lower, part)
	})
}

// Redact returns a copy of plain, the data of a credential of type credentialName, with every
// secret field (IsSecretField) replaced by RedactedValue.
func Redact(credentialName string, plain map[string]any) map[string]any {
	redacted := maps.Clone(plain)
	for name := range redacted {
		if IsSecretField(credentialName, name) {
			redacted[name] = RedactedValue
		}
	}
	return redacted
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
