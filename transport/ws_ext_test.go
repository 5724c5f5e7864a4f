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

// fakeScheme is a bearer scheme over a table of tokens, so that these tests
// can expire and revoke credentials at will without JWT.
type fakeScheme struct {
	skew    atomic.Int64 // nanoseconds added to the clock
	mu      sync.Mutex
	tokens  map[string]*fakeCred
	revoked map[string]bool
}

type fakeCred struct {
	token  string
	sub    string
	scopes []string
	exp    time.Time
}

func (c *fakeCred) HasScope(s string) bool {
	for _, x := range c.scopes {
		if x == s {
			return true
		}
	}
	return false
}

func newFakeScheme() *fakeScheme {
	return &fakeScheme{tokens: map[string]*fakeCred{}, revoked: map[string]bool{}}
}

func (f *fakeScheme) issue(sub string, ttl time.Duration, scopes ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := fmt.Sprintf("tok-%s-%d", sub, len(f.tokens))
	f.tokens[tok] = &fakeCred{token: tok, sub: sub, scopes: scopes, exp: f.now().Add(ttl)}
	return tok
}

func (f *fakeScheme) now() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }

// advance moves the scheme's clock forward.
func (f *fakeScheme) advance(d time.Duration) { f.skew.Add(int64(d)) }

func (f *fakeScheme) revoke(tok string) {
	f.mu.Lock()
	f.revoked[tok] = true
	f.mu.Unlock()
}

func (f *fakeScheme) Authenticate(ctx context.Context, md rpc.Metadata) (rpc.Credential, error) {
	h := md.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
	}
	f.mu.Lock()
	c := f.tokens[tok]
	f.mu.Unlock()
	if c == nil {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
	}
	return c, f.Revalidate(ctx, c)
}

// AuthenticateToken makes the scheme an rpc.TokenScheme, so that a token
// can be presented in-band.
func (f *fakeScheme) AuthenticateToken(ctx context.Context, tok string) (rpc.Credential, error) {
	f.mu.Lock()
	c := f.tokens[tok]
	f.mu.Unlock()
	if c == nil {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
	}
	return c, f.Revalidate(ctx, c)
}

func (f *fakeScheme) Revalidate(ctx context.Context, cred rpc.Credential) error {
	c := cred.(*fakeCred)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked[c.token] {
		return &rpc.AuthError{Reason: rpc.ReasonRevoked}
	}
	if f.now().After(c.exp) {
		return &rpc.AuthError{Reason: rpc.ReasonExpired}
	}
	return nil
}

func (f *fakeScheme) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "http", Scheme: "bearer", BearerFormat: "opaque"}
}

type wsFixture struct {
	scheme  *fakeScheme
	srv     *rpc.Server
	handler *transport.Handler
	http    *httptest.Server
	wsURL   string
	release chan struct{} // closes to let "block" calls return
	started chan struct{} // receives when a "block" call starts
}

func newWSFixture(t *testing.T, opts ...transport.Option) *wsFixture {
	t.Helper()
	f := &wsFixture{scheme: newFakeScheme(), release: make(chan struct{}), started: make(chan struct{}, 64)}
	f.srv = rpc.NewServer(rpc.WithScheme("bearer", f.scheme), rpc.ProvideSession())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.srv.Register("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend")))
	must(f.srv.Register("whoami", func(ctx context.Context) (string, error) {
		return rpc.CredentialsFrom(ctx).Get(ctx, "bearer").(*fakeCred).sub, nil
	}, rpc.Security(rpc.Require("bearer"))))
	must(f.srv.Register("admin_only", func() string { return "ok" }, rpc.Security(rpc.Require("bearer", "admin"))))
	must(f.srv.Register("sign_in", func(ctx context.Context, sess *rpc.Session, user string) (string, error) {
		tok := f.scheme.issue(user, time.Hour)
		if sess != nil {
			if err := sess.Authenticate(ctx, "bearer", tok); err != nil {
				return "", err
			}
		}
		return tok, nil
	}, rpc.Params("user")))
	must(f.srv.Register("sign_out", func(sess *rpc.Session) error {
		if sess != nil {
			sess.Clear()
		}
		return nil
	}, rpc.Security(rpc.Require("bearer"))))
	must(f.srv.Register("block", func(ctx context.Context) (string, error) {
		f.started <- struct{}{}
		select {
		case <-f.release:
			return "released", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	must(f.srv.Register("big", func(n int) string { return strings.Repeat("x", n) }, rpc.Params("n")))
	must(f.srv.Register("echo_notify", func(ctx context.Context, sess *rpc.Session, text string) error {
		return sess.Notify(ctx, "echoed", []string{text})
	}, rpc.Params("text")))
	must(rpc.RegisterAuthenticate(f.srv))
	f.handler = transport.NewHandler(f.srv, opts...)
	f.http = httptest.NewServer(f.handler)
	f.wsURL = "ws" + strings.TrimPrefix(f.http.URL, "http")
	t.Cleanup(func() {
		shutdown(t, f.handler)
		f.http.Close()
	})
	return f
}

func (f *wsFixture) dial(t *testing.T, opts ...transport.ClientOption) *transport.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, f.wsURL, opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rpcCode returns err's JSON-RPC code and data.reason, or fails.
func rpcCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var e *rpc.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a JSON-RPC error, got %v", err)
	}
	var data struct {
		Reason string `json:"reason"`
	}
	// Data that is not an object (a string, say) carries no reason.
	if raw, ok := e.Data.(json.RawMessage); ok && len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatalf("error data %s: %v", raw, err)
		}
	}
	return e.Code, data.Reason
}

