package netguard

import "strings"

// numericLastLabel reports whether host ends in a label made only of
// digits or a 0x-prefixed hex number. Browsers (WHATWG URL) parse such hosts
// as IPv4 in decimal, octal or hex ("2130706433", "0x7f.1",
// "017700000001", "127.1"), inet_aton does too, while Go's resolver treats
// them as DNS names. No real top-level domain is numeric, so a host like
// this is either a disguised IP or invalid; callers refuse it either way.
func numericLastLabel(host string) bool {
	host = strings.TrimSuffix(host, ".")
	label := host[strings.LastIndexByte(host, '.')+1:]
	if label == "" {
		return false
	}
	if strings.HasPrefix(label, "0x") {
		label = label[2:]
		for _, c := range label {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	for _, c := range label {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
