package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// PostgreSQL refuses a NUL or invalid UTF-8 in a text value outright: an error, not a miss, and
// one that surfaces late. A prediction carrying one runs (and pays for its model call) before
// its save fails; an id carrying one fails the lookup with a 500. So requests are checked for
// them before anything runs: text fields may hold any other character, ids no control
// character at all, since no id Flowgate or Flowise hands out has one.

// storable reports whether the database can keep s as text.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// printable reports whether s is valid UTF-8 without control characters (C0 and DEL), as every
// id, chat id and session id is.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// refuseUnprintableIDs answers before any handler runs when a path parameter (an id) holds a
// control character or invalid UTF-8, with 404: no such id can exist, and that is what Flowise
// answers for an unknown id. A query parameter holding one gets 400.
func refuseUnprintableIDs(c *gin.Context) {
	for _, p := range c.Params {
		if !printable(p.Value) {
			// The value is not echoed: a path may carry a key (/verify/apikey/:key).
			fail(c, http.StatusNotFound, "Not found: the %s in the path holds control characters or invalid UTF-8", p.Key)
			return
		}
	}
	for name, values := range c.Request.URL.Query() {
		for _, v := range values {
			if !printable(name) || !printable(v) {
				fail(c, http.StatusBadRequest, "query parameter %q must not hold control characters or invalid UTF-8", name)
				return
			}
		}
	}
	c.Next()
}

// unstorableField is the JSON path ("history[2].content") of the first string in v, a decoded
// request body, that the database cannot keep (see storable), or "" when there is none. It
// visits every string, map keys included, so a field added to a body later is covered too.
func unstorableField(v any) string {
	return unstorableIn(reflect.ValueOf(v), "")
}

func unstorableIn(v reflect.Value, path string) string {
	if v.Type() == reflect.TypeFor[rawObject]() {
		// JSON kept as sent: a NUL can only be an escape in it, which is rare, so only then
		// is it decoded to find the field that holds it.
		raw := v.Bytes()
		if !utf8.Valid(raw) {
			return describe(path)
		}
		var decoded any
		if !bytes.Contains(raw, []byte(`\u0000`)) || json.Unmarshal(raw, &decoded) != nil {
			return ""
		}
		return unstorableIn(reflect.ValueOf(decoded), path)
	}
	switch v.Kind() {
	case reflect.String:
		if !storable(v.String()) {
			return describe(path)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return unstorableIn(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := unstorableIn(v.Index(i), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			key := it.Key().String()
			if !storable(key) {
				return "a key of " + describe(path)
			}
			if p := unstorableIn(it.Value(), joinPath(path, key)); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if p := unstorableIn(v.Field(i), joinPath(path, name)); p != "" {
				return p
			}
		}
	}
	return ""
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// describe names a path in a message; the empty path is the body itself.
func describe(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}
