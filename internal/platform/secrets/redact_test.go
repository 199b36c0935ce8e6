package secrets

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPasswordFields(t *testing.T) {
	tests := map[string][]string{
		"openAIApi":             {"openAIApiKey"},
		"azureOpenAIApi":        {"azureOpenAIApiKey"},
		"anthropicApi":          {"anthropicApiKey"},
		"ollamaApi":             {"ollamaApiKey"},
		"googleGenerativeAI":    {"googleGenerativeAPIKey"},
		"groqApi":               {"groqApiKey"},
		"mistralAIApi":          {"mistralAIAPIKey"},
		"serpApi":               {"serpApiKey"},
		"googleCustomSearchApi": {"googleCustomSearchApiKey"},
		"someUnknownApi":        nil,
	}
	for name, want := range tests {
		require.Equal(t, want, PasswordFields(name), name)
	}
}

func TestPasswordFieldsReturnsACopy(t *testing.T) {
	PasswordFields("openAIApi")[0] = "changed"
	require.Equal(t, []string{"openAIApiKey"}, PasswordFields("openAIApi"))
}

func TestRedactKnownCredential(t *testing.T) {
	plain := map[string]any{
		"azureOpenAIApiKey":          "secret",
		"azureOpenAIApiInstanceName": "instance",
	}

	redacted := Redact(plain, PasswordFields("azureOpenAIApi"))
	require.Equal(t, map[string]any{
		"azureOpenAIApiKey":          RedactedValue,
		"azureOpenAIApiInstanceName": "instance",
	}, redacted)
	require.Equal(t, "secret", plain["azureOpenAIApiKey"], "the input must not be modified")
}

func TestRedactDoesNotAddMissingFields(t *testing.T) {
	require.Equal(t, map[string]any{"other": "x"}, Redact(map[string]any{"other": "x"}, []string{"apiKey"}))
	require.Nil(t, Redact(nil, []string{"apiKey"}))
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
	}, Redact(plain, PasswordFields("someUnknownApi")))
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
	require.Equal(t, stored, MergeUpdate(stored, Redact(stored, PasswordFields("openAIApi"))))
	require.Equal(t, map[string]any{}, MergeUpdate(nil, nil))
}
