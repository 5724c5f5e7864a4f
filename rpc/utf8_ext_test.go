package rpc_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// Regression: encoding/json turns invalid UTF-8 and unpaired surrogate
// escapes into U+FFFD, so a handler could not refuse a password it never
// saw as sent. The engine now answers -32602 naming the param.
func TestParamsMustBeValidUnicode(t *testing.T) {
	srv := rpc.NewServer()
	var got []string
	srv.MustRegister("echo", func(s string, rest []string) string {
		got = append(got, s)
		return s
	}, rpc.Params("s", "rest"))
	for _, tc := range []struct {
		name   string
		params string
		ok     bool
	}{
		{"ascii", `["plain", []]`, true},
		{"utf8", `["héllo wörld ✓", []]`, true},
		{"escaped pair", `["\ud83d\ude00", []]`, true},
		{"escapes", `["a\\b\"c\n\u00e9", []]`, true},
		{"bad byte", "[\"a\xffb\", []]", false},
		{"truncated sequence", "[\"a\xe2\x82\", []]", false},
		{"lone low surrogate", `["\udc00", []]`, false},
		{"lone high surrogate", `["\ud800x", []]`, false},
		{"high then not low", `["\ud800\u0041", []]`, false},
		{"high at end", `["\ud83d", []]`, false},
		{"in nested array", `["ok", ["\udfff"]]`, false},
		{"by name", `{"s": "\udc00", "rest": []}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			resp := srv.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"echo","params":`+tc.params+`,"id":1}`))
			if tc.ok {
				if !bytes.Contains(resp, []byte(`"result"`)) || len(got) != 1 {
					t.Fatalf("valid text refused: %s", resp)
				}
				return
			}
			if !bytes.Contains(resp, []byte(`"code":-32602`)) || !bytes.Contains(resp, []byte(`invalid UTF-8`)) {
				t.Fatalf("want -32602 invalid UTF-8, got %s", resp)
			}
			if got != nil {
				t.Fatalf("handler ran with %q", got)
			}
		})
	}
}