func TestWSPipelinedCalls(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				a, b := float64(g*1000+i), float64(i)
				var got float64
				if err := c.Call(ctx, "subtract", []float64{a, b}, &got); err != nil {
					errs <- err
					return
				}
				if got != a-b {
					errs <- fmt.Errorf("subtract(%v, %v) = %v: a response went to the wrong call", a, b, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWSBatch(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t)
	var r1, r2 float64
	calls := []*transport.BatchCall{
		{Method: "subtract", Params: []int{10, 3}, Result: &r1},
		{Method: "subtract", Params: map[string]int{"minuend": 1, "subtrahend": 5}, Result: &r2},
		{Method: "nope"},
		{Method: "subtract", Params: []int{1, 1}, Notification: true},
	}
	if err := c.Batch(testCtx(t), calls); err != nil {
		t.Fatal(err)
	}
	if r1 != 7 || r2 != -4 || calls[0].Error != nil || calls[1].Error != nil {
		t.Fatalf("results %v %v, errors %v %v", r1, r2, calls[0].Error, calls[1].Error)
	}
	if code, _ := rpcCode(t, calls[2].Error); code != rpc.CodeMethodNotFound {
		t.Fatalf("unknown method in batch: code %d", code)
	}
}

func TestWSHandshakeAuth(t *testing.T) {
	f := newWSFixture(t)
	ctx := testCtx(t)

	_, err := transport.Dial(ctx, f.wsURL, transport.WithBearer("forged"))
	var he *transport.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("bad token: want 401 before the upgrade, got %v", err)
	}
	if !strings.Contains(he.Body, "invalid") {
		t.Errorf("401 body %q does not give the reason", he.Body)
	}

	expired := f.scheme.issue("old", -time.Minute)
	_, err = transport.Dial(ctx, f.wsURL, transport.WithBearer(expired))
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !strings.Contains(he.Body, "expired") {
		t.Fatalf("expired token: want 401 expired, got %v", err)
	}

	good := f.scheme.issue("alice", time.Hour)
	c := f.dial(t, transport.WithBearer(good))
	var who string
	if err := c.Call(ctx, "whoami", nil, &who); err != nil || who != "alice" {
		t.Fatalf("whoami with handshake token = %q, %v", who, err)
	}

	anon := f.dial(t)
	err = anon.Call(ctx, "whoami", nil, nil)
	if code, reason := rpcCode(t, err); code != rpc.CodeUnauthorized || reason != rpc.ReasonMissing {
		t.Fatalf("anonymous protected call: %d %q", code, reason)
	}
}

func TestWSOrigin(t *testing.T) {
	f := newWSFixture(t, transport.WithAllowedOrigins("https://app.example.com"))
	ctx := testCtx(t)
	for _, tc := range []struct {
		origin string
		want   int // 0: upgraded
	}{
		{"", 0},
		{f.http.URL, 0}, // same host
		{"https://app.example.com", 0},
		{"https://evil.example.com", http.StatusForbidden},
		{"null", http.StatusForbidden},
	} {
		var opts []transport.ClientOption
		if tc.origin != "" {
			opts = append(opts, transport.WithHeader("Origin", tc.origin))
		}
		c, err := transport.Dial(ctx, f.wsURL, opts...)
		if tc.want == 0 {
			if err != nil {
				t.Errorf("origin %q: %v", tc.origin, err)
				continue
			}
			c.Close()
			continue
		}
		var he *transport.HandshakeError
		if !errors.As(err, &he) || he.Status != tc.want {
			t.Errorf("origin %q: want %d, got %v", tc.origin, tc.want, err)
		}
	}
}

func TestWSSignInOnOpenConnection(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t)
	ctx := testCtx(t)
	if code, _ := rpcCode(t, c.Call(ctx, "whoami", nil, nil)); code != rpc.CodeUnauthorized {
		t.Fatalf("before sign-in: %d", code)
	}
	if err := c.Call(ctx, "sign_in", []string{"bob"}, nil); err != nil {
		t.Fatal(err)
	}
	var who string
	if err := c.Call(ctx, "whoami", nil, &who); err != nil || who != "bob" {
		t.Fatalf("after sign-in: %q %v", who, err)
	}
	if code, _ := rpcCode(t, c.Call(ctx, "admin_only", nil, nil)); code != rpc.CodeForbidden {
		t.Fatalf("missing scope: %d", code)
	}
	if err := c.Call(ctx, "sign_out", nil, nil); err != nil {
		t.Fatal(err)
	}
	if code, reason := rpcCode(t, c.Call(ctx, "whoami", nil, nil)); code != rpc.CodeUnauthorized || reason != rpc.ReasonMissing {
		t.Fatalf("after sign-out: %d %q", code, reason)
	}

	// The same over HTTP: sign_in gets a nil session and only returns a token.
	hc, _ := transport.Dial(ctx, f.http.URL)
	var tok string
	if err := hc.Call(ctx, "sign_in", map[string]string{"user": "carol"}, &tok); err != nil || tok == "" {
		t.Fatalf("sign_in over HTTP: %q %v", tok, err)
	}
	if code, _ := rpcCode(t, hc.Call(ctx, rpc.AuthenticateMethod, map[string]string{"token": tok}, nil)); code != rpc.CodeInvalidRequest {
		t.Fatalf("rpc.authenticate over HTTP: %d", code)
	}
}

