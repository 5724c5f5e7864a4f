package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/wardenrpc/warden/internal/pgtest"
	"github.com/wardenrpc/warden/security/pgstore"
)

// pg is the PostgreSQL that this package's tests share; each test gets a
// database of its own on it. Tests that stop the server start their own.
var pg pgtest.Shared

func TestMain(m *testing.M) { pg.Main(m) }

// timeout bounds each test's work. It is generous, and never what decides
// an outcome.
const timeout = time.Minute

// testContext is t's context, bounded by timeout.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// open opens a Store on url, closed when t ends.
func open(t testing.TB, url string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(testContext(t), url, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
