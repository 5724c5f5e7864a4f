package transport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wardenrpc/warden/transport"
)

func TestClientMaxResponseBytes(t *testing.T) {
	f := newWSFixture(t)
	ctx := testCtx(t)
	for _, url := range []string{f.http.URL, f.wsURL} {
		c, err := transport.Dial(ctx, url, transport.WithMaxResponseBytes(200))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		var s string
		if err := c.Call(ctx, "big", []int{100}, &s); err != nil || len(s) != 100 {
			t.Fatalf("%s: a response under the limit: %d bytes, %v", url, len(s), err)
		}
		if err := c.Call(ctx, "big", []int{300}, &s); err == nil {
			t.Fatalf("%s: a response over the limit was read", url)
		}
	}
	// Over WebSocket, the connection ends with the reader's reason.
	c, err := transport.Dial(ctx, f.wsURL, transport.WithMaxResponseBytes(200))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "big", []int{300}, nil); err == nil {
		t.Fatal("ws: a response over the limit was read")
	}
	<-c.Done()
	if !errors.Is(c.Err(), websocket.ErrReadLimit) {
		t.Fatalf("Err = %v, want the read limit", c.Err())
	}
}

// A server that stops reading used to hold the client's write lock for
// ever when the call's context had no deadline. The write timeout ends
// the write, and the connection with it.
func TestClientWriteTimeoutEndsStalledWrite(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		<-release // never reads
		ws.Close()
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) })
	c, err := transport.Dial(testCtx(t), "ws"+strings.TrimPrefix(ts.URL, "http"),
		transport.WithClientWriteTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	failed := make(chan error, 1)
	go func() {
		big := strings.Repeat("x", 1<<20)
		for {
			if err := c.Notify(context.Background(), "fill", []string{big}); err != nil {
				failed <- err
				return
			}
		}
	}()
	select {
	case err := <-failed:
		t.Logf("write failed as it should: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("a write to a server that does not read never ended")
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection stayed open after a write timed out")
	}
	if err := c.Call(context.Background(), "x", nil, nil); err == nil {
		t.Fatal("a call on the closed connection succeeded")
	}
}
