package main

import (
	"encoding/json"
	"testing"
)

func TestUsernameKey(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Ada", "ada"},
		{"  ADA\t", "ada"},
		{"Jos\u00e9", "jose\u0301"}, // NFC: é precomposed and combining
		{"STRASSE", "straße"},       // full case folding
	} {
		na, err := normalizeUsername(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := normalizeUsername(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if usernameKey(na) != usernameKey(nb) {
			t.Errorf("%q and %q have different keys %q and %q", tc.a, tc.b, usernameKey(na), usernameKey(nb))
		}
	}
	if n, _ := normalizeUsername(" jose\u0301 "); n != "jos\u00e9" {
		t.Errorf("normalised to %q, want NFC without spaces", n)
	}
	if usernameKey("ada") == usernameKey("adb") {
		t.Error("different names share a key")
	}
	for _, bad := range []string{"", "   ", "a\x00b", "a\u200bb", string(make([]rune, 65)),
		"ada lovelace", // spaces
		"ada☃",         // a symbol
	} {
		if _, err := normalizeUsername(bad); err == nil {
			t.Errorf("normalizeUsername(%q) succeeded", bad)
		}
	}
}

// Regression: look-alike usernames were accepted, so "аdmin" with a
// Cyrillic а, or fullwidth "ａｄｍｉｎ", could pass for "admin".
func TestLookAlikeUsernames(t *testing.T) {
	admin, err := normalizeUsername("admin")
	if err != nil {
		t.Fatal(err)
	}
	// Fullwidth maps to the ordinary name, which is then taken.
	if n, err := normalizeUsername("ａｄｍｉｎ"); err != nil || usernameKey(n) != usernameKey(admin) {
		t.Errorf("fullwidth admin: %q %v, want the key of admin", n, err)
	}
	for _, bad := range []string{
		"\u0430dmin",       // Cyrillic а + Latin
		"p\u0430yp\u0430l", // Cyrillic а inside Latin
		"\u03bfk",          // Greek ο + Latin k
	} {
		if n, err := normalizeUsername(bad); err == nil {
			t.Errorf("normalizeUsername(%q) = %q, want a mixed-script refusal", bad, n)
		}
	}
	for _, good := range []string{
		"\u0430\u0434\u043c\u0438\u043d",                         // all Cyrillic: админ
		"\u03b1\u03b8\u03b7\u03bd\u03b1",                         // all Greek
		"tanaka\u7530\u4e2d\u3072\u3089\u304c\u306a\u30ab\u30bf", // Latin + Han + kana, as Japanese is written
		"email@test.com",
		"user_1.name-2+tag",
	} {
		if _, err := normalizeUsername(good); err != nil {
			t.Errorf("normalizeUsername(%q): %v", good, err)
		}
	}
}

func TestStrictString(t *testing.T) {
	for in, ok := range map[string]bool{
		`"password"`:               true,
		`"caf\u00e9 \ud83d\ude00"`: true,
		`"a\\udc00"`:               true, // an escaped backslash, then text
		"\"\xff\"":                 false,
		`"\udc00"`:                 false,
		`"\ud83d"`:                 false,
		`"\ud83dx"`:                false,
		`"\ud83d\u0041"`:           false,
		`12`:                       false,
		`{"a":1}`:                  false,
	} {
		var s StrictString
		if err := json.Unmarshal([]byte(in), &s); (err == nil) != ok {
			t.Errorf("%s: error %v, want ok=%v", in, err, ok)
		}
	}
}
