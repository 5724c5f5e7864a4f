package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// subCred is a credential of subScheme: its expiry and revocation are the
// test's to set.
type subCred struct {
	subject string
	scopes  []string
	exp     time.Time // zero: never
	revoked atomic.Bool
}

func (c *subCred) HasScope(s string) bool {
	for _, x := range c.scopes {
		if x == s {
			return true
		}
	}
	return false
}
func (c *subCred) ExpiresAt() time.Time      { return c.exp }
func (c *subCred) CredentialSubject() string { return c.subject }

// subScheme reads a token from X-Sub-Token or in-band, and names the
// credentials the test made; it reports revocations when told to.
type subScheme struct {
	mu      sync.Mutex
	tokens  map[string]*subCred
	changes chan struct{}
}

func newSubScheme() *subScheme {
	return &subScheme{tokens: map[string]*subCred{}, changes: make(chan struct{}, 1)}
}

func (s *subScheme) add(token string, c *subCred) *subCred {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = c
	return c
}

func (s *subScheme) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "apiKey", In: "header", Name: "X-Sub-Token"}
}

func (s *subScheme) Authenticate(ctx context.Context, md rpc.Metadata) (rpc.Credential, error) {
	tok := md.Get("X-Sub-Token")
	if tok == "" {
		return nil, nil
	}
	return s.AuthenticateToken(ctx, tok)
}

func (s *subScheme) AuthenticateToken(ctx context.Context, tok string) (rpc.Credential, error) {
	s.mu.Lock()
	c, ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
	}
	return c, s.Revalidate(ctx, c)
}

func (s *subScheme) Revalidate(_ context.Context, cred rpc.Credential) error {
	c := cred.(*subCred)
	switch {
	case c.revoked.Load():
		return &rpc.AuthError{Reason: rpc.ReasonRevoked}
	case !c.exp.IsZero() && !time.Now().Before(c.exp):
		return &rpc.AuthError{Reason: rpc.ReasonExpired}
	}
	return nil
}

func (s *subScheme) WatchCredentials() (<-chan struct{}, func()) { return s.changes, func() {} }

func (s *subScheme) revoke(c *subCred) {
	c.revoked.Store(true)
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

// subKit serves subscriptions over HTTP and WebSocket.
type subKit struct {
	scheme  *subScheme
	srv     *rpc.Server
	handler *transport.Handler
	http    *httptest.Server
	wsURL   string
	poke    chan string // values for the "echo" producer
	ended   chan error  // each producer's last Send error, or nil
	flooded chan error  // the "flood" producer's Send error
}

func newSubKit(t *testing.T, rpcOpts []rpc.Option, opts ...transport.Option) *subKit {
	t.Helper()
	k := &subKit{
		scheme:  newSubScheme(),
		poke:    make(chan string),
		ended:   make(chan error, 2048),
		flooded: make(chan error, 16),
	}
	srv := rpc.NewServer(append([]rpc.Option{rpc.WithScheme("tok", k.scheme), rpc.ProvideSession()}, rpcOpts...)...)
	if err := rpc.RegisterAuthenticate(srv); err != nil {
		t.Fatal(err)
	}
	tok := rpc.Security(rpc.Require("tok"))
	srv.MustRegisterSubscription("counter", func(ctx context.Context, sub *rpc.Subscription[int], p struct {
		N int `json:"n"`
	}) error {
		for i := 0; i < p.N; i++ {
			if err := sub.Send(i); err != nil {
				k.ended <- err
				return nil
			}
		}
		<-ctx.Done()
		k.ended <- nil
		return nil
	}, tok)
	srv.MustRegisterSubscription("echo", func(ctx context.Context, sub *rpc.Subscription[string]) error {
		for {
			select {
			case v := <-k.poke:
				if err := sub.Send(v); err != nil {
					k.ended <- err
					return nil
				}
			case <-ctx.Done():
				k.ended <- nil
				return nil
			}
		}
	}, tok)
	srv.MustRegisterSubscription("admin", func(ctx context.Context, sub *rpc.Subscription[string]) error {
		_ = sub.Send("hello")
		<-ctx.Done()
		k.ended <- nil
		return nil
	}, rpc.Security(rpc.Require("tok", "admin")))
	big := strings.Repeat("x", 4096)
	srv.MustRegisterSubscription("flood", func(ctx context.Context, sub *rpc.Subscription[string]) error {
		for {
			if err := sub.Send(big); err != nil {
				k.flooded <- err
				return nil
			}
		}
	}, tok)
	srv.MustRegisterSubscription("fails", func(ctx context.Context, sub *rpc.Subscription[int]) error {
		return rpc.NewError(4711, "the feed broke", nil)
	})
	srv.MustRegister("sign_out", func(sess *rpc.Session) bool {
		sess.Clear()
		return true
	})
	k.srv = srv
	k.handler = transport.NewHandler(srv, opts...)
	k.http = httptest.NewServer(k.handler)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = k.handler.Shutdown(ctx)
		k.http.Close()
	})
	k.wsURL = "ws" + strings.TrimPrefix(k.http.URL, "http")
	return k
}

