package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/wardenrpc/warden/rpc"
)

// User is an account as callers see it: never its id or password hash.
type User struct {
	ID        string    `json:"-"`
	Username  string    `json:"username" jsonschema:"description=The username as given at sign-up: trimmed and in Unicode NFC."`
	CreatedAt time.Time `json:"created_at" jsonschema:"description=When the user signed up."`
}

// Credentials are the params of sign_up and sign_in.
type Credentials struct {
	Username StrictString `json:"username" jsonschema:"description=1 to 64 characters; surrounding spaces are trimmed and case is ignored when names are compared."`
	Password StrictString `json:"password" jsonschema:"description=8 to 1024 bytes of UTF-8."`
}

// Limits on usernames and passwords.
const (
	MaxUsernameRunes = 64
	MinPasswordBytes = 8
	MaxPasswordBytes = 1024
)

// StrictString is a JSON string that must be valid UTF-8 as sent.
// encoding/json quietly turns invalid bytes and lone surrogate escapes
// into U+FFFD, so two different passwords could otherwise hash alike.
type StrictString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *StrictString) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return &json.UnmarshalTypeError{Value: jsonKindOf(b), Type: reflect.TypeFor[string]()}
	}
	if !validJSONString(b) {
		return errors.New("not valid UTF-8")
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = StrictString(v)
	return nil
}

func jsonKindOf(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// validJSONString reports whether the JSON string literal b is valid
// UTF-8 and has no lone surrogate in its \u escapes.
func validJSONString(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++
			continue
		}
		r, ok := hex4(b[i+2:])
		if !ok {
			return false
		}
		i += 5
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(b[i+3:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// normalizeUsername trims name and puts it in Unicode NFC, the form that
// is stored and shown. It refuses an empty name, one over
// MaxUsernameRunes, and one with control or format characters.
func normalizeUsername(name string) (string, error) {
	name = norm.NFC.String(strings.TrimSpace(name))
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", rpc.InvalidParams("username", "empty")
	case n > MaxUsernameRunes:
		return "", rpc.InvalidParams("username", "longer than 64 characters")
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", rpc.InvalidParams("username", "contains a control or format character")
		}
	}
	return name, nil
}

// usernameKey is the form in which usernames are compared: the normalised
// name, case-folded, in NFC again because folding can undo it. "Ada",
// "ADA" and "ada" share a key.
func usernameKey(normalized string) string {
	return norm.NFC.String(cases.Fold().String(normalized))
}

// checkPassword refuses a password that sign_up must not store: under
// MinPasswordBytes or over MaxPasswordBytes.
func checkPassword(p string) error {
	switch {
	case len(p) < MinPasswordBytes:
		return rpc.InvalidParams("password", "shorter than 8 bytes")
	case len(p) > MaxPasswordBytes:
		return rpc.InvalidParams("password", "longer than 1024 bytes")
	}
	return nil
}
