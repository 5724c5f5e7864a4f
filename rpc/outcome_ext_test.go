package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// Interceptors see calls to methods that are not registered, under one
// stand-in Method, and the caller still gets -32601.
func TestInterceptorsSeeUnknownMethods(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	s := rpc.NewServer(rpc.WithInterceptors(func(next rpc.Handler) rpc.Handler {
		return func(ctx context.Context, req *rpc.Request) (any, error) {
			res, err := next(ctx, req)
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%q %q registered=%v public=%v id=%s code=%d",
				req.Method.Name, req.Name, req.Method.Registered(), req.Method.Public(), req.ID, codeOf(err)))
			mu.Unlock()
			return res, err
		}
	}))
	s.MustRegister("hello", func() string { return "hi" })
	ctx := context.Background()

	wantError(t, call(ctx, t, s, "nosuch", ""), rpc.CodeMethodNotFound)
	wantError(t, call(ctx, t, s, "other.name", `[1]`), rpc.CodeMethodNotFound)
	if resp := s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"nosuch"}`)); resp != nil {
		t.Fatalf("notification to an unknown method answered: %s", resp)
	}
	if _, err := s.Call(ctx, "nosuch", nil); codeOf(err) != rpc.CodeMethodNotFound {
		t.Fatalf("Call of an unknown method: %v, want -32601", err)
	}
	wantResult(t, call(ctx, t, s, "hello", ""), `"hi"`)
	// Messages that are not requests reach no interceptor.
	s.Handle(ctx, []byte(`{"jsonrpc":"2.0","id":1}`))
	s.Handle(ctx, []byte(`{`))

	want := []string{
		`"" "nosuch" registered=false public=true id=1 code=-32601`,
		`"" "other.name" registered=false public=true id=1 code=-32601`,
		`"" "nosuch" registered=false public=true id= code=-32601`,
		`"" "nosuch" registered=false public=true id= code=-32601`,
		`"hello" "hello" registered=true public=true id=1 code=0`,
	}
	if got := strings.Join(seen, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("interceptor saw:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	// Without interceptors nothing changes.
	plain := rpc.NewServer()
	wantError(t, call(ctx, t, plain, "nosuch", ""), rpc.CodeMethodNotFound)
}

func codeOf(err error) int {
	if e := rpc.ErrorOf(err); e != nil {
		return e.Code
	}
	return 0
}

func TestErrorOf(t *testing.T) {
	var nilErr *rpc.Error
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{rpc.NewError(1002, "Busy", nil), 1002, "Busy"},
		{fmt.Errorf("wrapped: %w", rpc.Forbidden([]string{"admin"})), rpc.CodeForbidden, "Forbidden"},
		{&rpc.AuthError{Reason: rpc.ReasonExpired}, rpc.CodeUnauthorized, "Unauthorized"},
		{codedErr{7}, -32050, "quota 7 exceeded"},
		{errors.New("disk on fire: /var/secret"), rpc.CodeServerError, "Server error"},
		{nilErr, rpc.CodeInternalError, "Internal error"},
	} {
		e := rpc.ErrorOf(tc.err)
		switch {
		case tc.code == 0 && e != nil:
			t.Errorf("ErrorOf(%v) = %v, want nil", tc.err, e)
		case tc.code != 0 && (e == nil || e.Code != tc.code || e.Message != tc.msg):
			t.Errorf("ErrorOf(%v) = %+v, want %d %q", tc.err, e, tc.code, tc.msg)
		}
	}
}

// AuthResult agrees with what the engine sends for each outcome of the
// security check, read from real calls.
func TestAuthResult(t *testing.T) {
	results := map[string]string{}
	var mu sync.Mutex
	s := rpc.NewServer(rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}),
		rpc.WithInterceptors(func(next rpc.Handler) rpc.Handler {
			return func(ctx context.Context, req *rpc.Request) (any, error) {
				res, err := next(ctx, req)
				mu.Lock()
				results[req.Method.Name] = rpc.AuthResult(req.Method, err)
				mu.Unlock()
				return res, err
			}
		}))
	s.MustRegister("public", func() string { return "hi" })
	s.MustRegister("secret", func() string { return "hush" }, rpc.Security(rpc.Require("fake")))
	s.MustRegister("admin", func() string { return "hush" }, rpc.Security(rpc.Require("fake", "admin")))
	s.MustRegister("failing", func() error { return errors.New("boom") }, rpc.Security(rpc.Require("fake")))
	ctx := context.Background()
	call(ctx, t, s, "public", "")
	call(ctx, t, s, "secret", "")
	if results["public"] != "" || results["secret"] != rpc.ReasonMissing {
		t.Errorf("without credentials: public %q, secret %q; want \"\" and missing", results["public"], results["secret"])
	}
	for _, tc := range []struct{ value, method, want string }{
		{"ok", "secret", rpc.AuthOK},
		{"ok", "failing", rpc.AuthOK},
		{"ok:user", "admin", rpc.AuthForbidden},
		{"expired", "secret", rpc.ReasonExpired},
		{"revoked", "secret", rpc.ReasonRevoked},
		{"invalid", "secret", rpc.ReasonInvalid},
		{"broken", "secret", rpc.AuthUnknown},
	} {
		cctx := authed(s, "X-Fake", tc.value)
		call(cctx, t, s, tc.method, "")
		if got := results[tc.method]; got != tc.want {
			t.Errorf("%s with %q: AuthResult %q, want %q", tc.method, tc.value, got, tc.want)
		}
	}
	if got := rpc.AuthResult(nil, nil); got != "" {
		t.Errorf("AuthResult(nil, nil) = %q", got)
	}
}

type ctxKey struct{}

// A batch interceptor wraps the batch once, and its context reaches every
// item's interceptors and handler.
func TestBatchInterceptors(t *testing.T) {
	var mu sync.Mutex
	var log []string
	add := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	outer := func(ctx context.Context, size int, run func(context.Context)) {
		add(fmt.Sprintf("outer %d", size))
		run(context.WithValue(ctx, ctxKey{}, "batch"))
		add("outer done")
	}
	inner := func(ctx context.Context, size int, run func(context.Context)) {
		add(fmt.Sprintf("inner %d %v", size, ctx.Value(ctxKey{})))
		run(ctx)
	}
	s := rpc.NewServer(rpc.WithBatchInterceptors(outer, inner), rpc.WithBatchLimit(3),
		rpc.WithInterceptors(func(next rpc.Handler) rpc.Handler {
			return func(ctx context.Context, req *rpc.Request) (any, error) {
				add(fmt.Sprintf("item %s %v", req.Method.Name, ctx.Value(ctxKey{})))
				return next(ctx, req)
			}
		}))
	s.MustRegister("where", func(ctx context.Context) any { return ctx.Value(ctxKey{}) })
	ctx := context.Background()

	resp := s.Handle(ctx, []byte(`[{"jsonrpc":"2.0","method":"where","id":1},{"jsonrpc":"2.0","method":"nosuch","id":2}]`))
	if !strings.Contains(string(resp), `"result":"batch","id":1`) || !strings.Contains(string(resp), `"code":-32601`) {
		t.Fatalf("batch answer %s", resp)
	}
	mu.Lock()
	got := strings.Join(log[:2], "|") + "|" + log[len(log)-1]
	items := strings.Join(log[2:len(log)-1], "|")
	log = nil
	mu.Unlock()
	if got != "outer 2|inner 2 batch|outer done" {
		t.Errorf("batch interceptors: %s", got)
	}
	if !strings.Contains(items, "item where batch") || !strings.Contains(items, "item  batch") {
		t.Errorf("items did not run in the batch's context: %s", items)
	}

	// A single call and a batch refused whole are not batches.
	call(ctx, t, s, "where", "")
	s.Handle(ctx, []byte(`[1,2,3,4]`))
	mu.Lock()
	for _, l := range log {
		if strings.HasPrefix(l, "outer") {
			t.Errorf("batch interceptor ran for a single call or a refused batch: %v", log)
		}
	}
	mu.Unlock()
}

// A batch interceptor that forgets to call run, or calls it twice, does
// not leave the batch unanswered or run it twice.
func TestBatchInterceptorMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   rpc.BatchInterceptor
	}{
		{"never", func(context.Context, int, func(context.Context)) {}},
		{"twice", func(ctx context.Context, _ int, run func(context.Context)) { run(ctx); run(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			var mu sync.Mutex
			s := rpc.NewServer(rpc.WithBatchInterceptors(tc.bi))
			s.MustRegister("count", func() int { mu.Lock(); defer mu.Unlock(); n++; return n })
			resp := s.Handle(context.Background(), []byte(`[{"jsonrpc":"2.0","method":"count","id":1},{"jsonrpc":"2.0","method":"count","id":2}]`))
			if strings.Count(string(resp), `"result"`) != 2 {
				t.Fatalf("answer %s, want two results", resp)
			}
			if n != 2 {
				t.Errorf("the handler ran %d times for a batch of 2", n)
			}
		})
	}
}

// A batch interceptor that runs the items on another goroutine and gives
// up waiting, or panics, still leaves the batch answered, each item run
// once, and the server standing.
func TestBatchInterceptorAsyncAndPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   rpc.BatchInterceptor
	}{
		{"gives up waiting", func(ctx context.Context, _ int, run func(context.Context)) {
			done := make(chan struct{})
			go func() { run(ctx); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Millisecond):
			}
		}},
		{"panics before run", func(context.Context, int, func(context.Context)) { panic("batch boom") }},
		{"panics after run", func(ctx context.Context, _ int, run func(context.Context)) { run(ctx); panic("batch boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			s := rpc.NewServer(rpc.WithBatchInterceptors(tc.bi))
			s.MustRegister("slow", func() int {
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				defer mu.Unlock()
				n++
				return n
			})
			resp := s.Handle(context.Background(), []byte(`[{"jsonrpc":"2.0","method":"slow","id":1},{"jsonrpc":"2.0","method":"slow","id":2}]`))
			if strings.Count(string(resp), `"result"`) != 2 {
				t.Fatalf("answer %s, want two results", resp)
			}
			mu.Lock()
			defer mu.Unlock()
			if n != 2 {
				t.Errorf("the handler ran %d times for a batch of 2", n)
			}
		})
	}
}

// Credentials.Each, read by a public call of a batch while a protected
// sibling runs the scheme, sees the credential only once it is final: the
// race detector holds this test to it.
func TestCredentialsEachDuringBatch(t *testing.T) {
	s := rpc.NewServer(rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}))
	s.MustRegister("peek", func(ctx context.Context) int {
		n := 0
		rpc.CredentialsFrom(ctx).Each(func(string, rpc.Credential) { n++ })
		return n
	})
	s.MustRegister("secret", func() string { return "hush" }, rpc.Security(rpc.Require("fake")))
	var b strings.Builder
	b.WriteByte('[')
	for i := range 16 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","method":"peek","id":%d},{"jsonrpc":"2.0","method":"secret","id":%d}`, 2*i, 2*i+1)
	}
	b.WriteByte(']')
	resp := s.Handle(authed(s, "X-Fake", "ok"), []byte(b.String()))
	if strings.Count(string(resp), `"result":"hush"`) != 16 {
		t.Fatalf("answer %s", resp)
	}
}

// Server.Call of an unknown method answers -32601 whatever its params,
// with interceptors or without.
func TestCallUnknownMethodWithInterceptors(t *testing.T) {
	pass := func(next rpc.Handler) rpc.Handler { return next }
	for _, s := range []*rpc.Server{rpc.NewServer(), rpc.NewServer(rpc.WithInterceptors(pass))} {
		if _, err := s.Call(context.Background(), "nosuch", []byte("{")); codeOf(err) != rpc.CodeMethodNotFound {
			t.Errorf("Call of an unknown method with bad params: %v, want -32601", err)
		}
	}
}
