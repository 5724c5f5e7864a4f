package transport_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

func TestClientTimeoutLeavesConnectionUsable(t *testing.T) {
	f := newWSFixture(t)
	for _, url := range []string{f.http.URL, f.wsURL} {
		c := f.dial(t)
		if url == f.http.URL {
			var err error
			if c, err = transport.Dial(testCtx(t), url); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := c.Call(ctx, "block", nil, nil)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: blocked call with a 100ms timeout: %v", url, err)
		}
		var diff float64
		if err := c.Call(testCtx(t), "subtract", []int{5, 2}, &diff); err != nil || diff != 3 {
			t.Fatalf("%s: call after a timed-out one: %v %v", url, diff, err)
		}
	}
}

func TestClientTokenSourceIsAskedEveryHTTPCall(t *testing.T) {
	f := newWSFixture(t)
	var asked atomic.Int32
	tokens := []string{f.scheme.issue("first", time.Hour), f.scheme.issue("second", time.Hour)}
	c, err := transport.Dial(testCtx(t), f.http.URL, transport.WithTokenSource(func(context.Context) (string, error) {
		n := asked.Add(1)
		return tokens[(n-1)%2], nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	var a, b string
	if err := c.Call(testCtx(t), "whoami", nil, &a); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(testCtx(t), "whoami", nil, &b); err != nil {
		t.Fatal(err)
	}
	if a != "first" || b != "second" || asked.Load() != 2 {
		t.Fatalf("whoami = %q then %q after %d asks: the refreshed token was not used", a, b, asked.Load())
	}
}

func TestClientHTTPErrors(t *testing.T) {
	f := newWSFixture(t)
	c, _ := transport.Dial(testCtx(t), f.http.URL)
	err := c.Call(testCtx(t), "subtract", map[string]any{"minuend": 1, "nope": 2}, nil)
	var e *rpc.Error
	if !errors.As(err, &e) || e.Code != rpc.CodeInvalidParams {
		t.Fatalf("want *rpc.Error -32602, got %v", err)
	}
	if _, err := transport.Dial(testCtx(t), "ftp://example.com"); err == nil {
		t.Fatal("an ftp URL was accepted")
	}
}
