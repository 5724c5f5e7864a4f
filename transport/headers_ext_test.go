package transport_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// TestHeadersFrom: a method sees the headers of the POST that carried its
// call, and on a WebSocket those of the handshake; a context that no
// Handler made has none.
func TestHeadersFrom(t *testing.T) {
	srv := rpc.NewServer()
	if err := srv.Register("header", func(ctx context.Context, p struct {
		Name string `json:"name"`
	}) (string, error) {
		return transport.HeadersFrom(ctx).Get(p.Name), nil
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(transport.NewHandler(srv))
	defer ts.Close()

	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, url := range []string{ts.URL, "ws" + strings.TrimPrefix(ts.URL, "http")} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			c, err := transport.Dial(context.Background(), url, transport.WithHeader("Traceparent", tp))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			for range 2 { // a WebSocket's second call sees the handshake's headers too
				var got string
				if err := c.Call(context.Background(), "header", map[string]string{"name": "traceparent"}, &got); err != nil {
					t.Fatal(err)
				}
				if got != tp {
					t.Fatalf("traceparent = %q, want %q", got, tp)
				}
			}
		})
	}
	if h := transport.HeadersFrom(context.Background()); h != nil {
		t.Errorf("HeadersFrom(Background) = %v, want nil", h)
	}
}
