package ratelimit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The helpers below read apiConfig values that Flowise writes either as JSON scalars or as
// strings holding them ("5", "true"), depending on UI version and import path.

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// flexBool reads true/false, "true"/"false", "1"/"0" or 1/0; absent, null and "" are false.
func flexBool(raw json.RawMessage, field string) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, &RuleError{Field: field, Reason: "not valid JSON", Err: err}
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case float64:
		switch v {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
	}
	return false, &RuleError{Field: field, Reason: fmt.Sprintf("must be true or false, got %s", raw)}
}

// flexNumber reads a JSON number or a string holding one. ok is false when the value is
// absent, null or an empty string.
func flexNumber(raw json.RawMessage, field string) (n float64, ok bool, err error) {
	if isNull(raw) {
		return 0, false, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return 0, false, &RuleError{Field: field, Reason: "not valid JSON", Err: err}
	}
	var text string
	switch v := v.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = strings.TrimSpace(v)
		if text == "" {
			return 0, false, nil
		}
	default:
		return 0, false, &RuleError{Field: field, Reason: fmt.Sprintf("must be a number, got %s", raw)}
	}
	n, err = strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false, &RuleError{Field: field, Reason: fmt.Sprintf("must be a number, got %q", text), Err: err}
	}
	return n, true, nil
}

// flexPositiveInt reads a required whole number in [1, maxLimit].
func flexPositiveInt(raw json.RawMessage, field string) (int, error) {
	n, ok, err := flexNumber(raw, field)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &RuleError{Field: field, Reason: "is required when the rate limit is enabled"}
	}
	if n != math.Trunc(n) || n < 1 || n > maxLimit {
		return 0, &RuleError{Field: field, Reason: fmt.Sprintf("must be a whole number between 1 and %d, got %v", maxLimit, n)}
	}
	return int(n), nil
}

// flexSeconds reads a required duration in seconds (fractions allowed, like Flowise's
// Number(limitDuration) * 1000 ms).
func flexSeconds(raw json.RawMessage, field string) (time.Duration, error) {
	n, ok, err := flexNumber(raw, field)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &RuleError{Field: field, Reason: "is required when the rate limit is enabled"}
	}
	// Compare in seconds first so the conversion below cannot overflow.
	if n <= 0 || n > maxWindow.Seconds() {
		return 0, &RuleError{Field: field, Reason: fmt.Sprintf("must be more than 0 and at most %v seconds, got %v", maxWindow.Seconds(), n)}
	}
	d := time.Duration(math.Round(n * float64(time.Second)))
	if d < minWindow {
		return 0, &RuleError{Field: field, Reason: fmt.Sprintf("must be at least %v, got %v seconds", minWindow, n)}
	}
	return d, nil
}

// flexString reads a string; numbers and booleans keep their JSON text.
func flexString(raw json.RawMessage, field string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", &RuleError{Field: field, Reason: "not valid JSON", Err: err}
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case float64, bool:
		return string(bytes.TrimSpace(raw)), nil
	}
	return "", &RuleError{Field: field, Reason: fmt.Sprintf("must be a string, got %s", raw)}
}