func TestWSExpiryThenReauthenticate(t *testing.T) {
	f := newWSFixture(t)
	ctx := testCtx(t)
	short := f.scheme.issue("dave", time.Minute)
	c := f.dial(t, transport.WithBearer(short))
	var who string
	if err := c.Call(ctx, "whoami", nil, &who); err != nil || who != "dave" {
		t.Fatalf("before expiry: %q %v", who, err)
	}
	f.scheme.advance(2 * time.Minute)
	code, reason := rpcCode(t, c.Call(ctx, "whoami", nil, nil))
	if code != rpc.CodeUnauthorized || reason != rpc.ReasonExpired {
		t.Fatalf("after expiry: want -32001 expired, got %d %q", code, reason)
	}
	// The connection stays open and public calls still work.
	var diff float64
	if err := c.Call(ctx, "subtract", []int{3, 1}, &diff); err != nil || diff != 2 {
		t.Fatalf("public call after expiry: %v %v", diff, err)
	}
	// A bad token in-band changes nothing.
	if code, _ := rpcCode(t, c.Authenticate(ctx, "forged")); code != rpc.CodeUnauthorized {
		t.Fatalf("forged in-band token: %d", code)
	}
	if err := c.Authenticate(ctx, f.scheme.issue("dave", time.Hour)); err != nil {
		t.Fatalf("in-band re-authentication: %v", err)
	}
	if err := c.Call(ctx, "whoami", nil, &who); err != nil || who != "dave" {
		t.Fatalf("after re-authentication: %q %v", who, err)
	}
}

func TestWSRevocationTakesEffectOnNextCall(t *testing.T) {
	f := newWSFixture(t)
	ctx := testCtx(t)
	tok := f.scheme.issue("erin", time.Hour)
	c := f.dial(t, transport.WithBearer(tok))
	if err := c.Call(ctx, "whoami", nil, nil); err != nil {
		t.Fatal(err)
	}
	f.scheme.revoke(tok)
	code, reason := rpcCode(t, c.Call(ctx, "whoami", nil, nil))
	if code != rpc.CodeUnauthorized || reason != rpc.ReasonRevoked {
		t.Fatalf("after revocation: want -32001 revoked, got %d %q", code, reason)
	}
}

func TestWSOversizedMessageCloses1009(t *testing.T) {
	f := newWSFixture(t, transport.WithMaxMessageBytes(1024))
	c := f.dial(t)
	ctx := testCtx(t)
	err := c.Call(ctx, "subtract", []string{strings.Repeat("9", 2048), "1"}, nil)
	if err == nil {
		t.Fatal("oversized message was answered")
	}
	<-c.Done()
	var ce *websocket.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("want close 1009, got %v", c.Err())
	}
	if n := f.handler.Stats().Limits.MessageTooLarge; n != 1 {
		t.Errorf("Stats().Limits.MessageTooLarge = %d, want 1", n)
	}
}

