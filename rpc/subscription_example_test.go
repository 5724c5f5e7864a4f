package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wardenrpc/warden/rpc"
)

// A subscription sends values until its context is done. Here the
// session's transport is a function that prints what it is given, with the
// random subscription id replaced.
func ExampleServer_RegisterSubscription() {
	srv := rpc.NewServer()
	srv.MustRegisterSubscription("count", func(ctx context.Context, sub *rpc.Subscription[int], to int) error {
		for i := 1; i <= to; i++ {
			if err := sub.Send(i); err != nil {
				return nil // unsubscribed, or the client is gone
			}
		}
		<-ctx.Done()
		return nil
	}, rpc.Params("to"))

	var id string
	sent := make(chan string, 8)
	sess := rpc.NewSession(srv, func(_ context.Context, msg []byte) error {
		sent <- strings.ReplaceAll(string(msg), id, "ID")
		return nil
	})
	defer sess.Close()

	// What a transport does with each message: values wait for the answer.
	ctx, release := rpc.HoldNotifications(rpc.WithSession(context.Background(), sess))
	answer := srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"count_subscribe","params":[2]}`))
	var r struct{ Result string }
	_ = json.Unmarshal(answer, &r)
	id = r.Result
	fmt.Println(strings.ReplaceAll(string(answer), id, "ID"))
	release()
	fmt.Println(<-sent)
	fmt.Println(<-sent)

	answer = srv.Handle(rpc.WithSession(context.Background(), sess),
		[]byte(`{"jsonrpc":"2.0","id":2,"method":"count_unsubscribe","params":["`+id+`"]}`))
	fmt.Println(string(answer))
	// Output:
	// {"jsonrpc":"2.0","result":"ID","id":1}
	// {"jsonrpc":"2.0","method":"count_subscription","params":{"subscription":"ID","result":1}}
	// {"jsonrpc":"2.0","method":"count_subscription","params":{"subscription":"ID","result":2}}
	// {"jsonrpc":"2.0","result":true,"id":2}
}