func (k *subKit) dial(t *testing.T, token string, opts ...transport.ClientOption) *transport.Client {
	t.Helper()
	if token != "" {
		opts = append(opts, transport.WithHeader("X-Sub-Token", token))
	}
	c, err := transport.Dial(testCtx(t), k.wsURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitEnded waits for one producer to return.
func (k *subKit) waitEnded(ctx context.Context, t *testing.T) error {
	t.Helper()
	select {
	case err := <-k.ended:
		return err
	case <-ctx.Done():
		t.Fatal("the producer did not return")
		return nil
	}
}

// finalError waits for sub's values to run out and returns its error.
func finalError(ctx context.Context, t *testing.T, sub *transport.ClientSubscription) error {
	t.Helper()
	for {
		err := sub.Next(ctx, nil)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			t.Fatalf("the subscription did not end: %v", err)
		}
		return err
	}
}

func wantRPCError(t *testing.T, err error, code int, reason string) {
	t.Helper()
	gotCode, gotReason := rpcCode(t, err)
	if gotCode != code || gotReason != reason {
		t.Fatalf("got %d %q (%v), want %d %q", gotCode, gotReason, err, code, reason)
	}
}

func TestSubscriptionValuesThenUnsubscribe(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice"})
	c := k.dial(t, "alice")
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "counter", map[string]int{"n": 3})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sub.ID(), "0x") {
		t.Errorf("id %q: want an opaque 0x… string, as go-ethereum's", sub.ID())
	}
	for want := 0; want < 3; want++ {
		var got int
		if err := sub.Next(ctx, &got); err != nil || got != want {
			t.Fatalf("value %d: got %d, %v", want, got, err)
		}
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sub.Next(ctx, nil); !errors.Is(err, transport.ErrUnsubscribed) {
		t.Fatalf("after Unsubscribe: %v", err)
	}
	if err := k.waitEnded(ctx, t); err != nil {
		t.Fatalf("the producer saw %v; want its context done", err)
	}
	// A second unsubscribe of the same id is an error on the server.
	var ok bool
	err = c.Call(ctx, "counter_unsubscribe", []string{sub.ID()}, &ok)
	if code, _ := rpcCode(t, err); code != rpc.CodeInvalidParams {
		t.Fatalf("unsubscribing twice: %v", err)
	}
}

// TestSubscriptionWireFormat pins go-ethereum's wire format with a raw
// client: the id comes back before any value, values arrive as
// NS_subscription notifications, and NS_unsubscribe [id] answers true.
func TestSubscriptionWireFormat(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice"})
	ws, _, err := websocket.DefaultDialer.Dial(k.wsURL, http.Header{"X-Sub-Token": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"counter_subscribe","params":[2]}`))
	var resp struct {
		ID     int    `json:"id"`
		Result string `json:"result"`
	}
	if err := ws.ReadJSON(&resp); err != nil || resp.ID != 1 || resp.Result == "" {
		t.Fatalf("subscribe: %+v, %v", resp, err)
	}
	for want := 0; want < 2; want++ {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		wantMsg := fmt.Sprintf(`{"jsonrpc":"2.0","method":"counter_subscription","params":{"subscription":%q,"result":%d}}`, resp.Result, want)
		if string(msg) != wantMsg {
			t.Fatalf("got  %s\nwant %s", msg, wantMsg)
		}
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"counter_unsubscribe","params":[%q]}`, resp.Result)))
	_, msg, err := ws.ReadMessage()
	if err != nil || string(msg) != `{"jsonrpc":"2.0","result":true,"id":2}` {
		t.Fatalf("unsubscribe: %s, %v", msg, err)
	}
}

