package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Client is what the API knows about a request's origin. IP comes from IPResolver.ClientIP.
type Client struct {
	IP        string
	APIKey    string // pass the key's id rather than its secret; it is hashed either way
	SessionID string
}

// ClientKey builds the per-client part of the counting key from the rule's KeyBy parts.
//
// A part the request lacks (no API key, no session id) is replaced by the client IP, marked
// so it can never equal a value a client sends: otherwise every keyless request would share
// one bucket that a single client could exhaust for everyone, and a client could name its
// session after a victim's IP to drain the victim's bucket.
func (r Rule) ClientKey(c Client) string {
	kinds := r.KeyBy
	if len(kinds) == 0 {
		kinds = []KeyKind{KeyIP}
	}
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte('&')
		}
		v := c.IP
		switch k {
		case KeyAPIKey:
			v = c.APIKey
		case KeySessionID:
			v = c.SessionID
		}
		b.WriteString(string(k))
		if k != KeyIP && v == "" {
			b.WriteString("!ip=") // '!' never follows a kind name for a real value
			v = c.IP
		} else {
			b.WriteByte('=')
		}
		// Quoting escapes '&' and '"', so values cannot forge part boundaries.
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

// storeKey is the key the store counts under. It carries the scope (chatflow id), the limit
// and the window, so different chatflows never share a count and an edited limit starts
// fresh. The scope is length-prefixed so no scope/client split of the same bytes can
// collide. The client part is hashed: it bounds the key size (session ids are
// client-chosen) and keeps API key ids and IPs out of a shared table in plain text.
func storeKey(scope string, r Rule, client string) string {
	sum := sha256.Sum256([]byte(client))
	var b strings.Builder
	b.Grow(len(scope) + 80)
	b.WriteString("rl1:")
	b.WriteString(strconv.Itoa(len(scope)))
	b.WriteByte(':')
	b.WriteString(scope)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(r.Max))
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(int64(r.Window), 10))
	b.WriteByte(':')
	var hexSum [32]byte
	hex.Encode(hexSum[:], sum[:16])
	b.Write(hexSum[:])
	return b.String()
}
