package storage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSegmentBytes caps each key segment, matching the usual file-system name limit so a key
// that S3 accepts is also storable on local disk.
const MaxSegmentBytes = 255

// reservedPrefix marks the local store's private directories (temp files, metadata). Keys may
// not use it, so user data can never collide with them.
const reservedPrefix = ".flowgate-"

// Key builds "<chatflowID>/<chatID>/<fileName>".
//
// Names are validated, not rewritten: anything that could leave the prefix ("..", "/", "\",
// absolute paths, NUL and other control characters), empty names, names with leading or
// trailing white space and names longer than MaxSegmentBytes fail with ErrInvalidKey.
// Sanitizing (as Flowise does) would silently map different uploads onto one key and store
// them under names the user never chose; browsers send plain base names, so rejecting costs
// ordinary uploads nothing. Ordinary names with spaces, dots and Unicode ("my report.v2.pdf")
// are kept exactly.
//
// Percent signs are literal: "%2e%2e%2f" is a harmless name because keys are never
// URL-decoded here (HTTP handlers decode request paths before calling Key, so an encoded
// traversal arrives as "../" and is rejected).
func Key(chatflowID, chatID, fileName string) (string, error) {
	for _, part := range []struct{ what, v string }{
		{"chatflow id", chatflowID}, {"chat id", chatID}, {"file name", fileName},
	} {
		if err := checkSegment(part.v); err != nil {
			return "", fmt.Errorf("%w: %s %q: %s", ErrInvalidKey, part.what, part.v, err)
		}
	}
	return chatflowID + "/" + chatID + "/" + fileName, nil
}

// ChatPrefix returns "<chatflowID>/<chatID>/", the prefix holding one chat's files.
func ChatPrefix(chatflowID, chatID string) (string, error) {
	flow, err := FlowPrefix(chatflowID)
	if err != nil {
		return "", err
	}
	if err := checkSegment(chatID); err != nil {
		return "", fmt.Errorf("%w: chat id %q: %s", ErrInvalidKey, chatID, err)
	}
	return flow + chatID + "/", nil
}

// FlowPrefix returns "<chatflowID>/", the prefix holding every chat of one chatflow.
func FlowPrefix(chatflowID string) (string, error) {
	if err := checkSegment(chatflowID); err != nil {
		return "", fmt.Errorf("%w: chatflow id %q: %s", ErrInvalidKey, chatflowID, err)
	}
	return chatflowID + "/", nil
}

// validateKey checks a full object key as given to a Store method: one or more valid
// segments separated by single slashes.
func validateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("%w: %q: %s", ErrInvalidKey, key, err)
		}
	}
	return nil
}

// validatePrefix checks a DeletePrefix argument. The empty prefix is refused because it would
// wipe the whole store; a prefix without a trailing slash is allowed (S3 semantics: "a/b"
// also matches "a/bc/x") as long as each segment is valid.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: empty prefix would delete everything", ErrInvalidKey)
	}
	if err := validateKey(strings.TrimSuffix(prefix, "/")); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	return nil
}

// checkSegment returns why s is not a safe single path segment, or nil.
func checkSegment(s string) error {
	switch {
	case s == "":
		return errString("empty")
	case s == "." || s == "..":
		return errString("relative path element")
	case len(s) > MaxSegmentBytes:
		return fmt.Errorf("longer than %d bytes", MaxSegmentBytes)
	case !utf8.ValidString(s):
		return errString("not valid UTF-8")
	case strings.HasPrefix(s, reservedPrefix):
		return errString("reserved name")
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		// Leading/trailing spaces are invisible in UIs and stripped by some file systems, so
		// two keys that look identical could name different objects (or the same one).
		return errString("leading or trailing white space")
	}
	for _, r := range s {
		switch {
		case r == '/' || r == '\\':
			return errString("contains a path separator")
		case r == 0 || unicode.IsControl(r):
			return errString("contains a control character")
		}
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }
