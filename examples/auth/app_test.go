package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// newTestApp serves the app in process on an in-memory store.
func newTestApp(t *testing.T) (*app, *httptest.Server) {
	t.Helper()
	return newTestAppOn(t, openTestStore(t, ":memory:"))
}

// newTestAppOn serves the app in process on store, as one instance of a
// cluster sharing it, with its revocation cache running.
func newTestAppOn(t testing.TB, store Store) (*app, *httptest.Server) {
	t.Helper()
	return newTestAppWith(t, store, options{})
}

// newTestAppWith is newTestAppOn with options; the scrypt cost is lowered.
func newTestAppWith(t testing.TB, store Store, o options) (*app, *httptest.Server) {
	t.Helper()
	return newTestAppLogging(t, store, o, slog.New(slog.DiscardHandler))
}

// newTestAppLogging is newTestAppWith logging to logger.
func newTestAppLogging(t testing.TB, store Store, o options, logger *slog.Logger) (*app, *httptest.Server) {
	t.Helper()
	o.scryptLn = 4
	a, err := newApp(store, []byte("0123456789abcdef0123456789abcdef"), o, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for a.revocations.Health() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the revocation cache did not load: %v", a.revocations.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
	h, api, err := a.handler("http://127.0.0.1/api/v1")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		if err := api.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return a, ts
}

// A token whose user was deleted gets -32001, over HTTP and on an open
// WebSocket, and its refresh token buys nothing.
func TestDeletedUser(t *testing.T) {
	a, ts := newTestApp(t)
	c := dial(t, ts.URL+APIPath)
	signUp(t, c, "gone", "password")
	p := signIn(t, c, "gone", "password")
	authed := dial(t, ts.URL+APIPath, transport.WithBearer(p.AccessToken))
	ws := dial(t, "ws"+ts.URL[len("http"):]+APIPath, transport.WithBearer(p.AccessToken))
	wantUser(t, authed, "gone")
	wantUser(t, ws, "gone")

	u, _, err := a.store.UserByKey(context.Background(), usernameKey("gone"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.deleteUser(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*transport.Client{authed, ws} {
		_, err := requireToken(t, cl)
		wantCode(t, err, rpc.CodeUnauthorized)
	}
	wantCode(t, c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, nil), rpc.CodeUnauthorized)
	// The name is free again, and the old token does not open the new user.
	signUp(t, c, "gone", "password2")
	_, err = requireToken(t, authed)
	wantCode(t, err, rpc.CodeUnauthorized)
}

// wsURL is the WebSocket URL of a test server's API.
func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + APIPath }

// A deleted user's tokens stop working everywhere, a bound WebSocket
// included; only an admin may delete.
func TestDeleteUserMethod(t *testing.T) {
	a, ts := newTestApp(t)
	c := dial(t, ts.URL+APIPath)
	signUp(t, c, "admin", "password")
	signUp(t, c, "victim", "password")
	p := signIn(t, c, "victim", "password")
	http := dial(t, ts.URL+APIPath, transport.WithBearer(p.AccessToken))
	ws := dial(t, wsURL(ts))
	if err := ws.Call(ctxT(t), "sign_in", []string{"victim", "password"}, nil); err != nil {
		t.Fatal(err)
	}
	wantUser(t, http, "victim")
	wantUser(t, ws, "victim")

	u, _, err := a.store.UserByKey(context.Background(), usernameKey("admin"))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := a.issuer.IssueAccess(context.Background(), security.Grant{Subject: u.ID, Scopes: []string{ScopeAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	admin := dial(t, ts.URL+APIPath, transport.WithBearer(token))
	wantCode(t, http.Call(ctxT(t), "delete_user", []string{"victim"}, nil), rpc.CodeForbidden)
	wantCode(t, admin.Call(ctxT(t), "delete_user", []string{"nobody"}, nil), rpc.CodeInvalidParams)
	if err := admin.Call(ctxT(t), "delete_user", []string{"VICTIM"}, nil); err != nil {
		t.Fatal(err)
	}
	for name, cl := range map[string]*transport.Client{"http": http, "ws": ws} {
		_, err := requireToken(t, cl)
		if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != rpc.ReasonRevoked {
			t.Errorf("%s: reason %v, want revoked", name, d["reason"])
		}
	}
	wantCode(t, c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, nil), rpc.CodeUnauthorized)
}

// change_password signs out every other session of the user, keeps this
// one (bound anew over WebSocket), and is throttled as sign_in is.
func TestChangePassword(t *testing.T) {
	_, ts := newTestApp(t)
	c := dial(t, ts.URL+APIPath)
	signUp(t, c, "ada", "password")
	other := signIn(t, c, "ada", "password")
	elsewhere := dial(t, ts.URL+APIPath, transport.WithBearer(other.AccessToken))
	ws := dial(t, wsURL(ts))
	if err := ws.Call(ctxT(t), "sign_in", []string{"ada", "password"}, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ws.Call(ctxT(t), "change_password", []string{"wrong-password", "new-password"}, nil), rpc.CodeInvalidParams)
	wantCode(t, ws.Call(ctxT(t), "change_password", []string{"password", "short"}, nil), rpc.CodeInvalidParams)
	var pair security.Pair
	if err := ws.Call(ctxT(t), "change_password", map[string]string{"old_password": "password", "new_password": "new-password"}, &pair); err != nil {
		t.Fatal(err)
	}
	wantUser(t, ws, "ada") // this session goes on, bound to its new token
	wantUser(t, dial(t, ts.URL+APIPath, transport.WithBearer(pair.AccessToken)), "ada")
	_, err := requireToken(t, elsewhere)
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != rpc.ReasonRevoked {
		t.Errorf("another session: reason %v, want revoked", d["reason"])
	}
	wantCode(t, c.Call(ctxT(t), "refresh", []string{other.RefreshToken}, nil), rpc.CodeUnauthorized)
	wantCode(t, c.Call(ctxT(t), "sign_in", []string{"ada", "password"}, nil), rpc.CodeUnauthorized)
	signIn(t, c, "ada", "new-password")
	// Guessing the old password through change_password is throttled.
	for i := 0; ; i++ {
		err := ws.Call(ctxT(t), "change_password", []string{"guess", "new-password-2"}, nil)
		if rpcErr(t, err).Code == rpc.CodeLimitExceeded {
			break
		}
		if i > 10 {
			t.Fatal("change_password guesses are not throttled")
		}
	}
}

// Regression: five wrong guesses from anywhere locked the owner out of
// their account. Now attackers on other addresses cannot keep the owner
// from signing in from an address they signed in from before, while brute
// force from many addresses is still slowed for addresses the account has
// not been used from.
func TestOwnerNotLockedOutByOthers(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // frozen: locks hold
	proxies, _ := parseProxies("127.0.0.1")
	_, ts := newTestAppWith(t, openTestStore(t, ":memory:"), options{trustedProxies: proxies, now: func() time.Time { return now }})
	from := func(addr string) *transport.Client {
		return dial(t, ts.URL+APIPath, transport.WithHeader("X-Forwarded-For", addr))
	}
	owner := from("198.51.100.1")
	signUp(t, owner, "victim", "password")
	signIn(t, owner, "victim", "password") // the owner's address is now known

	// An attacker on one address is locked out of the account after five.
	one := from("203.0.113.1")
	var err error
	for range 7 {
		err = one.Call(ctxT(t), "sign_in", []string{"victim", "guess"}, nil)
	}
	wantCode(t, err, rpc.CodeLimitExceeded)
	wantCode(t, one.Call(ctxT(t), "sign_in", []string{"victim", "password"}, nil), rpc.CodeLimitExceeded)

	// Attackers spread over many addresses wear down the account's budget
	// for unknown addresses.
	for i := 0; ; i++ {
		err = from(fmt.Sprintf("203.0.113.%d", 10+i%40)).Call(ctxT(t), "sign_in", []string{"victim", "guess"}, nil)
		if rpcErr(t, err).Code == rpc.CodeLimitExceeded {
			break
		}
		if i > 40 {
			t.Fatal("guesses from many addresses were never slowed")
		}
	}
	// A new address, even with the right password, must wait...
	wantCode(t, from("192.0.2.9").Call(ctxT(t), "sign_in", []string{"victim", "password"}, nil), rpc.CodeLimitExceeded)
	// ...but the owner, from their own address, signs in.
	signIn(t, owner, "victim", "password")
}

func TestHashSlots(t *testing.T) {
	h := newHashSlots(2)
	r1, err1 := h.acquire("a")
	r2, err2 := h.acquire("a")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := h.acquire("a"); err == nil {
		t.Fatal("a third slot for one address")
	}
	rb, err := h.acquire("b")
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	r1()
	r3, err := h.acquire("a")
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r2()
	r3()
	rb()
	if len(h.busy) != 0 {
		t.Fatalf("slots leak: %v", h.busy)
	}
}

// lockedBuffer is a bytes.Buffer a logger may write while a test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every call gets one access log line with its method (_OTHER for one that
// is not registered), transport and, for a protected method, the outcome
// of its security check; never its params, so no password or token, nor
// the name of a method that is not registered.
func TestAccessLog(t *testing.T) {
	var logs lockedBuffer
	_, ts := newTestAppLogging(t, openTestStore(t, ":memory:"), options{}, slog.New(slog.NewTextHandler(&logs, nil)))
	c := dial(t, ts.URL+APIPath)
	signUp(t, c, "logged", "secret-password")
	p := signIn(t, c, "logged", "secret-password")
	wantUser(t, dial(t, ts.URL+APIPath, transport.WithBearer(p.AccessToken)), "logged")
	_, err := requireToken(t, c)
	wantCode(t, err, rpc.CodeUnauthorized)
	wantCode(t, dial(t, ts.URL+APIPath, transport.WithBearer(p.AccessToken)).Call(ctxT(t), "list_users", nil, nil), rpc.CodeForbidden)
	wantUser(t, dial(t, wsURL(ts), transport.WithBearer(p.AccessToken)), "logged")
	wantCode(t, c.Call(ctxT(t), "probe_unknown_method", []string{"secret-password"}, nil), rpc.CodeMethodNotFound)

	text := logs.String()
	for _, want := range []string{
		"msg=call method=sign_up transport=http",
		"msg=call method=require_token transport=http client=127.0.0.1",
		"method=require_token transport=ws",
		"auth=ok",
		"auth=missing",
		"auth=forbidden",
		"method=_OTHER transport=http client=127.0.0.1",
		"code=-32601",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no log line holds %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if (strings.Contains(line, "method=sign_up") || strings.Contains(line, "method=_OTHER")) && strings.Contains(line, "auth=") {
			t.Errorf("a public or unknown method's line has an auth result: %s", line)
		}
	}
	for _, secret := range []string{"secret-password", p.AccessToken, p.RefreshToken, "eyJ", "probe_unknown_method"} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds a secret %.12q…", secret)
		}
	}
}

// TestAccessLogOff: -access-log=false leaves calls unlogged, and the
// server's other lines in place.
func TestAccessLogOff(t *testing.T) {
	var logs lockedBuffer
	_, ts := newTestAppLogging(t, openTestStore(t, ":memory:"), options{noAccessLog: true}, slog.New(slog.NewTextHandler(&logs, nil)))
	c := dial(t, ts.URL+APIPath)
	signUp(t, c, "quiet", "secret-password")
	_, err := requireToken(t, c)
	wantCode(t, err, rpc.CodeUnauthorized)
	if text := logs.String(); strings.Contains(text, "msg=call") {
		t.Errorf("a call was logged with the access log off:\n%s", text)
	}
}

// TestAccessLogPanic: a call that panics is logged too, with the -32603
// its caller gets, and the panic goes on to the engine, which answers it.
func TestAccessLogPanic(t *testing.T) {
	var logs lockedBuffer
	srv := rpc.NewServer(rpc.WithInterceptors(logCalls(slog.New(slog.NewTextHandler(&logs, nil)))))
	srv.MustRegister("boom", func() error { panic("boom") })
	resp := string(srv.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","id":1,"method":"boom"}`)))
	if !strings.Contains(resp, `"code":-32603`) {
		t.Fatalf("answer %s, want -32603", resp)
	}
	if text := logs.String(); !strings.Contains(text, "msg=call method=boom") || !strings.Contains(text, "code=-32603") {
		t.Errorf("no line for the panicking call:\n%s", text)
	}
}

// TestRedactURL: the listening line shows a file name as it is and a
// PostgreSQL URL without its password.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"auth.db":  "auth.db",
		":memory:": ":memory:",
		"postgres://warden:s3cret@127.0.0.1:5432/warden": "postgres://warden:xxxxx@127.0.0.1:5432/warden",
		"postgresql://h/db?password=s3cret&sslmode=off":  "postgresql://h/db?password=xxxxx&sslmode=off",
		"postgres://%zz": "(unparsable database URL)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
