package textsplit

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// RecursiveName is the Flowise node name of the recursive character splitter.
const RecursiveName = "recursiveCharacterTextSplitter"

// FromConfig builds a splitter from a Flowise node's inputs (chunkSize, chunkOverlap,
// separators), as strings or numbers. Like Flowise, an absent, empty or numeric zero value keeps
// the default, while the string "0" is an explicit zero.
func FromConfig(cfg map[string]any) (*Recursive, error) {
	size, err := intInput(cfg, "chunkSize", DefaultChunkSize)
	if err != nil {
		return nil, err
	}
	overlap, err := intInput(cfg, "chunkOverlap", DefaultChunkOverlap)
	if err != nil {
		return nil, err
	}
	var seps []string
	switch v := cfg["separators"].(type) {
	case nil:
	case string:
		if strings.TrimSpace(v) != "" {
			if err := json.Unmarshal([]byte(v), &seps); err != nil {
				return nil, fmt.Errorf("%w: separators must be a JSON array of strings: %v", ErrConfig, err)
			}
		}
	case []any:
		for _, s := range v {
			str, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("%w: separators must be strings", ErrConfig)
			}
			seps = append(seps, str)
		}
	default:
		return nil, fmt.Errorf("%w: separators must be an array of strings", ErrConfig)
	}
	return NewRecursive(size, overlap, seps)
}

// intInput reads a Flowise number input, which the UI stores as a string.
func intInput(cfg map[string]any, name string, def int) (int, error) {
	switch v := cfg[name].(type) {
	case nil:
		return def, nil
	case float64:
		if v == 0 {
			return def, nil
		}
		return int(v), nil
	case string:
		if v == "" {
			return def, nil
		}
		// parseInt reads leading digits; Atoi of the trimmed value covers what the UI sends.
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%w: %s %q is not a number", ErrConfig, name, v)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%w: %s must be a number", ErrConfig, name)
	}
}
