package otelrpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wardenrpc/warden/otelrpc"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// Tokens of the test scheme.
const (
	tokenAdmin   = "tok-ADMIN-7f3a9c" // scopes admin and user
	tokenUser    = "tok-USER-1b2c3d"  // scope user
	tokenExpired = "tok-EXPIRED-9e8d7c"
	password     = "hunter2-S3CRET-pw"
)

type scopes []string

func (s scopes) HasScope(scope string) bool {
	for _, x := range s {
		if x == scope {
			return true
		}
	}
	return false
}

// named is a credential that names its subject.
type named struct {
	scopes
	subject string
}

func (n named) CredentialSubject() string { return n.subject }

// bearer is a scheme with three fixed tokens.
type bearer struct{}

func (bearer) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	tok, ok := strings.CutPrefix(md.Get("Authorization"), "Bearer ")
	switch {
	case !ok:
		return nil, nil
	case tok == tokenAdmin:
		return named{scopes{"admin", "user"}, "alice"}, nil
	case tok == tokenUser:
		return scopes{"user"}, nil
	case tok == tokenExpired:
		return nil, &rpc.AuthError{Reason: rpc.ReasonExpired}
	}
	return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errors.New("unknown token " + tok)}
}

func (bearer) Info() rpc.SchemeInfo { return rpc.SchemeInfo{Type: "http", Scheme: "bearer"} }

// fixture is a server traced by the interceptor into memory, served over
// HTTP and WebSocket.
type fixture struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	url    string
	feed   feed

	entered, release chan struct{} // the method wait signals the first and waits for the second
}

func newFixture(t *testing.T, opts ...otelrpc.Option) *fixture {
	t.Helper()
	f := &fixture{
		spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader(),
		entered: make(chan struct{}), release: make(chan struct{}),
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(f.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	tel := otelrpc.New(append([]otelrpc.Option{otelrpc.WithTracerProvider(tp), otelrpc.WithMeterProvider(mp)}, opts...)...)
	srv := rpc.NewServer(
		rpc.WithScheme("bearer", bearer{}),
		rpc.WithInterceptors(tel.Interceptor()),
		rpc.WithBatchInterceptors(tel.BatchInterceptor()),
		rpc.ProvideSession(),
	)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	type echoParams struct {
		Text string `json:"text"`
	}
	must(srv.Register("echo", func(p echoParams) string { return p.Text }))
	must(srv.Register("fail", func() error { return errors.New("disk on fire") }))
	must(srv.Register("wait", func() bool {
		close(f.entered)
		<-f.release
		return true
	}))
	must(srv.Register("boom", func() error { panic("boom") }))
	must(srv.Register("tenant", func(ctx context.Context) string { return baggage.FromContext(ctx).Member("tenant").Value() }))
	must(srv.Register("admin_only", func() bool { return true }, rpc.Security(rpc.Require("bearer", "admin"))))
	must(srv.Register("admin_boom", func() error { panic("boom") }, rpc.Security(rpc.Require("bearer", "admin"))))
	type signInParams struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	must(srv.Register("sign_in", func(p signInParams) (string, error) {
		if p.Password != password {
			return "", rpc.Unauthorized(rpc.ReasonInvalid)
		}
		return "welcome " + p.Username, nil
	}))
	must(srv.RegisterSubscription("ticks", func(ctx context.Context, sub *rpc.Subscription[int]) error {
		<-ctx.Done()
		return nil
	}))
	h := transport.NewHandler(srv)
	tel.ObserveHandler(h)
	tel.ObserveServer(srv)
	tel.ObserveRevocations(&f.feed)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// feed is a revocation feed whose lag the test sets, in milliseconds.
type feed struct{ lagMillis atomic.Int64 }

func (f *feed) Lag() time.Duration { return time.Duration(f.lagMillis.Load()) * time.Millisecond }

// post sends body with the given headers ("Name: value") and returns the
// response's body.
func (f *fixture) post(t *testing.T, body string, headers ...string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// only returns the one span exported, failing the test if there is not
// exactly one.
func (f *fixture) only(t *testing.T) tracetest.SpanStub {
	t.Helper()
	spans := f.spans.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1: %v", len(spans), spans)
	}
	return spans[0]
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func (f *fixture) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func findMetric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}
