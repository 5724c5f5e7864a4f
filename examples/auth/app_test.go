package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
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
	a, err := newApp(store, []byte("0123456789abcdef0123456789abcdef"), options{scryptLn: 4}, slog.New(slog.DiscardHandler))
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
		api.Shutdown(context.Background())
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
