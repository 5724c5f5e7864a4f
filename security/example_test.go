package security_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

// A server with a bearer scheme, a method that requires it, and the
// caller's principal injected as an argument.
func ExampleProvidePrincipal() {
	ring, _ := security.NewKeyRing(security.HS256("2025-01", []byte("a secret of at least thirty-two bytes")))
	verifier, _ := security.NewVerifier(ring, "https://auth.example.com", "example-api")
	issuer, _ := security.NewIssuer(verifier)

	srv := rpc.NewServer(
		rpc.WithScheme("bearer", security.NewBearer(verifier)),
		security.ProvidePrincipal("bearer"),
	)
	srv.MustRegister("whoami", func(p *security.Principal) string {
		return p.Subject
	}, rpc.Security(rpc.Require("bearer")))

	pair, _ := issuer.Issue(context.Background(), security.Grant{Subject: "ada"})

	// What transport.Handler does for each request:
	call := func(auth string) string {
		ctx := context.Background()
		creds := srv.Authenticate(http.Header{"Authorization": {auth}})
		return string(srv.Handle(rpc.WithCredentials(ctx, creds), []byte(`{"jsonrpc":"2.0","id":1,"method":"whoami"}`)))
	}
	fmt.Println(call("Bearer " + pair.AccessToken))
	fmt.Println(call("Bearer not.a.token"))
	fmt.Println(call(""))
	// Output:
	// {"jsonrpc":"2.0","result":"ada","id":1}
	// {"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{"reason":"invalid"}},"id":1}
	// {"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{"reason":"missing"}},"id":1}
}

// Issuing a pair, refreshing it, and what happens when a spent refresh
// token comes back.
func ExampleIssuer() {
	ctx := context.Background()
	ring, _ := security.NewKeyRing(security.HS256("k1", []byte("a secret of at least thirty-two bytes")))
	now := time.Now()
	clock := func() time.Time { return now }
	store := &security.MemoryStore{Now: clock} // revocations and refresh families
	verifier, _ := security.NewVerifier(ring, "auth", "api", security.WithRevocations(store), security.WithClock(clock))
	issuer, _ := security.NewIssuer(verifier, security.WithFamilies(store))

	first, _ := issuer.Issue(ctx, security.Grant{Subject: "ada", Scopes: []string{"admin"}})
	fmt.Println(first.TokenType, first.ExpiresIn)

	second, err := issuer.Refresh(ctx, first.RefreshToken)
	fmt.Println("refresh:", err)

	_, err = issuer.Refresh(ctx, first.RefreshToken) // a second tab, at once: the same rotation
	fmt.Println("second tab:", err)

	now = now.Add(time.Minute)
	_, err = issuer.Refresh(ctx, first.RefreshToken) // spent a minute ago: someone copied it
	fmt.Println("reuse:", err)

	_, err = verifier.Verify(ctx, second.AccessToken) // the family is revoked
	fmt.Println("access after reuse:", err)
	// Output:
	// bearer 900
	// refresh: <nil>
	// second tab: <nil>
	// reuse: auth revoked: security: refresh token already spent
	// access after reuse: auth revoked: token or family revoked
}

// Hashing a password in passlib's format and checking it; an unknown user
// costs the same through VerifyDummy.
func ExampleHasher() {
	ctx := context.Background()
	// Tests lower the cost; production uses NewHasher() (ln=17, r=8, p=1).
	h, _ := security.NewHasher(security.WithScryptCost(4, 8, 1))

	stored, _ := h.Hash(ctx, "correct horse")
	fmt.Println(stored[:21])

	ok, _ := h.Verify(ctx, "correct horse", stored)
	fmt.Println("right:", ok)
	ok, _ = h.Verify(ctx, "wrong horse", stored)
	fmt.Println("wrong:", ok)
	ok, _ = h.VerifyDummy(ctx, "anything")
	fmt.Println("no such user:", ok)
	fmt.Println("needs rehash at the default cost:", func() bool { d, _ := security.NewHasher(); return d.NeedsRehash(stored) }())
	// Output:
	// $scrypt$ln=4,r=8,p=1$
	// right: true
	// wrong: false
	// no such user: false
	// needs rehash at the default cost: true
}

// An API key scheme for machine clients, beside the bearer scheme.
func ExampleNewAPIKeys() {
	keys, _ := security.NewAPIKeys("X-API-Key", []security.APIKey{
		{Key: "ci-2f6c1e0b9a8d7c6b", Subject: "ci", Scopes: []string{"deploy"}},
	})
	cred, _ := keys.Authenticate(context.Background(), http.Header{"X-Api-Key": {"ci-2f6c1e0b9a8d7c6b"}})
	p := cred.(*security.Principal)
	fmt.Println(p.Subject, p.HasScope("deploy"))
	_, err := keys.Authenticate(context.Background(), http.Header{"X-Api-Key": {"guess-0000000000000"}})
	fmt.Println(err)
	// Output:
	// ci true
	// auth invalid: no such API key
}
