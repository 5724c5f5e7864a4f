package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"

	"github.com/wardenrpc/warden/rpc"
)

// User is an account as callers see it: never its id or password hash.
type User struct {
	ID        string    `json:"-"`
	Username  string    `json:"username" jsonschema:"description=The username as given at sign-up\\, prepared by PRECIS (fullwidth letters mapped\\, NFC)."`
	CreatedAt time.Time `json:"created_at" jsonschema:"description=When the user signed up."`
}

// Credentials are the params of sign_up and sign_in.
type Credentials struct {
	Username StrictString `json:"username" jsonschema:"description=1 to 64 letters\\, digits and ASCII punctuation (PRECIS\\, RFC 8265): no spaces or symbols\\, and no letters of scripts not written together. Case is ignored when names are compared."`
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

// normalizeUsername puts name in the form that is stored and shown: trimmed
// and prepared by PRECIS's UsernameCasePreserved profile (RFC 8265), which
// maps fullwidth letters to their ordinary forms, puts the name in NFC,
// and refuses spaces, symbols, control and format characters. It also
// refuses an empty name, one over MaxUsernameRunes, and one that mixes
// letters of scripts that are not written together (UTS #39's "highly
// restrictive" level), so that "аdmin" with a Cyrillic а cannot pass for
// "admin"; fullwidth "ａｄｍｉｎ" maps to "admin" itself and is taken.
func normalizeUsername(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 4*MaxUsernameRunes {
		return "", rpc.InvalidParams("username", "longer than 64 characters")
	}
	if name == "" {
		return "", rpc.InvalidParams("username", "empty")
	}
	name, err := precis.UsernameCasePreserved.String(name)
	if err != nil {
		return "", rpc.InvalidParams("username", "may hold letters, digits and ASCII punctuation, but no spaces, symbols or control characters")
	}
	if utf8.RuneCountInString(name) > MaxUsernameRunes {
		return "", rpc.InvalidParams("username", "longer than 64 characters")
	}
	if mixedScripts(name) {
		return "", rpc.InvalidParams("username", "mixes letters of different scripts")
	}
	return name, nil
}

// The scripts a username's letters may come from together, besides any
// one script alone: UTS #39's highly restrictive sets.
var scriptSets = [][]*unicode.RangeTable{
	{unicode.Latin, unicode.Han, unicode.Hiragana, unicode.Katakana},
	{unicode.Latin, unicode.Han, unicode.Bopomofo},
	{unicode.Latin, unicode.Han, unicode.Hangul},
}

// mixedScripts reports whether name's letters come from scripts that are
// not written together. Digits and punctuation (the Common and Inherited
// scripts) go with any script.
func mixedScripts(name string) bool {
	var scripts []*unicode.RangeTable
	for _, r := range name {
		if unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		t := scriptOf(r)
		if t == nil {
			return true // a script we cannot tell: refuse rather than guess
		}
		if !slices.Contains(scripts, t) {
			scripts = append(scripts, t)
		}
	}
	if len(scripts) <= 1 {
		return false
	}
	for _, set := range scriptSets {
		if subset(scripts, set) {
			return false
		}
	}
	return true
}

func scriptOf(r rune) *unicode.RangeTable {
	for _, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			return t
		}
	}
	return nil
}

func subset(a, b []*unicode.RangeTable) bool {
	for _, t := range a {
		if !slices.Contains(b, t) {
			return false
		}
	}
	return true
}

// usernameKey is the form in which usernames are compared: the normalised
// name, case-folded, in NFC again because folding can undo it. "Ada",
// "ADA" and "ada" share a key.
func usernameKey(normalized string) string {
	return norm.NFC.String(cases.Fold().String(normalized))
}

// checkNewPassword refuses, as param, a password that must not be stored:
// under MinPasswordBytes or over MaxPasswordBytes.
func checkNewPassword(param, p string) error {
	switch {
	case len(p) < MinPasswordBytes:
		return rpc.InvalidParams(param, "shorter than 8 bytes")
	case len(p) > MaxPasswordBytes:
		return rpc.InvalidParams(param, "longer than 1024 bytes")
	}
	return nil
}
