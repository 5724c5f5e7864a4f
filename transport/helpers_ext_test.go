package transport_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wardenrpc/warden/transport"
)

// setReadDeadline bounds the next reads on c, a net.Conn or a
// *websocket.Conn. The bound is what keeps a misbehaving server from
// hanging the test, so failing to set it fails the test.
func setReadDeadline(tb testing.TB, c interface{ SetReadDeadline(time.Time) error }, d time.Duration) {
	tb.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		tb.Fatalf("SetReadDeadline: %v", err)
	}
}

// send writes s to c and fails the test if it cannot: what the server
// does next is only meaningful once the bytes are on their way.
func send(tb testing.TB, c net.Conn, s string) {
	tb.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// serve runs hs.Serve(ln) in the background until the test closes hs.
// Serve then returns http.ErrServerClosed; any other error fails the test.
func serve(tb testing.TB, hs *http.Server, ln net.Listener) {
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
	}()
}

// shutdown shuts h's WebSocket connections down and fails the test if
// one is still open after 5 s.
func shutdown(tb testing.TB, h *transport.Handler) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
}
