package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// fakeScheme authenticates from one header: "ok" or "ok:scope1,scope2" is
// a credential with those scopes; "expired", "revoked" and "invalid" fail
// for that reason; "broken" fails with a plain error; anything else, or no
// header, is no credential.
type fakeScheme struct {
	header string
	scopes map[string]string // declared scopes; nil means any
}

type fakeCred struct{ scopes []string }

func (c fakeCred) HasScope(s string) bool { return slices.Contains(c.scopes, s) }

func (f fakeScheme) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	v := md.Get(f.header)
	switch {
	case v == "ok":
		return fakeCred{}, nil
	case strings.HasPrefix(v, "ok:"):
		return fakeCred{scopes: strings.Split(v[3:], ",")}, nil
	case v == rpc.ReasonExpired, v == rpc.ReasonRevoked, v == rpc.ReasonInvalid:
		return nil, &rpc.AuthError{Reason: v, Err: errors.New("secret detail " + v)}
	case v == "broken":
		return nil, errors.New("scheme broke")
	}
	return nil, nil
}

func (f fakeScheme) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "apiKey", In: "header", Name: f.header, Scopes: f.scopes}
}

// authed returns a context carrying what s's schemes make of the headers,
// as a transport does.
func authed(s *rpc.Server, kv ...string) context.Context {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	ctx := context.Background()
	return rpc.WithCredentials(ctx, s.Authenticate(h))
}

func newSecuredServer(t *testing.T, opts ...rpc.Option) *rpc.Server {
	t.Helper()
	opts = append([]rpc.Option{
		rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}),
		rpc.WithScheme("key", fakeScheme{header: "X-Key"}),
	}, opts...)
	s := rpc.NewServer(opts...)
	echo := func(a addArgs) int { return a.A + a.B }
	s.MustRegister("public", echo)
	s.MustRegister("fake", echo, rpc.Security(rpc.Require("fake")))
	s.MustRegister("fake.read", echo, rpc.Security(rpc.Require("fake", "read")))
	s.MustRegister("fake.read.write", echo, rpc.Security(rpc.Require("fake", "write", "read")))
	// Either fake with admin, or key.
	s.MustRegister("admin.or.key", echo, rpc.Security(rpc.Require("fake", "admin").Or(rpc.Require("key"))))
	// Both fake and key.
	s.MustRegister("fake.and.key", echo, rpc.Security(rpc.Requirement{{"fake": {}, "key": {"read"}}}))
	return s
}

