package rpc_test

import (
	"context"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// newSpecServer registers the example methods of the JSON-RPC 2.0
// specification, section 7, with the same shapes as examples/spec.
func newSpecServer(tb testing.TB, opts ...rpc.Option) *rpc.Server {
	tb.Helper()
	s := rpc.NewServer(opts...)
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(s.Register("subtract", func(minuend, subtrahend float64) float64 {
		return minuend - subtrahend
	}, rpc.Params("minuend", "subtrahend")))
	must(s.Register("sum", func(numbers ...float64) float64 {
		total := 0.0
		for _, n := range numbers {
			total += n
		}
		return total
	}, rpc.Params("numbers")))
	must(s.Register("get_data", func() []any { return []any{"hello", 5} }))
	must(s.Register("update", func(ctx context.Context, values ...float64) error { return nil }, rpc.Params("values")))
	must(s.Register("notify_hello", func(ctx context.Context, value float64) error { return nil }, rpc.Params("value")))
	must(s.Register("notify_sum", func(ctx context.Context, numbers ...float64) error { return nil }, rpc.Params("numbers")))
	return s
}
