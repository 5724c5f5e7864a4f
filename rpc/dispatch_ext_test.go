package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// codedErr is a user error type that carries its own code and data.
type codedErr struct{ n int }

func (e codedErr) Error() string  { return fmt.Sprintf("quota %d exceeded", e.n) }
func (e codedErr) ErrorCode() int { return -32050 }
func (e codedErr) ErrorData() any { return map[string]int{"quota": e.n} }

// bareCoder carries a code and no data.
type bareCoder struct{}

func (bareCoder) Error() string  { return "bare" }
func (bareCoder) ErrorCode() int { return -32051 }

func newErrorServer(t *testing.T, opts ...rpc.Option) (*rpc.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	var mu sync.Mutex
	opts = append([]rpc.Option{rpc.WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))}, opts...)
	s := rpc.NewServer(opts...)
	s.MustRegister("ok", func() string { return "ok" })
	s.MustRegister("panic", func() string { panic("secret panic text") })
	s.MustRegister("panicerr", func() (int, error) { panic(errors.New("secret panic error")) })
	s.MustRegister("plain", func() error { return errors.New("secret: db password wrong") })
	s.MustRegister("wrapped", func() error { return fmt.Errorf("loading: %w", errors.New("secret inner")) })
	s.MustRegister("rpcerr", func() (string, error) {
		return "", rpc.NewError(-32040, "Not enough coins", map[string]any{"have": 1, "need": 2})
	})
	s.MustRegister("wrappedrpcerr", func() error { return fmt.Errorf("ctx: %w", rpc.Errorf(-32041, "gone %d", 7)) })
	s.MustRegister("coder", func() error { return codedErr{n: 5} })
	s.MustRegister("barecoder", func() error { return bareCoder{} })
	s.MustRegister("autherr", func() error { return &rpc.AuthError{Reason: rpc.ReasonExpired, Err: errors.New("secret token")} })
	s.MustRegister("invalidparams", func() error { return rpc.InvalidParams("when", "in the past") })
	s.MustRegister("inf", func() float64 { return math.Inf(1) })
	s.MustRegister("raw", func() json.RawMessage { return json.RawMessage(`{"pre":"encoded"}`) })
	s.MustRegister("nilresult", func() (*int, error) { return nil, nil })
	s.MustRegister("noresult", func() error { return nil })
	return s, &logs
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		method  string
		code    int
		message string
		data    string // the exact data, "" for none
		logged  string // a fragment the log must hold, "" for none
	}{
		{"panic", rpc.CodeInternalError, "Internal error", "", "secret panic text"},
		{"panicerr", rpc.CodeInternalError, "Internal error", "", "secret panic error"},
		{"plain", rpc.CodeServerError, "Server error", "", "secret: db password wrong"},
		{"wrapped", rpc.CodeServerError, "Server error", "", "loading: secret inner"},
		{"rpcerr", -32040, "Not enough coins", `{"have":1,"need":2}`, ""},
		{"wrappedrpcerr", -32041, "gone 7", "", ""},
		{"coder", -32050, "quota 5 exceeded", `{"quota":5}`, ""},
		{"barecoder", -32051, "bare", "", ""},
		{"autherr", rpc.CodeUnauthorized, "Unauthorized", `{"reason":"expired"}`, ""},
		{"invalidparams", rpc.CodeInvalidParams, "Invalid params", `{"param":"when","problem":"in the past"}`, ""},
		{"inf", rpc.CodeInternalError, "Internal error", "", "result encoding failed"},
	}
	s, logs := newErrorServer(t)
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			raw := s.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"`+tt.method+`","id":7}`))
			r := decodeResponse(t, raw)
			if r.Error == nil || r.Error.Code != tt.code || r.Error.Message != tt.message {
				t.Fatalf("got %s, want code %d message %q", raw, tt.code, tt.message)
			}
			if string(r.ID) != "7" {
				t.Errorf("id %s, want 7", r.ID)
			}
			if tt.data == "" && r.Error.Data != nil || tt.data != "" && !sameJSON(t, string(r.Error.Data), tt.data) {
				t.Errorf("data %s, want %q", r.Error.Data, tt.data)
			}
			if strings.Contains(string(raw), "secret") || strings.Contains(string(raw), "goroutine") {
				t.Errorf("response %s leaks internals", raw)
			}
			if tt.logged != "" && !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("log does not hold %q:\n%s", tt.logged, logs.String())
			}
		})
	}
	// The server lives on after all that.
	wantResult(t, call(context.Background(), t, s, "ok", ""), `"ok"`)
}

func TestErrorsDebug(t *testing.T) {
	s, _ := newErrorServer(t, rpc.WithDebug(true))
	ctx := context.Background()
	wantError(t, call(ctx, t, s, "plain", ""), rpc.CodeServerError, `"error":"secret: db password wrong"`)
	wantError(t, call(ctx, t, s, "panic", ""), rpc.CodeInternalError, `"panic":"secret panic text"`)
	wantError(t, call(ctx, t, s, "inf", ""), rpc.CodeInternalError, `"error":`)
	// Coded errors are sent as they are, debug or not.
	r := call(ctx, t, s, "rpcerr", "")
	wantError(t, r, -32040)
	if !sameJSON(t, string(r.Error.Data), `{"have":1,"need":2}`) {
		t.Errorf("debug changed a coded error's data: %s", r.Error.Data)
	}
}

func TestResults(t *testing.T) {
	s, _ := newErrorServer(t)
	ctx := context.Background()
	wantResult(t, call(ctx, t, s, "raw", ""), `{"pre":"encoded"}`)
	wantResult(t, call(ctx, t, s, "nilresult", ""), `null`)
	wantResult(t, call(ctx, t, s, "noresult", ""), `null`)
}

// A panic in one batch item does not disturb the others.
func TestPanicInBatch(t *testing.T) {
	s, _ := newErrorServer(t)
	resp := s.Handle(context.Background(), []byte(`[
		{"jsonrpc":"2.0","method":"ok","id":1},
		{"jsonrpc":"2.0","method":"panic","id":2},
		{"jsonrpc":"2.0","method":"panic"},
		{"jsonrpc":"2.0","method":"ok","id":3}
	]`))
	want := `[
		{"jsonrpc":"2.0","result":"ok","id":1},
		{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":2},
		{"jsonrpc":"2.0","result":"ok","id":3}
	]`
	if !sameJSON(t, string(resp), want) {
		t.Fatalf("got %s\nwant %s", resp, want)
	}
}

// A handler that returns a nil *rpc.Error as a non-nil error still gets a
// valid response.
func TestTypedNilError(t *testing.T) {
	s := rpc.NewServer()
	s.MustRegister("typednil", func() error {
		var e *rpc.Error
		return e
	})
	raw := s.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"typednil","id":1}`))
	r := decodeResponse(t, raw)
	if r.Error == nil || r.Error.Code == 0 || r.Error.Message == "" {
		t.Fatalf("got %s, want an error object with a code and message", raw)
	}
}