func TestWSBinaryFrameRejected(t *testing.T) {
	f := newWSFixture(t)
	ws, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte(`{"jsonrpc":"2.0","method":"subtract","params":[1,2],"id":1}`)); err != nil {
		t.Fatal(err)
	}
	setReadDeadline(t, ws, 5*time.Second)
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseUnsupportedData {
		t.Fatalf("binary frame: want close 1003, got %v", err)
	}
}

func TestWSClosesClientThatNeverPongs(t *testing.T) {
	f := newWSFixture(t, transport.WithPing(100*time.Millisecond, time.Second))
	ws, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	pings := 0
	ws.SetPingHandler(func(string) error { pings++; return nil }) // never answers
	setReadDeadline(t, ws, 5*time.Second)
	start := time.Now()
	for {
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept a silent client for %v", time.Since(start))
	}
	if pings == 0 {
		t.Fatal("server sent no ping")
	}
	if n := f.handler.Stats().Limits.PongTimeout; n != 1 {
		t.Errorf("Stats().Limits.PongTimeout = %d, want 1", n)
	}

	// A client that answers pings stays.
	c := f.dial(t)
	time.Sleep(2500 * time.Millisecond)
	if err := c.Call(testCtx(t), "subtract", []int{2, 1}, nil); err != nil {
		t.Fatalf("a client answering pings was closed: %v", err)
	}
}

func TestWSServerNotification(t *testing.T) {
	f := newWSFixture(t)
	got := make(chan string, 1)
	c := f.dial(t, transport.WithNotificationHandler(func(method string, params json.RawMessage) {
		got <- method + string(params)
	}))
	if err := c.Call(testCtx(t), "echo_notify", []string{"hi"}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != `echoed["hi"]` {
			t.Fatalf("notification %s", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
}

func TestWSConnectionCap(t *testing.T) {
	f := newWSFixture(t, transport.WithMaxConnections(2))
	f.dial(t)
	f.dial(t)
	_, err := transport.Dial(testCtx(t), f.wsURL)
	var he *transport.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable {
		t.Fatalf("third connection: want 503, got %v", err)
	}
	if st := f.handler.Stats(); st.Limits.ConnectionsRefused != 1 || st.WebSockets != 2 {
		t.Errorf("Stats() = %+v, want 1 connection refused and 2 open", st)
	}
}

func TestWSConcurrencyCapPausesReading(t *testing.T) {
	f := newWSFixture(t, transport.WithConnectionConcurrency(2))
	c := f.dial(t)
	ctx := testCtx(t)
	var done atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Call(ctx, "block", nil, nil); err == nil {
				done.Add(1)
			}
		}()
	}
	<-f.started
	<-f.started
	select {
	case <-f.started:
		t.Fatal("a third call started past the per-connection cap of 2")
	case <-time.After(200 * time.Millisecond):
	}
	close(f.release)
	wg.Wait()
	if done.Load() != 4 {
		t.Fatalf("%d of 4 calls finished", done.Load())
	}
}

func TestWSStalledReaderDoesNotBlockOthers(t *testing.T) {
	f := newWSFixture(t, transport.WithWriteTimeout(200*time.Millisecond))
	stalled, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	// Ask for far more than socket buffers hold, and never read.
	for i := 0; i < 64; i++ {
		msg := fmt.Sprintf(`{"jsonrpc":"2.0","method":"big","params":[262144],"id":%d}`, i)
		if err := stalled.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			break // the server has already given up on us
		}
	}
	c := f.dial(t)
	ctx := testCtx(t)
	for i := 0; i < 20; i++ {
		if err := c.Call(ctx, "subtract", []int{i, 1}, nil); err != nil {
			t.Fatalf("another connection was blocked: %v", err)
		}
	}
	// Stay stalled well past the write timeout; then the connection must
	// turn out closed: draining it ends in an error, not a full read.
	time.Sleep(time.Second)
	setReadDeadline(t, stalled, 10*time.Second)
	read := 0
	for {
		if _, _, err = stalled.ReadMessage(); err != nil {
			break
		}
		read++
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() || read == 64 {
		t.Fatalf("the stalled connection was never closed: read %d of 64 responses, then %v", read, err)
	}
	if n := f.handler.Stats().Limits.WriteTimeout; n != 1 {
		t.Errorf("Stats().Limits.WriteTimeout = %d, want 1 (the stalled connection)", n)
	}
}

func TestWSShutdownWithCallsInFlight(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t)
	ctx := testCtx(t)
	result := make(chan error, 1)
	go func() {
		var s string
		err := c.Call(ctx, "block", nil, &s)
		if err == nil && s != "released" {
			err = fmt.Errorf("result %q", s)
		}
		result <- err
	}()
	<-f.started
	shut := make(chan error, 1)
	go func() { shut <- f.handler.Shutdown(ctx) }()

	// New connections are refused once Shutdown has begun: dial until
	// one is, closing any that got in first.
	poll(t, "a dial during shutdown to be refused with 503", func() bool {
		c, err := transport.Dial(ctx, f.wsURL)
		if err == nil {
			c.Close()
			return false
		}
		var he *transport.HandshakeError
		if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable {
			t.Fatalf("dial during shutdown: want 503, got %v", err)
		}
		return true
	})
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) before the call in flight finished", err)
	default:
	}
	close(f.release)
	if err := <-result; err != nil {
		t.Fatalf("call in flight: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	<-c.Done()
	var ce *websocket.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("want close 1001, got %v", c.Err())
	}
}

