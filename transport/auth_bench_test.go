package transport_test

// Benchmarks of authentication, in one run:
//
//	go test -run '^$' -bench Auth -benchmem ./transport/
//
// BenchmarkAuth compares, over loopback HTTP (http/…) and in process
// (inproc/…, no network, the handler called directly):
//
//   - public: Warden serving a public method;
//   - bearer: the same method protected by a bearer JWT, the principal
//     injected (the verifier's cache of verified tokens on, as by default);
//   - bearer-uncached: the same with the cache off: every call decodes and
//     checks the signature;
//   - rawjwt: a plain net/http handler that parses the same JWT with
//     golang-jwt (HS256, iss, aud, exp) and writes the subject.
//
// BenchmarkAuthScrypt is one password hash at the default cost.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

const authBenchBody = `{"jsonrpc":"2.0","id":1,"method":"whoami"}`

type authBench struct {
	public, bearer, uncached, raw http.Handler
	token                         string
}

func newAuthBench(b *testing.B) *authBench {
	ring, err := security.NewKeyRing(security.HS256("k1", atkSecret))
	if err != nil {
		b.Fatal(err)
	}
	v, _ := security.NewVerifier(ring, atkIssuer, atkAudience)
	iss, _ := security.NewIssuer(v)
	tok, _, err := iss.IssueAccess(context.Background(), security.Grant{Subject: "ada", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}

	pub := rpc.NewServer()
	pub.MustRegister("whoami", func(ctx context.Context) (string, error) { return "ada", nil })

	protected := func(v *security.Verifier) http.Handler {
		s := rpc.NewServer(rpc.WithScheme("bearer", security.NewBearer(v)), security.ProvidePrincipal("bearer"))
		s.MustRegister("whoami", func(ctx context.Context, p *security.Principal) (string, error) {
			return p.Subject, nil
		}, rpc.Security(rpc.Require("bearer")))
		return transport.NewHandler(s)
	}
	nocache, _ := security.NewVerifier(ring, atkIssuer, atkAudience, security.WithCacheSize(0))

	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(atkIssuer),
		jwt.WithAudience(atkAudience), jwt.WithExpirationRequired(), jwt.WithLeeway(security.DefaultLeeway))
	keyfunc := func(*jwt.Token) (any, error) { return atkSecret, nil }
	raw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Drained as Warden's handler reads it; a failed read has no one to
		// tell here, and the benchmark checks the answer it gets.
		_, _ = io.Copy(io.Discard, r.Body)
		var c jwt.RegisteredClaims
		if _, err := parser.ParseWithClaims(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), &c, keyfunc); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"jsonrpc":"2.0","result":"` + c.Subject + `","id":1}`))
	})
	return &authBench{
		public:   transport.NewHandler(pub),
		bearer:   protected(v),
		uncached: protected(nocache),
		raw:      raw,
		token:    tok,
	}
}

func BenchmarkAuth(b *testing.B) {
	ab := newAuthBench(b)
	cases := []struct {
		name string
		h    http.Handler
	}{{"public", ab.public}, {"bearer", ab.bearer}, {"bearer-uncached", ab.uncached}, {"rawjwt", ab.raw}}
	for _, c := range cases {
		b.Run("http/"+c.name, func(b *testing.B) { benchAuthHTTP(b, c.h, ab.token) })
	}
	for _, c := range cases {
		b.Run("inproc/"+c.name, func(b *testing.B) { benchAuthInProcess(b, c.h, ab.token) })
	}
}

const authBenchWant = `{"jsonrpc":"2.0","result":"ada","id":1}`

func benchAuthHTTP(b *testing.B, h http.Handler, token string) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := ts.Client()
	body := bytes.NewReader(nil)
	do := func() []byte {
		body.Reset([]byte(authBenchBody))
		req, _ := http.NewRequest(http.MethodPost, ts.URL, body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return out
	}
	if got := string(do()); strings.TrimSpace(got) != authBenchWant {
		b.Fatalf("got %s", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		do()
	}
}

func benchAuthInProcess(b *testing.B, h http.Handler, token string) {
	benchServe(b, h, authBenchBody, authBenchWant, "Authorization", "Bearer "+token)
}

// BenchmarkAuthScrypt hashes one password at the default cost (ln=17,
// r=8, p=1: 128 MiB); ns/op is the time per hash.
func BenchmarkAuthScrypt(b *testing.B) {
	h, err := security.NewHasher()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublicCallWithToken calls a public method on a server that
// declares the bearer scheme, in process, without a token and with one.
// Credentials are resolved only when a call needs them, so the token must
// cost nothing here. Goal: with ≥ 0.95× without.
func BenchmarkPublicCallWithToken(b *testing.B) {
	ab := newAuthBench(b)
	ring, _ := security.NewKeyRing(security.HS256("k1", atkSecret))
	v, _ := security.NewVerifier(ring, atkIssuer, atkAudience)
	s := rpc.NewServer(rpc.WithScheme("bearer", security.NewBearer(v)), security.ProvidePrincipal("bearer"))
	s.MustRegister("whoami", func(ctx context.Context) (string, error) { return "ada", nil })
	h := transport.NewHandler(s)
	b.Run("token=none", func(b *testing.B) { benchServe(b, h, authBenchBody, authBenchWant) })
	b.Run("token=bearer", func(b *testing.B) {
		benchServe(b, h, authBenchBody, authBenchWant, "Authorization", "Bearer "+ab.token)
	})
	b.Run("token=forged", func(b *testing.B) {
		benchServe(b, h, authBenchBody, authBenchWant, "Authorization", "Bearer "+ab.token[:len(ab.token)-4]+"AAAA")
	})
}
