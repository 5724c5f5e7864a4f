package otelrpc

import (
	"encoding/json"
	"unicode/utf8"
)

// maxLen bounds jsonrpc.request.id and rpc.method_original: both are the
// client's to choose, up to the size of a message.
const maxLen = 128

// truncated returns raw as an attribute's text, cut to maxLen bytes on a
// rune boundary: for a JSON id, the text of a string or a number as sent,
// and false for none or null.
func truncated(raw []byte, id bool) (string, bool) {
	if len(raw) == 0 || id && string(raw) == "null" {
		return "", false
	}
	s := string(raw)
	if id && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
	}
	if len(s) > maxLen {
		n := maxLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s, true
}