func TestWSShutdownDeadlineCancelsCalls(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t)
	ctx := testCtx(t)
	result := make(chan error, 1)
	go func() { result <- c.Call(ctx, "block", nil, nil) }()
	<-f.started
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := f.handler.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown past its deadline: %v", err)
	}
	if err := <-result; err == nil {
		t.Fatal("a call cut off by shutdown reported success")
	}
}

func TestWSNoGoroutineLeaks(t *testing.T) {
	f := newWSFixture(t)
	ctx := testCtx(t)
	// The server's own goroutines exist now; everything a connection starts
	// must be gone once its client leaves, without help from Shutdown.
	baseline := goleak.IgnoreCurrent()
	var clients []*transport.Client
	for i := 0; i < 10; i++ {
		c, err := transport.Dial(ctx, f.wsURL, transport.WithBearer(f.scheme.issue("u", time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		if err := c.Call(ctx, "whoami", nil, nil); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		if err := c.Call(cctx, "block", nil, nil); err == nil { // left running on the server
			t.Fatal("block returned: it was to be left running")
		}
		cancel()
	}
	for _, c := range clients {
		c.Close()
	}
	f.http.Client().CloseIdleConnections()
	goleak.VerifyNone(t, baseline)

	if err := f.handler.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	f.http.Close()
	goleak.VerifyNone(t, baseline)
}

// Regression: a client that closed just before Shutdown left its
// connection waiting on calls that could never answer, until the next ping
// failed 30 s later.
func TestWSShutdownRightAfterClientCloses(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	if err := c.Call(ctx, "block", nil, nil); err == nil {
		t.Fatal("block returned: it was to be left running")
	}
	cancel()
	c.Close()
	sctx, scancel := context.WithTimeout(testCtx(t), 5*time.Second)
	defer scancel()
	if err := f.handler.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown after the client left: %v", err)
	}
}

// Regression: Bind changed the bound credentials in place while concurrent
// calls on the same connection read them after unlocking: a data race
// between sign_in (or rpc.authenticate) and any protected call.
func TestWSBindRacesWithCalls(t *testing.T) {
	f := newWSFixture(t)
	c := f.dial(t, transport.WithBearer(f.scheme.issue("racer", time.Hour)))
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := c.Call(ctx, "sign_in", []string{"racer"}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				var who string
				if err := c.Call(ctx, "whoami", nil, &who); err != nil || who != "racer" {
					t.Errorf("whoami = %q, %v", who, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Regression: WithPing(0, …) reset the ping timer to zero, so the server
// pinged in a tight loop; and a zero pong wait set a read deadline of now.
// Zero turns each off: no pings, and an idle client is not dropped.
func TestWSPingOff(t *testing.T) {
	f := newWSFixture(t, transport.WithPing(0, 0))
	ws, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var pings atomic.Int32
	ws.SetPingHandler(func(string) error { pings.Add(1); return nil })
	setReadDeadline(t, ws, 300*time.Millisecond)
	_, _, err = ws.ReadMessage() // nothing comes: the read times out
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read ended with %v, want our own timeout", err)
	}
	if n := pings.Load(); n != 0 {
		t.Fatalf("%d pings with pinging off", n)
	}
	c := f.dial(t)
	if err := c.Call(testCtx(t), "subtract", []int{2, 1}, nil); err != nil {
		t.Fatalf("a call with pings off: %v", err)
	}
}
