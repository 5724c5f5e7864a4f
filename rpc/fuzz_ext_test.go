package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/wardenrpc/warden/internal/golden"
	"github.com/wardenrpc/warden/rpc"
)

// FuzzHandle feeds arbitrary messages to Server.Handle. Whatever comes in,
// Handle must not panic, and any response must be one valid JSON value in
// valid UTF-8: a response object, or a non-empty array of them.
func FuzzHandle(f *testing.F) {
	for _, path := range golden.Files(f, "testdata", "*.js") {
		for _, ex := range golden.Read(f, path) {
			f.Add([]byte(ex.Request))
		}
	}
	for _, seed := range []string{
		`{"jsonrpc":"2.0","method":"point","params":{"x":1,"y":2,"tag":{"name":"a"}},"id":1}`,
		`{"jsonrpc":"2.0","method":"point","params":[1,2,{"name":"b","extra":1}],"id":1}`,
		`{"jsonrpc":"2.0","method":"greet","params":["ann",null],"id":"x"}`,
		`{"jsonrpc":"2.0","method":"greet","params":{"name":"\u00e9\ud83d\ude00"},"id":"x"}`,
		`{"jsonrpc":"2.0","method":"echo","params":[{"a":[1,{"b":null}]}],"id":1}`,
		`{"jsonrpc":"2.0","method":"boom","id":1}`,
		`{"jsonrpc":"2.0","method":"fail","id":1}`,
		"\t\n [ {\"jsonrpc\":\"2.0\",\"method\":\"sum\",\"params\":[1e308,1e308],\"id\":1} ] \r\n",
		`{"jsonrpc":"2.0","method":"subtract","params":[1,2],"id":1,"method":"x"}`,
		`{"\u006aSONRPC":"2.0"}`,
		``,
		`null`,
		`"x"`,
		`[[]]`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":\"\xff\"}",
		`{"jsonrpc":"2.0","method":"echo","params":[1],"id":"\udc00"}`,
		"\f{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1}",
	} {
		f.Add([]byte(seed))
	}
	type tag struct {
		Name string `json:"name"`
	}
	type point struct {
		X   int  `json:"x"`
		Y   int  `json:"y"`
		Tag *tag `json:"tag"`
	}
	build := func(opts ...rpc.Option) *rpc.Server {
		s := newSpecServer(f, append([]rpc.Option{rpc.WithBatchLimit(10), rpc.WithDepthLimit(16)}, opts...)...)
		s.MustRegister("point", func(p point) (point, error) { return p, nil })
		s.MustRegister("greet", func(name string, greeting *string) string { return name }, rpc.Params("name", "greeting"))
		s.MustRegister("echo", func(v any) any { return v }, rpc.Params("v"))
		s.MustRegister("boom", func() error { panic("boom") })
		s.MustRegister("fail", func() error { return rpc.NewError(-32099, "fail", map[string]int{"n": 1}) })
		return s
	}
	s := build()
	// The same server seen by interceptors that only pass calls on: it
	// must answer every message byte for byte as s does, unknown methods
	// and batches included.
	pass := func(next rpc.Handler) rpc.Handler {
		return func(ctx context.Context, req *rpc.Request) (any, error) { return next(ctx, req) }
	}
	passBatch := func(ctx context.Context, _ int, run func(context.Context)) { run(ctx) }
	intercepted := build(rpc.WithInterceptors(pass), rpc.WithBatchInterceptors(passBatch))
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, msg []byte) {
		resp := s.Handle(ctx, msg)
		if got := intercepted.Handle(ctx, msg); !bytes.Equal(got, resp) {
			t.Fatalf("with pass-through interceptors the answer changed:\n got %q\nwant %q", got, resp)
		}
		if resp == nil {
			return
		}
		if !json.Valid(resp) || !utf8.Valid(resp) {
			t.Fatalf("response is not valid JSON text: %q", resp)
		}
		switch resp[0] {
		case '{':
			checkResponseObject(t, resp)
		case '[':
			var items []json.RawMessage
			if err := json.Unmarshal(resp, &items); err != nil || len(items) == 0 {
				t.Fatalf("batch response is not a non-empty array: %q", resp)
			}
			if in := bytes.TrimSpace(msg); in[0] != '[' {
				t.Fatalf("array response to a message that is not a batch: %q", resp)
			}
			for _, it := range items {
				checkResponseObject(t, it)
			}
		default:
			t.Fatalf("response is neither an object nor an array: %q", resp)
		}
	})
}

// checkResponseObject fails unless raw is a JSON-RPC 2.0 response object:
// "jsonrpc" is "2.0", there is an id, and exactly one of result and error.
func checkResponseObject(t *testing.T, raw []byte) {
	t.Helper()
	var r map[string]json.RawMessage
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
	_, hasResult := r["result"]
	rawErr, hasError := r["error"]
	_, hasID := r["id"]
	if string(r["jsonrpc"]) != `"2.0"` || !hasID || hasResult == hasError || len(r) != 3 {
		t.Fatalf("not a JSON-RPC 2.0 response: %q", raw)
	}
	if hasError {
		var e struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(rawErr, &e); err != nil || e.Code == nil || e.Message == nil {
			t.Fatalf("error without code or message: %q", raw)
		}
	}
}