func TestRequirements(t *testing.T) {
	s := newSecuredServer(t)
	tests := []struct {
		name    string
		method  string
		headers []string
		code    int    // 0 for success
		data    string // fragment of error data
	}{
		{"public without credentials", "public", nil, 0, ""},
		{"public with failed credentials", "public", []string{"X-Fake", "expired"}, 0, ""},
		{"missing", "fake", nil, rpc.CodeUnauthorized, `{"reason":"missing"}`},
		{"invalid", "fake", []string{"X-Fake", "invalid"}, rpc.CodeUnauthorized, `{"reason":"invalid"}`},
		{"expired", "fake", []string{"X-Fake", "expired"}, rpc.CodeUnauthorized, `{"reason":"expired"}`},
		{"revoked", "fake", []string{"X-Fake", "revoked"}, rpc.CodeUnauthorized, `{"reason":"revoked"}`},
		{"plain scheme error fails closed", "fake", []string{"X-Fake", "broken"}, rpc.CodeInternalError, ``},
		{"other scheme does not count", "fake", []string{"X-Key", "ok"}, rpc.CodeUnauthorized, `{"reason":"missing"}`},
		{"authenticated", "fake", []string{"X-Fake", "ok"}, 0, ""},
		{"scope present", "fake.read", []string{"X-Fake", "ok:write,read"}, 0, ""},
		{"scope absent", "fake.read", []string{"X-Fake", "ok:write"}, rpc.CodeForbidden, `{"required":["read"]}`},
		{"no scopes at all", "fake.read", []string{"X-Fake", "ok"}, rpc.CodeForbidden, `{"required":["read"]}`},
		{"unauthenticated before scopes", "fake.read", nil, rpc.CodeUnauthorized, `{"reason":"missing"}`},
		{"all scopes required", "fake.read.write", []string{"X-Fake", "ok:read"}, rpc.CodeForbidden, `{"required":["read","write"]}`},
		{"all scopes present", "fake.read.write", []string{"X-Fake", "ok:read,write"}, 0, ""},
		{"alternative one", "admin.or.key", []string{"X-Fake", "ok:admin"}, 0, ""},
		{"alternative two", "admin.or.key", []string{"X-Key", "ok"}, 0, ""},
		{"no alternative", "admin.or.key", nil, rpc.CodeUnauthorized, `{"reason":"missing"}`},
		{"alternative lacks scope", "admin.or.key", []string{"X-Fake", "ok:read"}, rpc.CodeForbidden, `{"required":["admin"]}`},
		{"alternative lacks scope, other expired", "admin.or.key", []string{"X-Fake", "ok", "X-Key", "expired"}, rpc.CodeForbidden, `{"required":["admin"]}`},
		{"other alternative expired", "admin.or.key", []string{"X-Key", "expired"}, rpc.CodeUnauthorized, `{"reason":"expired"}`},
		{"both schemes", "fake.and.key", []string{"X-Fake", "ok", "X-Key", "ok:read"}, 0, ""},
		{"only first scheme", "fake.and.key", []string{"X-Fake", "ok"}, rpc.CodeUnauthorized, `{"reason":"missing"}`},
		{"only second scheme", "fake.and.key", []string{"X-Key", "ok:read"}, rpc.CodeUnauthorized, `{"reason":"missing"}`},
		{"second scheme expired", "fake.and.key", []string{"X-Fake", "ok", "X-Key", "expired"}, rpc.CodeUnauthorized, `{"reason":"expired"}`},
		{"both schemes, scope missing", "fake.and.key", []string{"X-Fake", "ok", "X-Key", "ok"}, rpc.CodeForbidden, `{"required":["read"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(authed(s, tt.headers...), t, s, tt.method, `[1,2]`)
			if tt.code == 0 {
				wantResult(t, r, `3`)
				return
			}
			wantError(t, r, tt.code, tt.data)
			if strings.Contains(string(r.Error.Data), "secret") {
				t.Errorf("error data %s leaks the scheme's error", r.Error.Data)
			}
		})
	}
}

func TestRequirementWithoutCredentialsInContext(t *testing.T) {
	s := newSecuredServer(t)
	// A transport that never authenticated: nothing in the context.
	wantError(t, call(context.Background(), t, s, "fake", `[1,2]`), rpc.CodeUnauthorized, `"missing"`)
}

// The requirement is checked before params are decoded: a caller without
// credentials learns nothing about params.
func TestRequirementBeforeParams(t *testing.T) {
	s := newSecuredServer(t)
	for _, params := range []string{`["x"]`, `{"nope":1}`, `[1,2,3]`, `[]`} {
		wantError(t, call(context.Background(), t, s, "fake", params), rpc.CodeUnauthorized, `"missing"`)
		wantError(t, call(authed(s, "X-Fake", "ok"), t, s, "fake.read", params), rpc.CodeForbidden, `"read"`)
		wantError(t, call(authed(s, "X-Fake", "ok"), t, s, "fake", params), rpc.CodeInvalidParams)
	}
}

// In a batch, each item is judged on its own.
func TestRequirementInBatch(t *testing.T) {
	s := newSecuredServer(t)
	resp := s.Handle(authed(s, "X-Fake", "ok:read"), []byte(`[
		{"jsonrpc":"2.0","method":"public","params":[1,1],"id":1},
		{"jsonrpc":"2.0","method":"fake.read","params":[1,2],"id":2},
		{"jsonrpc":"2.0","method":"fake.read.write","params":[1,3],"id":3},
		{"jsonrpc":"2.0","method":"admin.or.key","params":[1,4],"id":4}
	]`))
	want := `[
		{"jsonrpc":"2.0","result":2,"id":1},
		{"jsonrpc":"2.0","result":3,"id":2},
		{"jsonrpc":"2.0","error":{"code":-32003,"message":"Forbidden","data":{"required":["read","write"]}},"id":3},
		{"jsonrpc":"2.0","error":{"code":-32003,"message":"Forbidden","data":{"required":["admin"]}},"id":4}
	]`
	if !sameJSON(t, string(resp), want) {
		t.Fatalf("got %s\nwant %s", resp, want)
	}
}

// A scheme runs only when a call needs its credential, and at most once
// per request: a batch of protected calls shares one run, and public
// calls, unknown methods and invalid requests run it not at all.
func TestAuthenticateRunsEachSchemeOnce(t *testing.T) {
	var n atomic.Int32
	s := rpc.NewServer(rpc.WithScheme("count", countingScheme{&n}), rpc.WithBatchConcurrency(8))
	s.MustRegister("public", func() int { return 1 })
	s.MustRegister("private", func() int { return 2 }, rpc.Security(rpc.Require("count")))
	batch := func(method string, n int) []byte {
		var b strings.Builder
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"jsonrpc":"2.0","method":%q,"id":%d}`, method, i)
		}
		b.WriteByte(']')
		return []byte(b.String())
	}
	tests := []struct {
		name string
		msg  []byte
		runs int32
	}{
		{"batch of 50 protected calls", batch("private", 50), 1},
		{"one protected call", []byte(`{"jsonrpc":"2.0","method":"private","id":1}`), 1},
		{"batch of public calls", batch("public", 20), 0},
		{"unknown method", []byte(`{"jsonrpc":"2.0","method":"nosuch","id":1}`), 0},
		{"invalid request", []byte(`{"jsonrpc":"1.0","method":"private","id":1}`), 0},
		{"parse error", []byte(`{"jsonrpc":`), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n.Store(0)
			ctx := rpc.WithCredentials(context.Background(), s.Authenticate(http.Header{"Authorization": {"Bearer x"}}))
			resp := s.Handle(ctx, tc.msg)
			if got := n.Load(); got != tc.runs {
				t.Fatalf("scheme ran %d times, want %d; response %s", got, tc.runs, resp)
			}
			if tc.runs > 0 && bytes.Contains(resp, []byte(`"error"`)) {
				t.Fatalf("protected calls failed: %s", resp)
			}
		})
	}
	if !s.HasSchemes() || len(s.Schemes()) != 1 || s.Schemes()[0].Name != "count" {
		t.Fatalf("Schemes = %v", s.Schemes())
	}
	if sc, ok := s.Scheme("count"); !ok || sc == nil {
		t.Fatal("Scheme(count) not found")
	}
	if rpc.NewServer().HasSchemes() {
		t.Fatal("a server without schemes reports some")
	}
}

