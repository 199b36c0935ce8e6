package ratelimit

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRule(t *testing.T) {
	ipOnly := []KeyKind{KeyIP}
	tests := []struct {
		name      string
		apiConfig string
		want      Rule
		errField  string // non-empty: ParseRule must fail naming this field
	}{
		{name: "empty", apiConfig: "", want: Rule{}},
		{name: "blank", apiConfig: "  \n", want: Rule{}},
		{name: "json null", apiConfig: "null", want: Rule{}},
		{name: "no rateLimit", apiConfig: `{"overrideConfig":{"status":true}}`, want: Rule{}},
		{name: "rateLimit null", apiConfig: `{"rateLimit":null}`, want: Rule{}},
		{name: "status false", apiConfig: `{"rateLimit":{"status":false,"limitMax":"5","limitDuration":"60"}}`, want: Rule{}},
		{name: "status string false", apiConfig: `{"rateLimit":{"status":"false","limitMax":"5","limitDuration":"60"}}`, want: Rule{}},
		{name: "status absent", apiConfig: `{"rateLimit":{"limitMax":"5","limitDuration":"60"}}`, want: Rule{}},
		{name: "disabled ignores bad numbers", apiConfig: `{"rateLimit":{"status":false,"limitMax":"lots"}}`, want: Rule{}},
		{
			name:      "strings as Flowise UI stores them",
			apiConfig: `{"rateLimit":{"status":true,"limitMax":"5","limitDuration":"60","limitMsg":"Too many"}}`,
			want:      Rule{Enabled: true, Max: 5, Window: time.Minute, Message: "Too many", KeyBy: ipOnly},
		},
		{
			name:      "numbers and status as string",
			apiConfig: `{"rateLimit":{"status":"true","limitMax":10,"limitDuration":1.5,"limitMsg":"slow down"}}`,
			want:      Rule{Enabled: true, Max: 10, Window: 1500 * time.Millisecond, Message: "slow down", KeyBy: ipOnly},
		},
		{
			name:      "status TRUE with spaces, integral float max",
			apiConfig: `{"rateLimit":{"status":" TRUE ","limitMax":" 3.0 ","limitDuration":" 2 "}}`,
			want:      Rule{Enabled: true, Max: 3, Window: 2 * time.Second, Message: DefaultMessage, KeyBy: ipOnly},
		},
		{
			name:      "status 1, message missing gets default",
			apiConfig: `{"rateLimit":{"status":1,"limitMax":1,"limitDuration":1,"limitMsg":"  "}}`,
			want:      Rule{Enabled: true, Max: 1, Window: time.Second, Message: DefaultMessage, KeyBy: ipOnly},
		},
		{
			name:      "numeric message kept as text",
			apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"limitMsg":429}}`,
			want:      Rule{Enabled: true, Max: 1, Window: time.Second, Message: "429", KeyBy: ipOnly},
		},
		{
			name:      "keyBy comma string, canonical order, deduplicated, any case",
			apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"keyBy":"sessionid, APIKEY,apiKey"}}`,
			want:      Rule{Enabled: true, Max: 1, Window: time.Second, Message: DefaultMessage, KeyBy: []KeyKind{KeyAPIKey, KeySessionID}},
		},
		{
			name:      "keyBy list",
			apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"keyBy":["apiKey","ip"]}}`,
			want:      Rule{Enabled: true, Max: 1, Window: time.Second, Message: DefaultMessage, KeyBy: []KeyKind{KeyIP, KeyAPIKey}},
		},
		{
			name:      "keyBy empty means ip",
			apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"keyBy":""}}`,
			want:      Rule{Enabled: true, Max: 1, Window: time.Second, Message: DefaultMessage, KeyBy: ipOnly},
		},
		{name: "invalid json", apiConfig: `{"rateLimit":`, errField: "apiConfig"},
		{name: "rateLimit not object", apiConfig: `{"rateLimit":"on"}`, errField: "rateLimit"},
		{name: "status garbage", apiConfig: `{"rateLimit":{"status":"maybe","limitMax":1,"limitDuration":1}}`, errField: "rateLimit.status"},
		{name: "max missing", apiConfig: `{"rateLimit":{"status":true,"limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max empty string", apiConfig: `{"rateLimit":{"status":true,"limitMax":"","limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max not a number", apiConfig: `{"rateLimit":{"status":true,"limitMax":"five","limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max zero", apiConfig: `{"rateLimit":{"status":true,"limitMax":"0","limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max negative", apiConfig: `{"rateLimit":{"status":true,"limitMax":-3,"limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max fractional", apiConfig: `{"rateLimit":{"status":true,"limitMax":2.5,"limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max NaN string", apiConfig: `{"rateLimit":{"status":true,"limitMax":"NaN","limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max huge", apiConfig: `{"rateLimit":{"status":true,"limitMax":1e300,"limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "max bool", apiConfig: `{"rateLimit":{"status":true,"limitMax":true,"limitDuration":"60"}}`, errField: "rateLimit.limitMax"},
		{name: "duration missing", apiConfig: `{"rateLimit":{"status":true,"limitMax":"5"}}`, errField: "rateLimit.limitDuration"},
		{name: "duration zero", apiConfig: `{"rateLimit":{"status":true,"limitMax":"5","limitDuration":"0"}}`, errField: "rateLimit.limitDuration"},
		{name: "duration negative", apiConfig: `{"rateLimit":{"status":true,"limitMax":"5","limitDuration":-1}}`, errField: "rateLimit.limitDuration"},
		{name: "duration Inf", apiConfig: `{"rateLimit":{"status":true,"limitMax":"5","limitDuration":"Inf"}}`, errField: "rateLimit.limitDuration"},
		{name: "duration too long", apiConfig: `{"rateLimit":{"status":true,"limitMax":"5","limitDuration":1e12}}`, errField: "rateLimit.limitDuration"},
		{name: "duration too short", apiConfig: `{"rateLimit":{"status":true,"limitMax":"5","limitDuration":0.0000001}}`, errField: "rateLimit.limitDuration"},
		{name: "message object", apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"limitMsg":{}}}`, errField: "rateLimit.limitMsg"},
		{name: "keyBy unknown", apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"keyBy":"ip,cookie"}}`, errField: "rateLimit.keyBy"},
		{name: "keyBy number", apiConfig: `{"rateLimit":{"status":true,"limitMax":1,"limitDuration":1,"keyBy":7}}`, errField: "rateLimit.keyBy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRule(tt.apiConfig)
			if tt.errField == "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				require.NoError(t, got.Validate())
				return
			}
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidRule)
			var re *RuleError
			require.True(t, errors.As(err, &re), "want a *RuleError, got %T", err)
			require.Equal(t, tt.errField, re.Field)
			require.Contains(t, err.Error(), tt.errField)
			require.False(t, got.Enabled)
		})
	}
}

func TestRuleValidate(t *testing.T) {
	ok := Rule{Enabled: true, Max: 1, Window: time.Second, KeyBy: []KeyKind{KeyIP}}
	require.NoError(t, ok.Validate())
	require.NoError(t, Rule{Max: -1}.Validate(), "a disabled rule is never invalid")

	bad := map[string]Rule{
		"rateLimit.limitMax":      {Enabled: true, Max: 0, Window: time.Second},
		"rateLimit.limitDuration": {Enabled: true, Max: 1, Window: 0},
		"rateLimit.keyBy":         {Enabled: true, Max: 1, Window: time.Second, KeyBy: []KeyKind{"IP"}},
	}
	for field, r := range bad {
		var re *RuleError
		require.ErrorAs(t, r.Validate(), &re, field)
		require.Equal(t, field, re.Field)
	}
}