func TestContextReachesHandler(t *testing.T) {
	type key struct{}
	s := rpc.NewServer()
	s.MustRegister("value", func(ctx context.Context) string { v, _ := ctx.Value(key{}).(string); return v })
	ctx := context.WithValue(context.Background(), key{}, "carried")
	wantResult(t, call(ctx, t, s, "value", ""), `"carried"`)
	resp := s.Handle(ctx, []byte(`[{"jsonrpc":"2.0","method":"value","id":1},{"jsonrpc":"2.0","method":"value","id":2}]`))
	if !sameJSON(t, string(resp), `[{"jsonrpc":"2.0","result":"carried","id":1},{"jsonrpc":"2.0","result":"carried","id":2}]`) {
		t.Fatalf("batch: %s", resp)
	}
}

func TestInterceptors(t *testing.T) {
	var built atomic.Int32
	rec := &recorder{}
	trace := func(name string) rpc.Interceptor {
		return func(next rpc.Handler) rpc.Handler {
			built.Add(1)
			return func(ctx context.Context, req *rpc.Request) (any, error) {
				req2 := "public"
				if !req.Method.Public() {
					req2 = "secured"
				}
				rec.add(fmt.Sprintf("%s>%s:%s:%s:%v", name, req.Method.Name, req2, req.ID, req.Notification()))
				res, err := next(ctx, req)
				rec.add(name + "<")
				return res, err
			}
		}
	}
	deny := func(next rpc.Handler) rpc.Handler {
		return func(ctx context.Context, req *rpc.Request) (any, error) {
			if req.Method.Name == "denied" {
				return nil, rpc.LimitExceeded(250)
			}
			return next(ctx, req)
		}
	}
	s := rpc.NewServer(rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}),
		rpc.WithInterceptors(trace("outer"), trace("inner")), rpc.WithInterceptors(deny))
	s.MustRegister("hello", func() string { rec.add("handler"); return "hi" })
	s.MustRegister("secret", func() string { rec.add("handler"); return "hush" }, rpc.Security(rpc.Require("fake")))
	s.MustRegister("denied", func() string { rec.add("handler"); return "no" })
	// Each chain is built once: for the 3 methods and for the stand-in for
	// methods that are not registered.
	if n := built.Load(); n != 8 {
		t.Fatalf("tracing interceptors built %d times, want 2 for each of 4 chains", n)
	}

	ctx := context.Background()
	wantResult(t, call(ctx, t, s, "hello", ""), `"hi"`)
	want := []string{"outer>hello:public:1:false", "inner>hello:public:1:false", "handler", "inner<", "outer<"}
	if got := rec.calls; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order %v, want %v", got, want)
	}

	// Interceptors see calls that the security check refuses, and their
	// requirement.
	rec.calls = nil
	wantError(t, call(ctx, t, s, "secret", ""), rpc.CodeUnauthorized)
	want = []string{"outer>secret:secured:1:false", "inner>secret:secured:1:false", "inner<", "outer<"}
	if got := rec.calls; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("refused call: %v, want %v", got, want)
	}

	// An interceptor can answer for the method, with its own code.
	rec.calls = nil
	wantError(t, call(ctx, t, s, "denied", ""), rpc.CodeLimitExceeded, `{"retry_after_ms":250}`)
	if rec.count("handler") != 0 {
		t.Error("the handler ran although an interceptor refused the call")
	}

	// Notifications go through the chain too.
	rec.calls = nil
	if resp := s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"hello"}`)); resp != nil {
		t.Fatalf("notification answered: %s", resp)
	}
	if len(rec.calls) == 0 || rec.calls[0] != "outer>hello:public::true" {
		t.Errorf("notification: %v", rec.calls)
	}

	// Calls never rebuild the chain.
	for range 10 {
		call(ctx, t, s, "hello", "")
	}
	if n := built.Load(); n != 8 {
		t.Errorf("interceptors built %d times after calls, want still 8", n)
	}
}

// A panicking interceptor is an internal error like a panicking handler.
func TestInterceptorPanic(t *testing.T) {
	s := rpc.NewServer(rpc.WithInterceptors(func(next rpc.Handler) rpc.Handler {
		return func(ctx context.Context, req *rpc.Request) (any, error) { panic("interceptor") }
	}))
	s.MustRegister("hello", func() string { return "hi" })
	wantError(t, call(context.Background(), t, s, "hello", ""), rpc.CodeInternalError)
}

func TestLimits(t *testing.T) {
	s := newSpecServer(t, rpc.WithBatchLimit(3), rpc.WithDepthLimit(4))
	ctx := context.Background()
	item := `{"jsonrpc":"2.0","method":"get_data","id":1}`
	batch := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]" }

	if r := s.Handle(ctx, []byte(batch(3))); !bytes.HasPrefix(r, []byte(`[{"jsonrpc":"2.0","result":["hello",5]`)) {
		t.Errorf("batch at the limit: %s", r)
	}
	// Over the limit: see TestBatchOverLimitAnswersEachCall.
	if r := s.Handle(ctx, []byte(batch(4))); !bytes.HasPrefix(r, []byte(`[{"jsonrpc":"2.0","error":{"code":-32600`)) {
		t.Errorf("batch over the limit: %s", r)
	}
	// A batch over the limit runs nothing, notifications included.
	var ran atomic.Int32
	s.MustRegister("count", func() error { ran.Add(1); return nil })
	note := `{"jsonrpc":"2.0","method":"count"}`
	if resp := s.Handle(ctx, []byte("["+note+","+note+","+note+","+note+"]")); resp == nil {
		t.Error("a batch of notifications over the limit got no response")
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("%d items of a batch over the limit ran", n)
	}

	// Depth: the request object is level 1.
	// Object, params and [[ ]] are 4 levels: the call reaches dispatch.
	wantError(t, call(ctx, t, s, "nope", `[[[]]]`), rpc.CodeMethodNotFound)
	r := decodeResponse(t, s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"nope","params":[[[[]]]],"id":1}`)))
	wantError(t, r, rpc.CodeInvalidRequest)
	if string(r.ID) != "null" {
		t.Errorf("too deep: id %s, want null", r.ID)
	}
}

// Regression: with a cap below 3 this test used to hang instead of failing.
func TestBatchConcurrency(t *testing.T) {
	const limit = 3
	var running, peak atomic.Int32
	gate := make(chan struct{})
	var once sync.Once
	s := rpc.NewServer(rpc.WithBatchConcurrency(limit))
	s.MustRegister("work", func(ctx context.Context, n int) int {
		cur := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		if cur == limit {
			once.Do(func() { close(gate) }) // the cap is reached: let everyone go
		}
		<-gate
		return n
	}, rpc.Params("n"))

	var b strings.Builder
	b.WriteString("[")
	var want strings.Builder
	want.WriteString("[")
	for i := range 12 {
		if i > 0 {
			b.WriteString(",")
			want.WriteString(",")
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","method":"work","params":[%d],"id":"%d"}`, i, i)
		fmt.Fprintf(&want, `{"jsonrpc":"2.0","result":%d,"id":"%d"}`, i, i)
	}
	b.WriteString("]")
	want.WriteString("]")

	// A server that ran fewer than limit items at once would never open
	// the gate: fail instead of hanging.
	done := make(chan []byte, 1)
	go func() { done <- s.Handle(context.Background(), []byte(b.String())) }()
	var resp []byte
	select {
	case resp = <-done:
	case <-time.After(10 * time.Second):
		once.Do(func() { close(gate) })
		<-done
		t.Fatalf("no more than %d items ever ran at once, want %d", peak.Load(), limit)
	}
	if got := peak.Load(); got != limit {
		t.Errorf("at most %d items ran at once, want %d", got, limit)
	}
	if !sameJSON(t, string(resp), want.String()) {
		t.Errorf("responses out of request order:\n got %s\nwant %s", resp, want.String())
	}
}

func TestIDPreserved(t *testing.T) {
	s := newSpecServer(t)
	for _, id := range []string{
		`1`, `0`, `-1`, `"1"`, `""`, `null`, `1.0`, `1.50`, `-0`, `-0.0`, `1e2`, `1E+2`, `2.5e-3`,
		`18446744073709551616`, `-9223372036854775809`, `123456789012345678901234567890.123456789`,
		`"\u0041"`, `"caf\u00e9"`, `"é"`, `"a\\b\"c"`, `"\ud83d\ude00"`,
	} {
		for _, method := range []string{"get_data", "nope"} {
			resp := s.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"`+method+`","id":`+id+`}`))
			if !bytes.HasSuffix(resp, []byte(`,"id":`+id+`}`)) {
				t.Errorf("%s with id %s: got %s, want the id echoed byte for byte", method, id, resp)
			}
		}
	}
}

func TestServerCall(t *testing.T) {
	s := newSecuredServer(t)
	res, err := s.Call(context.Background(), "public", []byte(`{"a":2,"b":3}`))
	if err != nil || string(res) != "5" {
		t.Fatalf("Call = %s, %v", res, err)
	}
	var rerr *rpc.Error
	if _, err := s.Call(context.Background(), "nope", nil); !errors.As(err, &rerr) || rerr.Code != rpc.CodeMethodNotFound {
		t.Fatalf("Call(nope) error %v, want method not found", err)
	}
	if _, err := s.Call(context.Background(), "fake", []byte(`[1,2]`)); !errors.As(err, &rerr) || rerr.Code != rpc.CodeUnauthorized {
		t.Fatalf("Call(fake) without credentials: %v, want unauthorized", err)
	}
	if res, err := s.Call(authed(s, "X-Fake", "ok"), "fake", []byte(`[1,2]`)); err != nil || string(res) != "3" {
		t.Fatalf("Call(fake) with credentials: %s, %v", res, err)
	}
}