// A scheme that cannot decide (its state cannot be trusted) fails closed:
// -32603 for the calls that need it, with the cause logged at Error, while
// public calls keep working.
func TestSchemeFaultFailsClosed(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSecuredServer(t, rpc.WithLogger(logger))
	ctx := authed(s, "X-Fake", "broken")
	resp := s.Handle(ctx, []byte(`[{"jsonrpc":"2.0","method":"fake","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"public","params":[1,2],"id":2}]`))
	want := `[{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1},{"jsonrpc":"2.0","result":3,"id":2}]`
	if !sameJSON(t, string(resp), want) {
		t.Fatalf("got %s\nwant %s", resp, want)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "scheme broke") {
		t.Fatalf("the cause was not logged at Error:\n%s", logs.String())
	}
	// A client cannot flood the log with it: 500 more calls, a few lines.
	for range 500 {
		s.Handle(authed(s, "X-Fake", "broken"), []byte(`{"jsonrpc":"2.0","method":"fake","params":[1,2],"id":1}`))
	}
	if n := strings.Count(logs.String(), "could not decide"); n > 20 {
		t.Fatalf("501 faulted calls wrote %d lines", n)
	}
	// An alternative that is met still suffices.
	ctx = authed(s, "X-Fake", "broken", "X-Key", "ok")
	resp = s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"admin.or.key","params":[1,2],"id":1}`))
	if !sameJSON(t, string(resp), `{"jsonrpc":"2.0","result":3,"id":1}`) {
		t.Fatalf("got %s", resp)
	}
}

// Why a credential was refused is logged at Debug, with its cause, so an
// operator can see it; it is never sent.
func TestAuthFailureCauseLoggedAtDebug(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSecuredServer(t, rpc.WithLogger(logger))
	resp := s.Handle(authed(s, "X-Fake", "expired"), []byte(`{"jsonrpc":"2.0","method":"fake","params":[1,2],"id":1}`))
	if bytes.Contains(resp, []byte("secret detail")) {
		t.Fatalf("the cause was sent: %s", resp)
	}
	if !strings.Contains(logs.String(), "level=DEBUG") || !strings.Contains(logs.String(), "secret detail expired") {
		t.Fatalf("the cause was not logged at Debug:\n%s", logs.String())
	}
}

type countingScheme struct{ n *atomic.Int32 }

func (c countingScheme) Authenticate(context.Context, rpc.Metadata) (rpc.Credential, error) {
	c.n.Add(1)
	return fakeCred{}, nil
}

func (countingScheme) Info() rpc.SchemeInfo { return rpc.SchemeInfo{Type: "http", Scheme: "bearer"} }

// Regression: with two failing schemes in one alternative, data.reason came
// from map order and changed between runs.
func TestUnauthorizedReasonIsDeterministic(t *testing.T) {
	creds := &rpc.Credentials{}
	creds.Fail("a", rpc.ReasonInvalid)
	creds.Fail("b", rpc.ReasonExpired)
	srv := rpc.NewServer(rpc.WithScheme("a", fakeScheme{header: "X-A"}), rpc.WithScheme("b", fakeScheme{header: "X-B"}))
	if err := srv.Register("both", func() int { return 1 }, rpc.Security(rpc.Requirement{{"a": {}, "b": {}}})); err != nil {
		t.Fatal(err)
	}
	ctx := rpc.WithCredentials(context.Background(), creds)
	for i := 0; i < 50; i++ {
		resp := srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"both","id":1}`))
		if !bytes.Contains(resp, []byte(`"reason":"expired"`)) {
			t.Fatalf("run %d: %s", i, resp)
		}
	}
}
