package transport_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// bearerInstance is one server instance with the real bearer scheme, its
// revocations read through a RevocationCache over a store that instances
// share.
type bearerInstance struct {
	iss   *security.Issuer
	cache *security.RevocationCache
	url   string
	ended chan struct{}
}

func newBearerInstance(t *testing.T, store *security.MemoryStore, ttl time.Duration) *bearerInstance {
	t.Helper()
	ring, err := security.NewKeyRing(security.HS256("k1", []byte("subscription-test-secret-0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := security.NewRevocationCache(store, security.WithPollInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cache.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for cache.Health() != nil { // loaded: Run's first read is quick
		select {
		case <-time.After(time.Millisecond):
		case <-testCtx(t).Done():
			t.Fatal("the revocation cache never loaded")
		}
	}
	v, err := security.NewVerifier(ring, "warden", "api", security.WithRevocations(cache), security.WithTokenLeeway(0))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := security.NewIssuer(v, security.WithAccessTTL(ttl))
	if err != nil {
		t.Fatal(err)
	}
	in := &bearerInstance{iss: iss, cache: cache, ended: make(chan struct{}, 16)}
	srv := rpc.NewServer(rpc.WithScheme("bearer", security.NewBearer(v)), security.ProvidePrincipal("bearer"))
	srv.MustRegisterSubscription("audit", func(ctx context.Context, sub *rpc.Subscription[string], p *security.Principal) error {
		_ = sub.Send("hello " + p.Subject)
		<-ctx.Done()
		in.ended <- struct{}{}
		return nil
	}, rpc.Security(rpc.Require("bearer", "admin")))
	h := transport.NewHandler(srv)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		ts.Close()
	})
	in.url = "ws" + ts.URL[len("http"):]
	return in
}

func (in *bearerInstance) token(t *testing.T) (string, *security.Principal) {
	t.Helper()
	ctx := testCtx(t)
	pair, err := in.iss.Issue(ctx, security.Grant{Subject: "root", Scopes: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := in.iss.Verifier().Verify(ctx, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return pair.AccessToken, p
}

func subscribeAudit(t *testing.T, url, token string) *transport.ClientSubscription {
	t.Helper()
	ctx := testCtx(t)
	c, err := transport.Dial(ctx, url, transport.WithBearer(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sub, err := c.Subscribe(ctx, "audit", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := sub.Next(ctx, &got); err != nil || got != "hello root" {
		t.Fatalf("first value: %q, %v", got, err)
	}
	return sub
}

// TestSubscriptionBearerTokenExpires: a real access token with a short
// TTL ends the subscription when it expires, with no call made.
func TestSubscriptionBearerTokenExpires(t *testing.T) {
	in := newBearerInstance(t, security.NewMemoryStore(), 2*time.Second)
	tok, _ := in.token(t)
	sub := subscribeAudit(t, in.url, tok)
	ctx := testCtx(t)
	wantRPCError(t, finalError(ctx, t, sub), rpc.CodeUnauthorized, rpc.ReasonExpired)
	select {
	case <-in.ended:
	case <-ctx.Done():
		t.Fatal("the producer did not return")
	}
}

// TestSubscriptionRevokedOnAnotherInstance: a token revoked on another
// instance sharing the store ends the subscription here, through this
// instance's RevocationCache, without any call on the connection.
func TestSubscriptionRevokedOnAnotherInstance(t *testing.T) {
	store := security.NewMemoryStore()
	here := newBearerInstance(t, store, time.Hour)
	there := newBearerInstance(t, store, time.Hour)
	tok, p := here.token(t)
	sub := subscribeAudit(t, here.url, tok)
	ctx := testCtx(t)
	if err := there.iss.Revoke(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantRPCError(t, finalError(ctx, t, sub), rpc.CodeUnauthorized, rpc.ReasonRevoked)
}

// TestSubscriptionRevokedHere: the same through this instance's cache.
func TestSubscriptionRevokedHere(t *testing.T) {
	in := newBearerInstance(t, security.NewMemoryStore(), time.Hour)
	tok, p := in.token(t)
	sub := subscribeAudit(t, in.url, tok)
	ctx := testCtx(t)
	if err := in.iss.RevokeSubject(ctx, p.Subject); err != nil {
		t.Fatal(err)
	}
	wantRPCError(t, finalError(ctx, t, sub), rpc.CodeUnauthorized, rpc.ReasonRevoked)
}
