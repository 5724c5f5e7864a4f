package otelrpc_test

import (
	"context"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wardenrpc/warden/otelrpc"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// benchServer returns a server with one method, add, traced and measured
// by an SDK that samples every span and batches them to an exporter that
// drops them, or with no interceptor at all.
func benchServer(b *testing.B, on bool) *rpc.Server {
	b.Helper()
	var opts []rpc.Option
	if on {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			_ = mp.Shutdown(context.Background())
		})
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
// interceptor's whole cost against the engine's alone.
func BenchmarkHandle(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}`)
	for _, c := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run(c.name, func(b *testing.B) {
			srv := benchServer(b, c.on)
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
	for _, c := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run(c.name, func(b *testing.B) {
			ts := httptest.NewServer(transport.NewHandler(benchServer(b, c.on)))
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
