package secrets

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIsSecretField follows Flowise's credential definitions: their password inputs are
// secret, their other inputs are not, whatever their names look like.
func TestIsSecretField(t *testing.T) {
	tests := []struct {
		credential, field string
		secret            bool
	}{
		{"openAIApi", "openAIApiKey", true},
		{"azureOpenAIApi", "azureOpenAIApiKey", true},
		{"azureOpenAIApi", "azureOpenAIApiInstanceName", false},
		{"anthropicApi", "anthropicApiKey", true},
		{"ollamaApi", "ollamaApiKey", true},
		{"googleGenerativeAI", "googleGenerativeAPIKey", true},
		{"groqApi", "groqApiKey", true},
		{"mistralAIApi", "mistralAIAPIKey", true},
		{"deepseekApi", "deepseekApiKey", true},
		{"serpApi", "serpApiKey", true},
		{"googleCustomSearchApi", "googleCustomSearchApiKey", true},
		{"googleCustomSearchApi", "googleCustomSearchApiId", false},
		// The header name is shown, the header value is the secret.
		{"httpApiKey", "key", false},
		{"httpApiKey", "value", true},
		{"httpBasicAuth", "basicAuthUsername", false},
		{"httpBasicAuth", "basicAuthPassword", true},
		{"httpBearerToken", "token", true},
		{"gmailOAuth2", "clientSecret", true},
		{"gmailOAuth2", "clientId", false},
		{"gmailOAuth2", "accessTokenUrl", false}, // declared a plain input, though named "token"
		// Stored beside the inputs by the OAuth2 flow: judged by name.
		{"gmailOAuth2", "access_token", true},
		{"gmailOAuth2", "refresh_token", true},
	}
	for _, tc := range tests {
		require.Equal(t, tc.secret, IsSecretField(tc.credential, tc.field), "%s.%s", tc.credential, tc.field)
	}
}

func TestRedactHTTPAPIKeyHidesTheValueNotTheHeaderName(t *testing.T) {
	plain := map[string]any{"key": "X-Api-Key", "value": "s3cret"}
	require.Equal(t, map[string]any{"key": "X-Api-Key", "value": RedactedValue}, Redact("httpApiKey", plain))
	require.Equal(t, "s3cret", plain["value"], "the input must not be modified")
}

func TestRedactKnownCredential(t *testing.T) {
	plain := map[string]any{
		"azureOpenAIApiKey":          "secret",
		"azureOpenAIApiInstanceName": "instance",
	}

	redacted := Redact("azureOpenAIApi", plain)
	require.Equal(t, map[string]any{
		"azureOpenAIApiKey":          RedactedValue,
		"azureOpenAIApiInstanceName": "instance",
	}, redacted)
	require.Equal(t, "secret", plain["azureOpenAIApiKey"], "the input must not be modified")
}

func TestRedactDoesNotAddMissingFields(t *testing.T) {
	require.Equal(t, map[string]any{"other": "x"}, Redact("openAIApi", map[string]any{"other": "x"}))
	require.Nil(t, Redact("openAIApi", nil))
}

func TestRedactUnknownCredentialGuessesFromFieldNames(t *testing.T) {
	plain := map[string]any{
		"apiKey":       "1",
		"clientSecret": "2",
		"PASSWORD":     "3",
		"accessToken":  "4",
		"username":     "kept",
		"baseUrl":      "kept",
	}

	require.Equal(t, map[string]any{
		"apiKey":       RedactedValue,
		"clientSecret": RedactedValue,
		"PASSWORD":     RedactedValue,
		"accessToken":  RedactedValue,
		"username":     "kept",
		"baseUrl":      "kept",
	}, Redact("someUnknownApi", plain))
}

func TestMergeUpdate(t *testing.T) {
	old := map[string]any{"apiKey": "stored-secret", "baseUrl": "https://old", "untouched": "u"}
	incoming := map[string]any{
		"apiKey":    RedactedValue,            // left alone in the UI
		"baseUrl":   "https://new",            // edited
		"added":     "a",                      // new field
		"neverSet":  RedactedValue,            // placeholder without a stored value
		"structure": map[string]any{"x": "y"}, // not comparable with a string; must not panic
	}

	merged := MergeUpdate(old, incoming)
	require.Equal(t, map[string]any{
		"apiKey":    "stored-secret",
		"baseUrl":   "https://new",
		"untouched": "u",
		"added":     "a",
		"structure": map[string]any{"x": "y"},
	}, merged)
	require.Equal(t, "https://old", old["baseUrl"], "old must not be modified")
	require.Equal(t, RedactedValue, incoming["apiKey"], "incoming must not be modified")
}

func TestMergeUpdateOfRedactedRoundTrip(t *testing.T) {
	stored := map[string]any{"openAIApiKey": "sk-real", "note": "n"}
	require.Equal(t, stored, MergeUpdate(stored, Redact("openAIApi", stored)))
	require.Equal(t, map[string]any{}, MergeUpdate(nil, nil))
}