func TestSubscriptionOverHTTP(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice"})
	ctx := testCtx(t)
	c, err := transport.Dial(ctx, k.http.URL, transport.WithHeader("X-Sub-Token", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	err = c.Call(ctx, "counter_subscribe", []int{1}, &id)
	if code, _ := rpcCode(t, err); code != rpc.CodeInvalidRequest {
		t.Fatalf("subscribing over HTTP: %v; want -32600", err)
	}
	if _, err := c.Subscribe(ctx, "counter", nil); err == nil {
		t.Fatal("Client.Subscribe over HTTP succeeded")
	}
	// The requirement comes first, as for every method.
	anon, _ := transport.Dial(ctx, k.http.URL)
	err = anon.Call(ctx, "counter_subscribe", []int{1}, &id)
	wantRPCError(t, err, rpc.CodeUnauthorized, rpc.ReasonMissing)
}

func TestSubscriptionEndsWhenCredentialExpires(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("brief", &subCred{subject: "bob", exp: time.Now().Add(200 * time.Millisecond)})
	c := k.dial(t, "brief")
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "echo", nil)
	if err != nil {
		t.Skipf("the token expired before the subscription opened: %v", err)
	}
	// No call is made: the timer armed at the credential's expiry ends it.
	wantRPCError(t, finalError(ctx, t, sub), rpc.CodeUnauthorized, rpc.ReasonExpired)
	if err := k.waitEnded(ctx, t); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionEndsWhenCredentialRevoked(t *testing.T) {
	k := newSubKit(t, nil)
	cred := k.scheme.add("alice", &subCred{subject: "alice"})
	k.scheme.add("carol", &subCred{subject: "carol"})
	c := k.dial(t, "alice")
	other := k.dial(t, "carol")
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := other.Subscribe(ctx, "counter", []int{1})
	if err != nil {
		t.Fatal(err)
	}
	k.scheme.revoke(cred)
	wantRPCError(t, finalError(ctx, t, sub), rpc.CodeUnauthorized, rpc.ReasonRevoked)
	// Carol's subscription is not alice's business.
	var v int
	if err := kept.Next(ctx, &v); err != nil || kept.Err() != nil {
		t.Fatalf("another subject's subscription: %v, %v", err, kept.Err())
	}
}

func TestSubscriptionEndsOnSignOut(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice"})
	c := k.dial(t, "alice")
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "sign_out", nil, nil); err != nil {
		t.Fatal(err)
	}
	wantRPCError(t, finalError(ctx, t, sub), rpc.CodeUnauthorized, rpc.ReasonMissing)
	if err := k.waitEnded(ctx, t); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionFollowsReauthentication(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice", scopes: []string{"admin"}})
	k.scheme.add("alice-refreshed", &subCred{subject: "alice", scopes: []string{"admin"}})
	k.scheme.add("alice-plain", &subCred{subject: "alice"})
	k.scheme.add("bob", &subCred{subject: "bob"})
	c := k.dial(t, "alice")
	ctx := testCtx(t)
	echo, err := c.Subscribe(ctx, "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := c.Subscribe(ctx, "admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := admin.Next(ctx, &got); err != nil || got != "hello" {
		t.Fatalf("admin: %q, %v", got, err)
	}

	// A refreshed token of the same subject keeps both going.
	if err := c.Authenticate(ctx, "alice-refreshed"); err != nil {
		t.Fatal(err)
	}
	k.poke <- "still here"
	if err := echo.Next(ctx, &got); err != nil || got != "still here" {
		t.Fatalf("after a refresh: %q, %v", got, err)
	}

	// The same subject without the scope: the admin subscription ends
	// with -32003, the other goes on.
	if err := c.Authenticate(ctx, "alice-plain"); err != nil {
		t.Fatal(err)
	}
	if err := finalError(ctx, t, admin); err == nil {
		t.Fatal("no error")
	} else if code, _ := rpcCode(t, err); code != rpc.CodeForbidden {
		t.Fatalf("scope lost: %v; want -32003", err)
	}
	k.poke <- "and here"
	if err := echo.Next(ctx, &got); err != nil || got != "and here" {
		t.Fatalf("after losing a scope: %q, %v", got, err)
	}

	// Someone else: the subscription was alice's, and ends.
	if err := c.Authenticate(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	wantRPCError(t, finalError(ctx, t, echo), rpc.CodeUnauthorized, rpc.ReasonRevoked)
}

func TestSubscriptionProducerError(t *testing.T) {
	k := newSubKit(t, nil)
	c := k.dial(t, "")
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "fails", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = finalError(ctx, t, sub)
	if code, _ := rpcCode(t, err); code != 4711 {
		t.Fatalf("got %v, want the producer's error", err)
	}
}

func TestSubscriptionCap(t *testing.T) {
	k := newSubKit(t, []rpc.Option{rpc.WithSubscriptionLimit(3)})
	k.scheme.add("alice", &subCred{subject: "alice"})
	c := k.dial(t, "alice")
	ctx := testCtx(t)
	var subs []*transport.ClientSubscription
	for i := 0; i < 3; i++ {
		sub, err := c.Subscribe(ctx, "counter", []int{0})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	_, err := c.Subscribe(ctx, "counter", []int{0})
	var e *rpc.Error
	if !errors.As(err, &e) || e.Code != rpc.CodeLimitExceeded {
		t.Fatalf("past the cap: %v", err)
	}
	var data rpc.CapData
	_ = json.Unmarshal(e.Data.(json.RawMessage), &data)
	if data != (rpc.CapData{Limit: rpc.LimitSubscriptions, Max: 3}) {
		t.Fatalf("data %+v", data)
	}
	// Another connection has a cap of its own.
	if _, err := k.dial(t, "alice").Subscribe(ctx, "counter", []int{0}); err != nil {
		t.Fatal(err)
	}
	if err := subs[0].Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "counter", []int{0}); err != nil {
		t.Fatalf("after an unsubscribe: %v", err)
	}
}

// TestSubscriptionSlowConsumer stops reading while a producer floods: the
// flooding subscription ends with -32005 once its buffer is full, its
// producer learns so from Send, and the connection and its other
// subscription go on.
func TestSubscriptionSlowConsumer(t *testing.T) {
	k := newSubKit(t, []rpc.Option{rpc.WithSubscriptionBuffer(16)}, transport.WithWriteTimeout(0))
	k.scheme.add("alice", &subCred{subject: "alice"})
	ws, _, err := websocket.DefaultDialer.Dial(k.wsURL, http.Header{"X-Sub-Token": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ctx := testCtx(t)
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"echo_subscribe"}`))
	var resp struct {
		ID     int    `json:"id"`
		Result string `json:"result"`
	}
	if err := ws.ReadJSON(&resp); err != nil {
		t.Fatal(err)
	}
	echoID := resp.Result
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":2,"method":"flood_subscribe"}`))

	// Read nothing until the flood's producer has been told to stop.
	select {
	case err := <-k.flooded:
		if !errors.Is(err, rpc.ErrSubscriptionEnded) {
			t.Fatalf("the flood's Send: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the flood never ended")
	}

	type note struct {
		ID     *int   `json:"id"`
		Result any    `json:"result"`
		Method string `json:"method"`
		Params struct {
			Subscription string          `json:"subscription"`
			Result       json.RawMessage `json:"result"`
			Error        *rpc.Error      `json:"error"`
		} `json:"params"`
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var floodID string
	for final := false; !final; {
		var n note
		if err := ws.ReadJSON(&n); err != nil {
			t.Fatal(err)
		}
		switch {
		case n.ID != nil && *n.ID == 2:
			floodID = n.Result.(string)
		case n.Method == "flood_subscription" && n.Params.Error != nil:
			if n.Params.Subscription != floodID {
				t.Fatalf("final notification for %q, want %q", n.Params.Subscription, floodID)
			}
			if n.Params.Error.Code != rpc.CodeLimitExceeded {
				t.Fatalf("final error %+v", n.Params.Error)
			}
			data, _ := json.Marshal(n.Params.Error.Data)
			if string(data) != `{"limit":"subscription_buffer","max":16}` {
				t.Fatalf("final error data %s", data)
			}
			final = true
		case n.Method == "flood_subscription":
		default:
			t.Fatalf("unexpected message %+v", n)
		}
	}
	// The other subscription, and the connection, are unaffected.
	go func() { k.poke <- "after the flood" }()
	var n note
	if err := ws.ReadJSON(&n); err != nil {
		t.Fatal(err)
	}
	if n.Method != "echo_subscription" || n.Params.Subscription != echoID || string(n.Params.Result) != `"after the flood"` {
		t.Fatalf("got %+v", n)
	}
}

func TestSubscriptionShutdownClosesWith1001(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice"})
	c := k.dial(t, "alice")
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.handler.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if !websocket.IsCloseError(c.Err(), websocket.CloseGoingAway) {
		t.Fatalf("closed with %v, want 1001", c.Err())
	}
	if err := finalError(ctx, t, sub); !websocket.IsCloseError(errors.Unwrap(err), websocket.CloseGoingAway) {
		t.Fatalf("the subscription's error: %v", err)
	}
	if err := k.waitEnded(ctx, t); err != nil {
		t.Fatal(err)
	}
}

// TestSubscriptionsNoGoroutineLeaks opens 1,000 subscriptions on 100
// connections and closes everything: no goroutine of a connection, a
// subscription, its producer or the revocation watch may be left.
func TestSubscriptionsNoGoroutineLeaks(t *testing.T) {
	k := newSubKit(t, nil)
	k.scheme.add("alice", &subCred{subject: "alice", exp: time.Now().Add(time.Hour)})
	ctx := testCtx(t)
	baseline := goleak.IgnoreCurrent()
	var clients []*transport.Client
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		c, err := transport.Dial(ctx, k.wsURL, transport.WithHeader("X-Sub-Token", "alice"))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				sub, err := c.Subscribe(ctx, "counter", []int{1})
				if err == nil {
					err = sub.Next(ctx, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.Close()
	}
	for i := 0; i < 1000; i++ {
		if err := k.waitEnded(ctx, t); err != nil {
			t.Fatal(err)
		}
	}
	goleak.VerifyNone(t, baseline)
}

// Handler.Stats and Server.Subscriptions count what is open now, and go
// back to zero when clients leave, however they leave.
func TestStatsCountConnectionsAndSubscriptions(t *testing.T) {
	k := newSubKit(t, nil)
	alice := k.scheme.add("alice", &subCred{subject: "alice"})
	ctx := testCtx(t)
	if st := k.handler.Stats(); st.WebSockets != 0 || k.srv.Subscriptions() != 0 {
		t.Fatalf("before any client: %+v, %d subscriptions", st, k.srv.Subscriptions())
	}
	c1, c2 := k.dial(t, "alice"), k.dial(t, "alice")
	for _, c := range []*transport.Client{c1, c1, c2} {
		if _, err := c.Subscribe(ctx, "echo", nil); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "2 connections and 3 subscriptions", func() bool {
		return k.handler.Stats().WebSockets == 2 && k.srv.Subscriptions() == 3
	})
	c1.Close()
	poll(t, "1 connection and 1 subscription", func() bool {
		return k.handler.Stats().WebSockets == 1 && k.srv.Subscriptions() == 1
	})
	k.scheme.revoke(alice)
	poll(t, "the revoked subscription to end", func() bool { return k.srv.Subscriptions() == 0 })
	c2.Close()
	poll(t, "no connection", func() bool { return k.handler.Stats().WebSockets == 0 })
}
