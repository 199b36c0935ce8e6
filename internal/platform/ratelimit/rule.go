package ratelimit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultMessage is the 429 body when a chatflow's rateLimit has no limitMsg.
const DefaultMessage = "You have exceeded the number of requests allowed for this chatflow. Please try again later."

// Bounds on what a chatflow may configure. They keep arithmetic far from overflow and
// catch typos (a duration entered in milliseconds) rather than enforce a policy.
const (
	maxLimit  = 1_000_000_000
	minWindow = time.Millisecond
	maxWindow = 366 * 24 * time.Hour
)

// KeyKind names one part of the client key a rule counts requests by.
type KeyKind string

// The client key parts a rule may combine. KeyIP is Flowise's behaviour and the default.
const (
	KeyIP        KeyKind = "ip"
	KeyAPIKey    KeyKind = "apiKey"
	KeySessionID KeyKind = "sessionId"
)

// keyOrder is the canonical order of key parts, so "apiKey,ip" and "ip,apiKey" count alike.
var keyOrder = []KeyKind{KeyIP, KeyAPIKey, KeySessionID}

// Rule is a chatflow's rate limit: at most Max requests per fixed Window for each client key.
type Rule struct {
	Enabled bool
	Max     int
	Window  time.Duration
	Message string    // body of the 429 answer
	KeyBy   []KeyKind // canonical order, never empty when Enabled
}

// ErrInvalidRule is matched (errors.Is) by every error ParseRule and Rule.Validate return.
var ErrInvalidRule = errors.New("invalid rate limit")

// RuleError names the apiConfig field that made a rate limit unusable, so the API can say
// which setting to fix.
type RuleError struct {
	Field  string // e.g. "rateLimit.limitMax"
	Reason string
	Err    error // underlying cause, if any
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidRule, e.Field, e.Reason)
}

// Unwrap exposes both the sentinel and the cause to errors.Is / errors.As.
func (e *RuleError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidRule, e.Err}
	}
	return []error{ErrInvalidRule}
}

// rawRateLimit keeps every field raw because Flowise's UI stores numbers and booleans as
// strings or JSON values depending on version.
type rawRateLimit struct {
	Status        json.RawMessage `json:"status"`
	LimitMax      json.RawMessage `json:"limitMax"`
	LimitDuration json.RawMessage `json:"limitDuration"`
	LimitMsg      json.RawMessage `json:"limitMsg"`
	KeyBy         json.RawMessage `json:"keyBy"`
}

// ParseRule reads the rateLimit section of a chatflow's apiConfig column. An empty or
// absent config, or status false, gives a disabled rule and no error. When the limit is
// enabled, a missing or invalid limitMax/limitDuration is an error naming the field:
// Flowise silently skips such a limit, but a limit the owner switched on and that quietly
// does nothing is worse than a visible configuration error.
func ParseRule(apiConfig string) (Rule, error) {
	if strings.TrimSpace(apiConfig) == "" {
		return Rule{}, nil
	}
	var doc struct {
		RateLimit json.RawMessage `json:"rateLimit"`
	}
	if err := json.Unmarshal([]byte(apiConfig), &doc); err != nil {
		return Rule{}, &RuleError{Field: "apiConfig", Reason: "not valid JSON", Err: err}
	}
	if isNull(doc.RateLimit) {
		return Rule{}, nil
	}
	var raw rawRateLimit
	if err := json.Unmarshal(doc.RateLimit, &raw); err != nil {
		return Rule{}, &RuleError{Field: "rateLimit", Reason: "must be an object", Err: err}
	}

	enabled, err := flexBool(raw.Status, "rateLimit.status")
	if err != nil || !enabled {
		return Rule{}, err
	}
	r := Rule{Enabled: true}
	if r.Max, err = flexPositiveInt(raw.LimitMax, "rateLimit.limitMax"); err != nil {
		return Rule{}, err
	}
	if r.Window, err = flexSeconds(raw.LimitDuration, "rateLimit.limitDuration"); err != nil {
		return Rule{}, err
	}
	if r.Message, err = flexString(raw.LimitMsg, "rateLimit.limitMsg"); err != nil {
		return Rule{}, err
	}
	if strings.TrimSpace(r.Message) == "" {
		r.Message = DefaultMessage
	}
	if r.KeyBy, err = parseKeyBy(raw.KeyBy); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// Validate reports why an enabled rule cannot be enforced; hand-built rules go through it
// before reaching a store.
func (r Rule) Validate() error {
	if !r.Enabled {
		return nil
	}
	if r.Max <= 0 || r.Max > maxLimit {
		return &RuleError{Field: "rateLimit.limitMax", Reason: fmt.Sprintf("must be between 1 and %d, got %d", maxLimit, r.Max)}
	}
	if r.Window < minWindow || r.Window > maxWindow {
		return &RuleError{Field: "rateLimit.limitDuration", Reason: fmt.Sprintf("must be between %v and %v, got %v", minWindow, maxWindow, r.Window)}
	}
	for _, k := range r.KeyBy {
		if !knownKeyKind(k) {
			return &RuleError{Field: "rateLimit.keyBy", Reason: fmt.Sprintf("unknown key %q", k)}
		}
	}
	return nil
}

// parseKeyBy accepts a string ("ip", "apiKey,sessionId") or a list of strings.
func parseKeyBy(raw json.RawMessage) ([]KeyKind, error) {
	const field = "rateLimit.keyBy"
	var names []string
	if !isNull(raw) {
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			names = strings.Split(one, ",")
		} else if err := json.Unmarshal(raw, &names); err != nil {
			return nil, &RuleError{Field: field, Reason: "must be a string or a list of strings", Err: err}
		}
	}
	seen := map[KeyKind]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		k, ok := lookupKeyKind(n)
		if !ok {
			return nil, &RuleError{Field: field, Reason: fmt.Sprintf("unknown key %q (want ip, apiKey or sessionId)", n)}
		}
		seen[k] = true
	}
	if len(seen) == 0 {
		return []KeyKind{KeyIP}, nil
	}
	out := make([]KeyKind, 0, len(seen))
	for _, k := range keyOrder {
		if seen[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

func lookupKeyKind(name string) (KeyKind, bool) {
	for _, k := range keyOrder {
		if strings.EqualFold(name, string(k)) {
			return k, true
		}
	}
	return "", false
}

// knownKeyKind is exact (case-sensitive): ClientKey switches on the canonical constants.
func knownKeyKind(k KeyKind) bool {
	for _, c := range keyOrder {
		if k == c {
			return true
		}
	}
	return false
}
