package otelrpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wardenrpc/warden/otelrpc"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// Telemetry settings the benchmarks compare.
type telemetryMode int

const (
	off       telemetryMode = iota // no interceptor
	metrics                        // metrics only: the tracer provider is a no-op
	sampled1                       // metrics, and traces sampled at 1% as in production
	sampleAll                      // metrics, and every call traced
)

var modes = []struct {
	name string
	mode telemetryMode
}{{"off", off}, {"metrics", metrics}, {"sampled1pct", sampled1}, {"sampleAll", sampleAll}}

// benchServer returns a server with one method, add, with the given
// telemetry. Spans go to a batcher whose exporter drops them, and metrics
// to a reader that is never read, so that what is measured is the
// interceptor and the SDK's recording, not an export.
func benchServer(b *testing.B, mode telemetryMode, opts ...rpc.Option) *rpc.Server {
	b.Helper()
	if mode != off {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		var tp trace.TracerProvider = noop.NewTracerProvider()
		if mode != metrics {
			sampler := sdktrace.AlwaysSample()
			if mode == sampled1 {
				sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))
			}
			sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler),
				sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
			tp = sdk
		}
		tel := otelrpc.New(otelrpc.WithTracerProvider(tp), otelrpc.WithMeterProvider(mp))
		opts = append(opts, rpc.WithInterceptors(tel.Interceptor()), rpc.WithBatchInterceptors(tel.BatchInterceptor()))
	}
	srv := rpc.NewServer(opts...)
	if err := srv.Register("add", func(a, c int) int { return a + c }, rpc.Params("a", "b")); err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkHandle is one call through Server.Handle, in process: the
// interceptor's whole cost, and the SDK's, against the engine's alone.
func BenchmarkHandle(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}`)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			srv := benchServer(b, m.mode)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if srv.Handle(ctx, msg) == nil {
					b.Fatal("no response")
				}
			}
		})
	}
}

// BenchmarkHTTP is one call over HTTP on loopback, with a traceparent, as
// a service sees it.
func BenchmarkHTTP(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			ts := httptest.NewServer(transport.NewHandler(benchServer(b, m.mode)))
			defer ts.Close()
			cl, err := transport.Dial(context.Background(), ts.URL,
				transport.WithHeader("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = cl.Close() }()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				var sum int
				if err := cl.Call(ctx, "add", []int{1, 2}, &sum); err != nil || sum != 3 {
					b.Fatal(sum, err)
				}
			}
		})
	}
}

// BenchmarkBearerInProcess is a protected call as a server handles it, in
// process: the transport's handler called directly (no network) with a
// POST carrying a bearer JWT, verified (the verifier's cache on, as by
// default), the principal injected. It is the cost of telemetry against a
// call that does the work a real one does.
func BenchmarkBearerInProcess(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	ring, err := security.NewKeyRing(security.HS256("k1", secret))
	if err != nil {
		b.Fatal(err)
	}
	v, err := security.NewVerifier(ring, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	iss, err := security.NewIssuer(v)
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := iss.IssueAccess(context.Background(), security.Grant{Subject: "ada", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	const body = `{"jsonrpc":"2.0","id":1,"method":"whoami"}`
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			srv := benchServer(b, m.mode, rpc.WithScheme("bearer", security.NewBearer(v)), security.ProvidePrincipal("bearer"))
			srv.MustRegister("whoami", func(p *security.Principal) string { return p.Subject }, rpc.Security(rpc.Require("bearer")))
			h := transport.NewHandler(srv)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"result":"ada"`) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
