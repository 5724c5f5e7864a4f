package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// response is a JSON-RPC response as a client reads it.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *wireError      `json:"error"`
	ID      json.RawMessage `json:"id"`
}

type wireError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call sends one request with id 1 to method with the given raw params
// ("" for none) and returns the decoded response.
func call(ctx context.Context, tb testing.TB, s *rpc.Server, method, params string) response {
	tb.Helper()
	msg := fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"id":1}`, method)
	if params != "" {
		msg = fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"params":%s,"id":1}`, method, params)
	}
	return decodeResponse(tb, s.Handle(ctx, []byte(msg)))
}

func decodeResponse(tb testing.TB, raw []byte) response {
	tb.Helper()
	if raw == nil {
		tb.Fatal("no response")
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("response %s: %v", raw, err)
	}
	if r.JSONRPC != "2.0" {
		tb.Fatalf("response %s: jsonrpc is not 2.0", raw)
	}
	return r
}

// wantResult fails unless r is a success whose result is the JSON want.
func wantResult(tb testing.TB, r response, want string) {
	tb.Helper()
	if r.Error != nil {
		tb.Fatalf("got error %d %q %s, want result %s", r.Error.Code, r.Error.Message, r.Error.Data, want)
	}
	if !sameJSON(tb, string(r.Result), want) {
		tb.Fatalf("got result %s, want %s", r.Result, want)
	}
}

// wantError fails unless r is an error with code whose data contains every
// one of the JSON fragments in data.
func wantError(tb testing.TB, r response, code int, data ...string) {
	tb.Helper()
	if r.Error == nil {
		tb.Fatalf("got result %s, want error %d", r.Result, code)
	}
	if r.Error.Code != code {
		tb.Fatalf("got error %d %q %s, want code %d", r.Error.Code, r.Error.Message, r.Error.Data, code)
	}
	for _, d := range data {
		if !strings.Contains(string(r.Error.Data), d) {
			tb.Fatalf("error data %s does not contain %s", r.Error.Data, d)
		}
	}
}
