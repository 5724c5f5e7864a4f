package transport_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// Client.Subscribe opens a subscription on a WebSocket connection; Next
// takes its values, and returns why it ended once it has.
func ExampleClient_Subscribe() {
	srv := rpc.NewServer()
	srv.MustRegisterSubscription("news", func(ctx context.Context, sub *rpc.Subscription[string], topic string) error {
		for _, h := range []string{"first", "second"} {
			if err := sub.Send(topic + ": " + h); err != nil {
				return nil
			}
		}
		<-ctx.Done()
		return nil
	}, rpc.Params("topic"))
	ts := httptest.NewServer(transport.NewHandler(srv))
	defer ts.Close()

	ctx := context.Background()
	c, err := transport.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	sub, err := c.Subscribe(ctx, "news", []string{"go"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		var headline string
		if err := sub.Next(ctx, &headline); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(headline)
	}
	fmt.Println(sub.Unsubscribe(ctx))
	fmt.Println(sub.Next(ctx, nil))
	// Output:
	// go: first
	// go: second
	// <nil>
	// transport: unsubscribed
}
