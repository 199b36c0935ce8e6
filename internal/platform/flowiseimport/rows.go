package flowiseimport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// row is one Flowise row, whichever source it came from: each column's value as text (JSON
// columns as their JSON text, booleans as true/false or 1/0, dates as SQL or ISO 8601 text),
// nil for NULL. A Flowise database and an export file both become rows, so one set of
// converters reads both.
type row map[string]*string

// RowError is a row that cannot be read: which table, which row (its id) and which column.
type RowError struct {
	Table  string
	ID     string
	Column string
	Err    error
}

func (e *RowError) Error() string {
	id := e.ID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Sprintf("%s row %s: column %s: %v", e.Table, id, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// fields reads the columns of one row, keeping the first failure.
type fields struct {
	table string
	r     row
	err   *RowError
}

func (f *fields) id() string {
	if v := f.r["id"]; v != nil {
		return *v
	}
	return ""
}

func (f *fields) fail(column string, err error) {
	if f.err == nil {
		f.err = &RowError{Table: f.table, ID: f.id(), Column: column, Err: err}
	}
}

var errNull = errors.New("is empty (NULL) but Flowgate needs a value")

// text is a column that must have a value.
func (f *fields) text(column string) string {
	v := f.r[column]
	if v == nil {
		f.fail(column, errNull)
		return ""
	}
	return *v
}

// optText is a column that may be NULL (or absent from an older schema or an export).
func (f *fields) optText(column string) *string {
	if v := f.r[column]; v != nil {
		s := *v
		return &s
	}
	return nil
}

// date is a date column that must have a value.
func (f *fields) date(column string) time.Time {
	v := f.r[column]
	if v == nil {
		f.fail(column, errNull)
		return time.Time{}
	}
	t, err := parseDate(*v)
	if err != nil {
		f.fail(column, err)
	}
	return t
}

// dateOr is a date column that may be NULL or absent, with the date to use then.
func (f *fields) dateOr(column string, def time.Time) time.Time {
	if f.r[column] == nil {
		return def
	}
	return f.date(column)
}

func (f *fields) optDate(column string) *time.Time {
	if f.r[column] == nil {
		return nil
	}
	t := f.date(column)
	return &t
}

// flag is a nullable boolean: SQLite stores 0 and 1, PostgreSQL and JSON true and false.
func (f *fields) flag(column string) *bool {
	v := f.r[column]
	if v == nil {
		return nil
	}
	var b bool
	switch strings.ToLower(strings.TrimSpace(*v)) {
	case "1", "true", "t":
		b = true
	case "0", "false", "f", "":
	default:
		f.fail(column, fmt.Errorf("%q is not a boolean", clip(*v)))
	}
	return &b
}

func (f *fields) number(column string) int {
	s := f.text(column)
	if f.err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		f.fail(column, fmt.Errorf("%q is not a whole number", clip(s)))
	}
	return n
}

// dateLayouts are how Flowise's dates reach us: SQLite's datetime text (seconds, or
// milliseconds in chat_message), PostgreSQL's timestamp text (microseconds) and JSON's ISO 8601
// (an export file).
var dateLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02",
}

// parseDate reads a date; one without a zone is UTC, as Flowise writes them.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", clip(s))
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
