package rpc_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// chanPipe is a session whose transport is a channel: each message sent
// to the client arrives on out.
type chanPipe struct {
	sess *rpc.Session
	ctx  context.Context
	out  chan string
}

func newChanPipe(srv *rpc.Server) *chanPipe {
	p := &chanPipe{out: make(chan string, 64)}
	p.sess = rpc.NewSession(srv, func(ctx context.Context, msg []byte) error {
		select {
		case p.out <- string(msg):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	p.ctx = rpc.WithSession(context.Background(), p.sess)
	return p
}

func (p *chanPipe) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-p.out:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
		return ""
	}
}

func newTickServer(t *testing.T, ticks chan int) *rpc.Server {
	t.Helper()
	srv := rpc.NewServer()
	srv.MustRegisterSubscription("ticks", func(ctx context.Context, sub *rpc.Subscription[int], from int) error {
		if err := sub.Send(from); err != nil {
			return err
		}
		for {
			select {
			case v := <-ticks:
				if err := sub.Send(v); err != nil {
					return err
				}
			case <-ctx.Done():
				return nil
			}
		}
	}, rpc.Params("from"))
	return srv
}

// The subscription's first value waits until the transport has written the
// answer that carries its id: HoldNotifications.
func TestSubscriptionHoldsValuesUntilAnswered(t *testing.T) {
	srv := newTickServer(t, make(chan int))
	p := newChanPipe(srv)
	defer p.sess.Close()
	ctx, release := rpc.HoldNotifications(p.ctx)
	resp := srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"ticks_subscribe","params":[7]}`))
	var r struct{ Result string }
	if err := json.Unmarshal(resp, &r); err != nil || !strings.HasPrefix(r.Result, "0x") {
		t.Fatalf("subscribe: %s", resp)
	}
	select {
	case m := <-p.out:
		t.Fatalf("a value went out before the answer: %s", m)
	default:
	}
	release()
	want := `{"jsonrpc":"2.0","method":"ticks_subscription","params":{"subscription":"` + r.Result + `","result":7}}`
	if got := p.next(t); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if p.sess.Subscriptions() != 1 {
		t.Fatalf("%d subscriptions", p.sess.Subscriptions())
	}
	resp = srv.Handle(p.ctx, []byte(`{"jsonrpc":"2.0","id":2,"method":"ticks_unsubscribe","params":{"subscription":"`+r.Result+`"}}`))
	if string(resp) != `{"jsonrpc":"2.0","result":true,"id":2}` {
		t.Fatalf("unsubscribe: %s", resp)
	}
	if p.sess.Subscriptions() != 0 {
		t.Fatalf("%d subscriptions after unsubscribing", p.sess.Subscriptions())
	}
}

// Close ends every subscription and waits for its producer.
func TestSessionCloseEndsSubscriptions(t *testing.T) {
	var returned sync.WaitGroup
	srv := rpc.NewServer()
	srv.MustRegisterSubscription("wait", func(ctx context.Context, sub *rpc.Subscription[int]) error {
		defer returned.Done()
		<-ctx.Done()
		return nil
	})
	p := newChanPipe(srv)
	for i := 0; i < 5; i++ {
		returned.Add(1)
		resp := srv.Handle(p.ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"wait_subscribe"}`))
		if !strings.Contains(string(resp), `"result":"0x`) {
			t.Fatalf("subscribe: %s", resp)
		}
	}
	p.sess.Close()
	returned.Wait() // Close returned after every producer did; this cannot block
	resp := srv.Handle(p.ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"wait_subscribe"}`))
	if !strings.Contains(string(resp), `"code":-32600`) {
		t.Fatalf("subscribing on a closed session: %s", resp)
	}
}

func TestSubscriptionWithoutSession(t *testing.T) {
	srv := newTickServer(t, make(chan int))
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ticks_subscribe","params":[1]}`,
		`{"jsonrpc":"2.0","id":1,"method":"ticks_unsubscribe","params":["0x00"]}`,
	} {
		resp := srv.Handle(context.Background(), []byte(msg))
		if !strings.Contains(string(resp), `"code":-32600`) {
			t.Errorf("%s without a session: %s", msg, resp)
		}
	}
	// A session that cannot send notifications is no better.
	ctx := rpc.WithSession(context.Background(), rpc.NewSession(srv, nil))
	resp := srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"ticks_subscribe","params":[1]}`))
	if !strings.Contains(string(resp), `"code":-32600`) {
		t.Errorf("on a session without notifications: %s", resp)
	}
}

func TestRegisterSubscriptionIsChecked(t *testing.T) {
	srv := rpc.NewServer()
	for name, fn := range map[string]any{
		"no subscription argument": func(ctx context.Context) error { return nil },
		"a result":                 func(sub *rpc.Subscription[int]) (int, error) { return 0, nil },
		"two subscriptions":        func(a, b *rpc.Subscription[int]) error { return nil },
		"a value JSON cannot hold": func(sub *rpc.Subscription[chan int]) error { return nil },
		"not a function":           42,
	} {
		if err := srv.RegisterSubscription("ns", fn); err == nil {
			t.Errorf("%s: registered", name)
		}
	}
	if err := srv.Register("plain", func(sub *rpc.Subscription[int]) error { return nil }); err == nil {
		t.Error("Register took a *rpc.Subscription argument")
	}
	if err := srv.RegisterSubscription("rpc.x", func(sub *rpc.Subscription[int]) error { return nil }); err == nil {
		t.Error("a reserved namespace was registered")
	}
	srv.MustRegisterSubscription("ns", func(sub *rpc.Subscription[int]) error { return nil })
	if err := srv.RegisterSubscription("ns", func(sub *rpc.Subscription[int]) error { return nil }); err == nil {
		t.Error("registered twice")
	}
	m, ok := srv.Method("ns_subscribe")
	if !ok || m.Subscription == nil || m.Subscription.Notification != "ns_subscription" ||
		m.Subscription.Unsubscribe != "ns_unsubscribe" || m.Subscription.Value.Kind().String() != "int" ||
		m.Result.Kind().String() != "string" {
		t.Fatalf("ns_subscribe: %+v", m)
	}
	if m, ok := srv.Method("ns_unsubscribe"); !ok || m.Subscription != nil {
		t.Fatal("ns_unsubscribe is not listed")
	}
}

// A producer that panics ends its subscription with -32603, and the
// session goes on.
func TestSubscriptionProducerPanics(t *testing.T) {
	srv := rpc.NewServer()
	srv.MustRegisterSubscription("boom", func(sub *rpc.Subscription[int]) error { panic("boom") })
	p := newChanPipe(srv)
	defer p.sess.Close()
	resp := srv.Handle(p.ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"boom_subscribe"}`))
	var r struct{ Result string }
	_ = json.Unmarshal(resp, &r)
	want := `{"jsonrpc":"2.0","method":"boom_subscription","params":{"subscription":"` + r.Result + `","error":{"code":-32603,"message":"Internal error"}}}`
	if got := p.next(t); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
