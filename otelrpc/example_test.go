package otelrpc_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wardenrpc/warden/otelrpc"
	"github.com/wardenrpc/warden/rpc"
)

// A server whose calls are traced. A program would pass its own
// TracerProvider and MeterProvider, exporting to its collector.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	tel := otelrpc.New(otelrpc.WithTracerProvider(tp))
	srv := rpc.NewServer(rpc.WithInterceptors(tel.Interceptor()), rpc.WithBatchInterceptors(tel.BatchInterceptor()))
	if err := srv.Register("subtract", func(a, b int) int { return a - b }, rpc.Params("minuend", "subtrahend")); err != nil {
		panic(err)
	}
	srv.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","id":"c-1","method":"subtract","params":[42,23]}`))
	srv.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","id":2,"method":"subtract","params":[42]}`))

	for _, s := range spans.GetSpans() {
		fmt.Println(s.Name, s.SpanKind)
		for _, kv := range s.Attributes {
			fmt.Printf("  %s=%s\n", kv.Key, kv.Value.String())
		}
	}
	// Output:
	// subtract server
	//   rpc.system.name=jsonrpc
	//   rpc.method=subtract
	//   jsonrpc.protocol.version=2.0
	//   jsonrpc.request.id=c-1
	// subtract server
	//   rpc.system.name=jsonrpc
	//   rpc.method=subtract
	//   jsonrpc.protocol.version=2.0
	//   jsonrpc.request.id=2
	//   rpc.response.status_code=-32602
	//   error.type=-32602
}
