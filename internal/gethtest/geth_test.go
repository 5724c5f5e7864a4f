package gethtest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

type event struct {
	N    int    `json:"n"`
	Kind string `json:"kind"`
}

// TestGethClientSubscribes: geth's Client.Subscribe opens a Warden
// subscription, receives its values in order, and unsubscribes; a
// subscription that Warden ends with a last notification carrying an
// error (here, its producer's) ends geth's with an error, since geth's
// client finds no result in it.
func TestGethClientSubscribes(t *testing.T) {
	srv := rpc.NewServer(rpc.ProvideSession())
	ended := make(chan struct{}, 4)
	srv.MustRegisterSubscription("audit", func(ctx context.Context, sub *rpc.Subscription[event], kind string) error {
		defer func() { ended <- struct{}{} }()
		for i := 0; i < 3; i++ {
			if err := sub.Send(event{N: i, Kind: kind}); err != nil {
				return nil
			}
		}
		<-ctx.Done()
		return nil
	}, rpc.Params("kind"))
	srv.MustRegisterSubscription("broken", func(ctx context.Context, sub *rpc.Subscription[event]) error {
		return rpc.NewError(rpc.CodeUnauthorized, "Unauthorized", rpc.UnauthorizedData{Reason: rpc.ReasonExpired})
	})
	srv.MustRegister("add", func(a, b int) int { return a + b }, rpc.Params("a", "b"))
	h := transport.NewHandler(srv)
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gethrpc.DialContext(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sum int
	if err := c.CallContext(ctx, &sum, "add", 2, 3); err != nil || sum != 5 {
		t.Fatalf("add: %d, %v", sum, err)
	}
	ch := make(chan event, 8)
	sub, err := c.Subscribe(ctx, "audit", ch, "sign_in")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		select {
		case ev := <-ch:
			if ev != (event{N: i, Kind: "sign_in"}) {
				t.Fatalf("value %d: %+v", i, ev)
			}
		case err := <-sub.Err():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatal("no value")
		}
	}
	sub.Unsubscribe() // calls audit_unsubscribe [id]
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the producer did not end after geth's unsubscribe")
	}

	broken, err := c.Subscribe(ctx, "broken", make(chan event))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-broken.Err():
		if err == nil {
			t.Fatal("geth's subscription ended without an error")
		}
	case <-ctx.Done():
		t.Fatal("geth's subscription did not end")
	}
}
