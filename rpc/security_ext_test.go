package rpc_test

import (
	"bytes"
	"context"
	"errors"
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
	return rpc.WithCredentials(ctx, s.Authenticate(ctx, h))
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
		{"plain scheme error is invalid", "fake", []string{"X-Fake", "broken"}, rpc.CodeUnauthorized, `{"reason":"invalid"}`},
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
			r := call(t, s, authed(s, tt.headers...), tt.method, `[1,2]`)
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
	wantError(t, call(t, s, context.Background(), "fake", `[1,2]`), rpc.CodeUnauthorized, `"missing"`)
}

// The requirement is checked before params are decoded: a caller without
// credentials learns nothing about params.
func TestRequirementBeforeParams(t *testing.T) {
	s := newSecuredServer(t)
	for _, params := range []string{`["x"]`, `{"nope":1}`, `[1,2,3]`, `[]`} {
		wantError(t, call(t, s, context.Background(), "fake", params), rpc.CodeUnauthorized, `"missing"`)
		wantError(t, call(t, s, authed(s, "X-Fake", "ok"), "fake.read", params), rpc.CodeForbidden, `"read"`)
		wantError(t, call(t, s, authed(s, "X-Fake", "ok"), "fake", params), rpc.CodeInvalidParams)
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

// A scheme runs once per Authenticate call, however many methods a batch
// calls.
func TestAuthenticateRunsEachSchemeOnce(t *testing.T) {
	var n atomic.Int32
	s := rpc.NewServer(rpc.WithScheme("count", countingScheme{&n}))
	creds := s.Authenticate(context.Background(), http.Header{})
	if n.Load() != 1 {
		t.Fatalf("scheme ran %d times, want 1", n.Load())
	}
	if creds.Get("count") == nil {
		t.Fatal("credential not recorded")
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
