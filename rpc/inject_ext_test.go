package rpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

type user struct{ Name string }

// recorder is a provider that records each call, so tests can tell how
// often and in what order things ran.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c == s {
			n++
		}
	}
	return n
}

func TestInjection(t *testing.T) {
	rec := &recorder{}
	type fail struct{}
	type coded struct{}
	s := rpc.NewServer(
		rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}),
		rpc.Provide(func(ctx context.Context) (user, error) {
			rec.add("user")
			return user{Name: "ann"}, nil
		}),
		rpc.Provide(func(ctx context.Context) (*fail, error) {
			rec.add("fail")
			return nil, errors.New("database down")
		}),
		rpc.Provide(func(ctx context.Context) (coded, error) {
			rec.add("coded")
			return coded{}, rpc.Unauthorized(rpc.ReasonRevoked)
		}),
	)
	s.MustRegister("whoami", func(ctx context.Context, u user) string { return u.Name })
	s.MustRegister("greet", func(u user, greeting string) string { return greeting + " " + u.Name }, rpc.Params("greeting"))
	s.MustRegister("twice", func(a user, b user) bool { return a == b })
	s.MustRegister("struct", func(u user, p addArgs) int { return p.A + p.B })
	s.MustRegister("secret", func(u user, n int) int { rec.add("handler"); return n }, rpc.Params("n"),
		rpc.Security(rpc.Require("fake")))
	s.MustRegister("fail", func(f *fail) int { return 0 })
	s.MustRegister("coded", func(c coded) int { return 0 })
	ctx := context.Background()

	if m, _ := s.Method("greet"); len(m.ParamNames()) != 1 || m.ParamNames()[0] != "greeting" {
		t.Errorf("greet params %v: the injected user must not be a param", m.ParamNames())
	}
	if m, _ := s.Method("struct"); len(m.ParamNames()) != 2 {
		t.Errorf("struct params %v: the injected user must not be taken for the params struct", m.ParamNames())
	}

	wantResult(t, call(ctx, t, s, "whoami", ""), `"ann"`)
	wantResult(t, call(ctx, t, s, "greet", `["hi"]`), `"hi ann"`)
	wantResult(t, call(ctx, t, s, "greet", `{"greeting": "hi"}`), `"hi ann"`)
	wantResult(t, call(ctx, t, s, "struct", `{"a": 1, "b": 2}`), `3`)
	// The injected argument never appears among the params.
	wantError(t, call(ctx, t, s, "greet", `["hi", {"Name": "eve"}]`), rpc.CodeInvalidParams, `"params[1]"`)
	wantError(t, call(ctx, t, s, "greet", `{"greeting": "hi", "u": {"Name": "eve"}}`), rpc.CodeInvalidParams, `"u"`)
	wantError(t, call(ctx, t, s, "whoami", `[{"Name": "eve"}]`), rpc.CodeInvalidParams)

	// Resolved once per call, even when the type is asked for twice.
	before := rec.count("user")
	wantResult(t, call(ctx, t, s, "twice", ""), `true`)
	if n := rec.count("user") - before; n != 1 {
		t.Errorf("twice: provider ran %d times, want 1", n)
	}
	before = rec.count("user")
	s.Handle(ctx, []byte(`[{"jsonrpc":"2.0","method":"whoami","id":1},{"jsonrpc":"2.0","method":"whoami","id":2},{"jsonrpc":"2.0","method":"whoami"}]`))
	if n := rec.count("user") - before; n != 3 {
		t.Errorf("batch of three calls: provider ran %d times, want 3", n)
	}

	// A provider's error becomes the call's error, keeping its code.
	wantError(t, call(ctx, t, s, "fail", ""), rpc.CodeServerError)
	wantError(t, call(ctx, t, s, "coded", ""), rpc.CodeUnauthorized, `"revoked"`)

	// The provider runs after the security check, and after params decode.
	before = rec.count("user")
	wantError(t, call(ctx, t, s, "secret", `[1]`), rpc.CodeUnauthorized, `"missing"`)
	wantError(t, call(authed(s, "X-Fake", "expired"), t, s, "secret", `[1]`), rpc.CodeUnauthorized, `"expired"`)
	wantError(t, call(authed(s, "X-Fake", "ok"), t, s, "secret", `["x"]`), rpc.CodeInvalidParams)
	if n := rec.count("user") - before; n != 0 {
		t.Errorf("provider ran %d times for refused calls, want 0", n)
	}
	rec.mu.Lock()
	rec.calls = nil
	rec.mu.Unlock()
	wantResult(t, call(authed(s, "X-Fake", "ok"), t, s, "secret", `[7]`), `7`)
	rec.mu.Lock()
	got := append([]string(nil), rec.calls...)
	rec.mu.Unlock()
	if len(got) != 2 || got[0] != "user" || got[1] != "handler" {
		t.Errorf("calls %v, want the provider once, then the handler", got)
	}
}

// Without a provider, a struct argument is the params struct; with one, it
// is injected. Providers are known at registration.
func TestInjectionDecidedAtRegistration(t *testing.T) {
	fn := func(u user) string { return u.Name }
	plain := rpc.NewServer()
	plain.MustRegister("m", fn)
	wantResult(t, call(context.Background(), t, plain, "m", `{"Name": "from params"}`), `"from params"`)

	injected := rpc.NewServer(rpc.Provide(func(context.Context) (user, error) { return user{"injected"}, nil }))
	injected.MustRegister("m", fn)
	wantResult(t, call(context.Background(), t, injected, "m", ``), `"injected"`)
}

// The provider sees the call's context, the one the transport passed in.
func TestProviderSeesContext(t *testing.T) {
	type key struct{}
	s := rpc.NewServer(rpc.Provide(func(ctx context.Context) (user, error) {
		name, _ := ctx.Value(key{}).(string)
		return user{name}, nil
	}))
	s.MustRegister("whoami", func(u user) string { return u.Name })
	ctx := context.WithValue(context.Background(), key{}, "from ctx")
	wantResult(t, call(ctx, t, s, "whoami", ""), `"from ctx"`)
}
