package security_test

import (
	"context"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

// A connection presents a bare token in-band (rpc.authenticate): the
// scheme reads it as it reads its header, with no header built around it.
func TestBearerAuthenticateToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := security.NewBearer(f.v)
	tok, _, err := f.iss.IssueAccess(ctx, security.Grant{Subject: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := b.AuthenticateToken(ctx, tok)
	if err != nil || cred.(*security.Principal).Subject != "ada" {
		t.Fatalf("AuthenticateToken = %v, %v", cred, err)
	}
	for name, bad := range map[string]string{"empty": "", "with the word Bearer": "Bearer " + tok, "forged": tok + "x"} {
		if cred, err := b.AuthenticateToken(ctx, bad); cred != nil || reason(err) != rpc.ReasonInvalid {
			t.Errorf("%s: AuthenticateToken = %v, %v; want invalid", name, cred, err)
		}
	}
	f.clk.Add(time.Hour)
	if _, err := b.AuthenticateToken(ctx, tok); reason(err) != rpc.ReasonExpired {
		t.Errorf("expired token: %v", err)
	}
}

func TestAPIKeysAuthenticateToken(t *testing.T) {
	s, err := security.NewAPIKeys("X-API-Key", []security.APIKey{{Key: "k-0123456789abcdef", Subject: "ci", Scopes: []string{"deploy"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cred, err := s.AuthenticateToken(ctx, "k-0123456789abcdef")
	if err != nil || cred.(*security.Principal).Subject != "ci" || !cred.HasScope("deploy") {
		t.Fatalf("AuthenticateToken = %v, %v", cred, err)
	}
	for _, bad := range []string{"", "k-0123456789abcdeF", string(make([]byte, 2<<10))} {
		if cred, err := s.AuthenticateToken(ctx, bad); cred != nil || reason(err) != rpc.ReasonInvalid {
			t.Errorf("AuthenticateToken(%.20q) = %v, %v; want invalid", bad, cred, err)
		}
	}
}
