package transport_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// NewHandler used to register rpc.authenticate on the caller's server
// behind its back, and drop the error. It now leaves the server's methods
// as they are: registering it is rpc.RegisterAuthenticate's job.
func TestNewHandlerLeavesTheServersMethodsAlone(t *testing.T) {
	srv := rpc.NewServer(rpc.WithScheme("bearer", newFakeScheme()))
	before := srv.Generation()
	transport.NewHandler(srv)
	if _, ok := srv.Method(rpc.AuthenticateMethod); ok || srv.Generation() != before {
		t.Fatal("NewHandler registered a method")
	}
}

// An API key presented in-band reaches security.APIKeys through its
// AuthenticateToken, and a scheme that cannot take tokens in-band is
// refused by name.
func TestWSAuthenticateInBandWithAPIKeys(t *testing.T) {
	keys, err := security.NewAPIKeys("X-API-Key", []security.APIKey{{Key: "k-0123456789abcdef", Subject: "ci"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpc.NewServer(rpc.WithScheme("key", keys), rpc.WithScheme("fake", headerScheme{}), security.ProvidePrincipal("key"))
	srv.MustRegister("whoami", func(p *security.Principal) string { return p.Subject }, rpc.Security(rpc.Require("key")))
	if err := rpc.RegisterAuthenticate(srv); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(transport.NewHandler(srv))
	t.Cleanup(ts.Close)
	ctx := testCtx(t)
	c, err := transport.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	if code, _ := rpcCode(t, c.Call(ctx, rpc.AuthenticateMethod, rpc.AuthenticateParams{Token: "k-0123456789abcdef", Scheme: "fake"}, nil)); code != rpc.CodeInvalidParams {
		t.Fatalf("a scheme without in-band tokens: %d, want -32602", code)
	}
	if code, reason := rpcCode(t, c.Authenticate(ctx, "k-0123456789abcdeF")); code != rpc.CodeUnauthorized || reason != rpc.ReasonInvalid {
		t.Fatalf("a wrong key: %d %q", code, reason)
	}
	if err := c.Authenticate(ctx, "k-0123456789abcdef"); err != nil {
		t.Fatalf("the right key: %v", err)
	}
	var who string
	if err := c.Call(ctx, "whoami", nil, &who); err != nil || who != "ci" {
		t.Fatalf("whoami = %q, %v", who, err)
	}
}

// headerScheme reads its header only: it cannot take tokens in-band.
type headerScheme struct{}

func (headerScheme) Authenticate(context.Context, rpc.Metadata) (rpc.Credential, error) {
	return nil, nil
}
func (headerScheme) Info() rpc.SchemeInfo { return rpc.SchemeInfo{Type: "http", Scheme: "bearer"} }
