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
	for _, bad := range []string{"", "   ", "a\x00b", "a\u200bb", string(make([]rune, 65))} {
		if _, err := normalizeUsername(bad); err == nil {
			t.Errorf("normalizeUsername(%q) succeeded", bad)
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
