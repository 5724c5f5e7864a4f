package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// Issue 11: Server.Call trusted its params. "[1," succeeded, and `{"a"`
// panicked into -32603 with a stack in the log. Call must hold params to
// the checks a request's params get from Handle, with the same codes.
func TestCallRejectsMalformedParamsAsHandleDoes(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	s := rpc.NewServer(rpc.WithDepthLimit(4),
		rpc.WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
	s.MustRegister("pair", func(a int, b any) int { return a }, rpc.Params("a", "b"))

	for _, tc := range []struct {
		params string
		code   int    // 0: success
		param  string // for CodeInvalidParams: the param named in data
	}{
		{`[1,`, rpc.CodeParseError, ""},
		{`{"a"`, rpc.CodeParseError, ""},
		{`{"a":1`, rpc.CodeParseError, ""},
		{`{"a":1,}`, rpc.CodeParseError, ""},
		{`[1,2]x`, rpc.CodeParseError, ""},
		{`[1,2] [3]`, rpc.CodeParseError, ""},
		{"\f[1,2]", rpc.CodeParseError, ""},
		{"[1,2]\u00a0", rpc.CodeParseError, ""},
		{`42`, rpc.CodeInvalidRequest, ""},
		{`"[1,2]"`, rpc.CodeInvalidRequest, ""},
		{`true`, rpc.CodeInvalidRequest, ""},
		{`[1,[[[0]]]]`, rpc.CodeInvalidRequest, ""}, // 5 deep inside a request
		{"[1,\"\xff\"]", rpc.CodeInvalidParams, "b"},
		{`[1,"\ud800"]`, rpc.CodeInvalidParams, "b"},
		{`{"a":1,"b":{"k":"\udc00"}}`, rpc.CodeInvalidParams, "b"},
		{`null`, rpc.CodeInvalidParams, "a"},
		{`[1]`, rpc.CodeInvalidParams, "b"},
		{`[1,[[0]]]`, 0, ""},
		{" \t{\"a\":1,\"b\":null}\r\n", rpc.CodeInvalidParams, "b"},
		{" \t{\"a\":1,\"b\":2}\r\n", 0, ""},
	} {
		var err error // not *rpc.Error: a success must be a nil error
		res, err := s.Call(context.Background(), "pair", []byte(tc.params))
		viaHandle := call(context.Background(), t, s, "pair", tc.params)
		if tc.code == 0 {
			if err != nil {
				t.Errorf("Call(%q) = %v, want success", tc.params, err)
			} else if string(res) != "1" {
				t.Errorf("Call(%q) = %s, want 1", tc.params, res)
			}
			wantResult(t, viaHandle, "1")
			continue
		}
		var rerr *rpc.Error
		if !errors.As(err, &rerr) || rerr == nil {
			t.Errorf("Call(%q) = %s, %v; want an *rpc.Error %d", tc.params, res, err, tc.code)
			continue
		}
		if rerr.Code != tc.code {
			t.Errorf("Call(%q): code %d, want %d", tc.params, rerr.Code, tc.code)
		}
		if viaHandle.Error == nil || viaHandle.Error.Code != rerr.Code {
			t.Errorf("params %q: Call says %d, Handle says %+v", tc.params, rerr.Code, viaHandle.Error)
		}
		if tc.param != "" {
			if pe, ok := rerr.Data.(rpc.ParamError); !ok || pe.Param != tc.param {
				t.Errorf("Call(%q): data %#v, want param %q", tc.params, rerr.Data, tc.param)
			}
		}
	}
	if logs.Len() > 0 {
		t.Errorf("malformed params were logged as faults:\n%s", logs.String())
	}
}

// Issue 11: Call returned *rpc.Error, so that `var err error = ...` held a
// typed nil on success.
func TestCallSuccessIsNilError(t *testing.T) {
	s := newSpecServer(t)
	var err error
	for _, params := range []string{"", "null", " ", "[]"} {
		_, err = s.Call(context.Background(), "get_data", []byte(params))
		if err != nil {
			t.Errorf("Call(get_data, %q): err = %#v, want nil", params, err)
		}
	}
	_, err = s.Call(context.Background(), "nope", nil)
	if rerr := (*rpc.Error)(nil); !errors.As(err, &rerr) || rerr.Code != rpc.CodeMethodNotFound {
		t.Errorf("Call(nope) = %v, want -32601", err)
	}
	if !strings.Contains(err.Error(), "-32601") {
		t.Errorf("Call(nope) error text %q does not carry its code", err)
	}
}
