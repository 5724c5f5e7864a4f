package rpc_test

import (
	"testing"

	"github.com/wardenrpc/warden/internal/golden"
	"github.com/wardenrpc/warden/transport"
)

// TestGolden drives every golden protocol file in testdata through the HTTP
// handler serving the specification's methods. examples/spec runs the same
// files against the example server itself.
func TestGolden(t *testing.T) {
	golden.Run(t, transport.NewHandler(newSpecServer(t)), "/", golden.Files(t, "testdata", "*.js"))
}

func sameJSON(tb testing.TB, a, b string) bool {
	tb.Helper()
	return golden.SameJSON(tb, a, b)
}
