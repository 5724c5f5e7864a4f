package rpc

import (
	"bytes"
	"encoding/json"
)

// The wire layer reads a message once with its own small scanner instead of
// encoding/json's reflection: it needs the raw bytes of id and params, it
// must see duplicate keys (which encoding/json hides), and it is on every
// call's path. Every function here except validMessage assumes its input
// already passed validMessage.

// validMessage reports whether data is one JSON value, and whether its
// nesting is within limit.
func validMessage(data []byte, limit int) (valid, shallow bool) {
	if !json.Valid(data) {
		return false, false
	}
	return true, depthWithin(data, limit)
}

// depthWithin reports whether the nesting of arrays and objects in valid
// JSON data stays within limit.
func depthWithin(data []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			i = skipString(data, i) - 1
		case '[', '{':
			depth++
			if depth > limit {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// isSpace reports whether c is JSON white space (RFC 8259, section 2):
// nothing else, not form feed, vertical tab or Unicode spaces, may come
// between tokens or around the message.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trimSpace removes the JSON white space around data.
func trimSpace(data []byte) []byte {
	i, j := 0, len(data)
	for i < j && isSpace(data[i]) {
		i++
	}
	for j > i && isSpace(data[j-1]) {
		j--
	}
	return data[i:j]
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at data[i].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index just past the value starting at data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '[', '{':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = skipString(data, i) - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(data)
	default:
		for ; i < len(data); i++ {
			switch data[i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return len(data)
	}
}

// eachElement calls fn with each element of the array arr until fn returns
// false.
func eachElement(arr []byte, fn func(val []byte) bool) {
	i := skipSpace(arr, 1)
	if i < len(arr) && arr[i] == ']' {
		return
	}
	for i < len(arr) {
		i = skipSpace(arr, i)
		end := skipValue(arr, i)
		if !fn(arr[i:end]) {
			return
		}
		i = skipSpace(arr, end)
		if i >= len(arr) || arr[i] == ']' {
			return
		}
		i++ // the comma
	}
}

// eachMember calls fn with each key (quoted, as sent) and value of the
// object obj until fn returns false.
func eachMember(obj []byte, fn func(key, val []byte) bool) {
	i := skipSpace(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return
	}
	for i < len(obj) {
		i = skipSpace(obj, i)
		kend := skipString(obj, i)
		key := obj[i:kend]
		i = skipSpace(obj, kend) + 1 // the colon
		i = skipSpace(obj, i)
		vend := skipValue(obj, i)
		if !fn(key, obj[i:vend]) {
			return
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) || obj[i] == '}' {
			return
		}
		i++ // the comma
	}
}

// keyString returns the text of a quoted JSON string.
func keyString(quoted []byte) string {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return string(quoted)
	}
	return s
}

// keyIs reports whether the quoted JSON string equals want.
func keyIs(quoted []byte, want string) bool {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1:len(quoted)-1]) == want
	}
	return keyString(quoted) == want
}

// envelope is a request object as read off the wire.
type envelope struct {
	method []byte // the method's name, unquoted
	params []byte // raw array or object; nil when absent or null
	id     []byte // raw id; nil for a notification
}

// parseEnvelope reads one request object. On failure it returns the error
// and the id to answer with: the request's own id when that was readable,
// otherwise null.
//
// Duplicate members are an Invalid Request: a request with two "method"
// keys could be read one way by an interceptor or a log and another way by
// dispatch, so Warden refuses to pick one.
func parseEnvelope(data []byte) (envelope, []byte, *Error) {
	var env envelope
	if len(data) == 0 || data[0] != '{' {
		return env, nil, invalidRequest("not a request object")
	}
	var version, method, params, id []byte
	var seen [4]bool
	dup := ""
	eachMember(data, func(key, val []byte) bool {
		slot := -1
		switch {
		case keyIs(key, "jsonrpc"):
			slot, version = 0, val
		case keyIs(key, "method"):
			slot, method = 1, val
		case keyIs(key, "params"):
			slot, params = 2, val
		case keyIs(key, "id"):
			slot, id = 3, val
		}
		if slot >= 0 {
			if seen[slot] {
				dup = keyString(key)
				return false
			}
			seen[slot] = true
		}
		return true
	})
	if dup != "" {
		return env, nil, invalidRequest("duplicate member " + dup)
	}
	if id != nil {
		switch id[0] {
		case '{', '[', 't', 'f':
			return env, nil, invalidRequest("id must be a string, a number or null")
		case '"':
			// The id goes back byte for byte, so it must be text that
			// every client can read back: see "Wire text" in doc.go.
			if !validText(id) {
				return env, nil, invalidRequest("id must be valid Unicode text")
			}
		}
	}
	answer := id
	if version == nil || string(version) != `"2.0"` && (version[0] != '"' || keyString(version) != "2.0") {
		return env, answer, invalidRequest(`jsonrpc must be "2.0"`)
	}
	if method == nil || method[0] != '"' {
		return env, answer, invalidRequest("method must be a string")
	}
	if !validText(method) {
		return env, answer, invalidRequest("method must be valid Unicode text")
	}
	if params != nil {
		switch params[0] {
		case '[', '{':
			env.params = params
		case 'n':
		default:
			return env, answer, invalidRequest("params must be an array or an object")
		}
	}
	if bytes.IndexByte(method, '\\') < 0 {
		env.method = method[1 : len(method)-1]
	} else {
		env.method = []byte(keyString(method))
	}
	env.id = id
	return env, nil, nil
}
