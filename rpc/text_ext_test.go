package rpc_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wardenrpc/warden/rpc"
)

// wantWireText fails unless raw is valid JSON and valid UTF-8, as every
// answer must be (RFC 8259, section 8.1; RFC 6455 text frames).
func wantWireText(tb testing.TB, raw []byte) {
	tb.Helper()
	if !utf8.Valid(raw) || !json.Valid(raw) {
		tb.Fatalf("answer is not valid JSON text: %q", raw)
	}
}

// Regression: an id holding byte 0xFF was echoed raw, so the answer was
// not valid JSON, and over WebSocket not a valid text frame. An id that is
// not valid Unicode text (bad bytes, or an escape of an unpaired
// surrogate, which strict decoders reject) is refused with id null.
func TestInvalidUnicodeIDIsRefused(t *testing.T) {
	s := newSpecServer(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, id string }{
		{"byte 0xFF", "\"a\xffb\""},
		{"truncated sequence", "\"\xe2\x82\""},
		{"overlong encoding", "\"\xc0\xaf\""},
		{"encoded surrogate", "\"\xed\xa0\x80\""},
		{"lone high surrogate escape", `"\ud800"`},
		{"lone low surrogate escape", `"\udc00x"`},
		{"high then not low", `"\ud800\u0041"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"subtract", "nope"} {
				raw := s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"`+method+`","params":[2,1],"id":`+tc.id+`}`))
				wantWireText(t, raw)
				r := decodeResponse(t, raw)
				wantError(t, r, rpc.CodeInvalidRequest, `"id must be valid Unicode text"`)
				if string(r.ID) != "null" {
					t.Errorf("id %s, want null", r.ID)
				}
			}
			// In a batch, the others are answered.
			raw := s.Handle(ctx, []byte(`[{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":`+tc.id+`},
				{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":1}]`))
			wantWireText(t, raw)
			if got := decodeBatch(t, raw); len(got) != 2 || string(got[0].ID) != "null" || string(got[1].Result) != "1" {
				t.Errorf("batch: %s", raw)
			}
			// And in a batch over the limit.
			raw = s.Handle(ctx, []byte("["+strings.Repeat(`{"jsonrpc":"2.0","method":"subtract","id":`+tc.id+`},`, 100)+`1]`))
			wantWireText(t, raw)
		})
	}
	// Valid text comes back as sent.
	for _, id := range []string{`"é✓"`, `"\ud83d\ude00"`, `"\u00e9"`, "\"\xf0\x9f\x98\x80\""} {
		raw := s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":`+id+`}`))
		if !strings.HasSuffix(string(raw), `"result":1,"id":`+id+`}`) {
			t.Errorf("id %s: %s", id, raw)
		}
	}
}

// A method name that is not valid Unicode text is an invalid request. The
// id is fine, so it is answered with it.
func TestInvalidUnicodeMethodIsRefused(t *testing.T) {
	s := newSpecServer(t)
	for _, method := range []string{"subtract\xff", `subtract\udc00`, "\xe2\x82"} {
		raw := s.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"`+method+`","params":[2,1],"id":7}`))
		wantWireText(t, raw)
		r := decodeResponse(t, raw)
		wantError(t, r, rpc.CodeInvalidRequest, `"method must be valid Unicode text"`)
		if string(r.ID) != "7" {
			t.Errorf("method %q: id %s, want 7", method, r.ID)
		}
	}
}

// badText marshals to a JSON string holding byte 0xFF, which json.Marshal
// passes through from a MarshalJSON method.
type badText struct{}

func (badText) MarshalJSON() ([]byte, error) { return []byte("\"\xff\""), nil }

// A handler whose result or error data would go out as bytes that are not
// text gets -32603 instead: the answer is always valid JSON text.
func TestResultMustBeText(t *testing.T) {
	s := rpc.NewServer()
	s.MustRegister("raw", func() json.RawMessage { return json.RawMessage("\"\xff\"") })
	s.MustRegister("marshaler", func() badText { return badText{} })
	s.MustRegister("nested", func() map[string]any { return map[string]any{"a": json.RawMessage("\"\xfe\"")} })
	s.MustRegister("data", func() error { return rpc.NewError(-32099, "bad data", badText{}) })
	s.MustRegister("fine", func() json.RawMessage { return json.RawMessage(`"é"`) })
	for _, method := range []string{"raw", "marshaler", "nested", "data"} {
		raw := s.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"`+method+`","id":1}`))
		wantWireText(t, raw)
		wantError(t, decodeResponse(t, raw), rpc.CodeInternalError)
	}
	wantResult(t, call(context.Background(), t, s, "fine", ""), `"é"`)
}

// Regression: Handle trimmed with bytes.TrimSpace, so a message wrapped in
// form feeds, vertical tabs or Unicode spaces ran. Only space, tab, CR and
// LF are JSON white space (RFC 8259, section 2), around the message and
// between its tokens.
func TestOnlyJSONWhitespaceIsSkipped(t *testing.T) {
	s := newSpecServer(t)
	ctx := context.Background()
	call := `{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":1}`
	for _, tc := range []struct{ name, msg string }{
		{"leading form feed", "\f" + call},
		{"trailing vertical tab", call + "\v"},
		{"NEL", "\u0085" + call},
		{"no-break space", "\u00a0" + call},
		{"ideographic space", call + "\u3000"},
		{"NUL", "\x00" + call},
		{"form feed between tokens", `{"jsonrpc":"2.0",` + "\f" + `"method":"subtract","params":[2,1],"id":1}`},
		{"no-break space between tokens", `{"jsonrpc":"2.0","method":"subtract","params":[2,` + "\u00a0" + `1],"id":1}`},
		{"form feed between batch items", "[" + call + ",\f" + call + "]"},
		{"only a form feed", "\f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := s.Handle(ctx, []byte(tc.msg))
			r := decodeResponse(t, raw)
			wantError(t, r, rpc.CodeParseError)
			if string(r.ID) != "null" {
				t.Errorf("id %s, want null", r.ID)
			}
		})
	}
	for _, msg := range []string{
		" \t\r\n" + call + "\n\r\t ",
		`{ "jsonrpc" :	"2.0" ,` + "\r\n" + `"method":"subtract", "params" : [ 2 , 1 ] , "id" : 1 }`,
		"\n[ " + call + " ,\t" + call + " ]\n",
	} {
		raw := s.Handle(ctx, []byte(msg))
		if !strings.Contains(string(raw), `"result":1`) {
			t.Errorf("%q: %s", msg, raw)
		}
	}
}
