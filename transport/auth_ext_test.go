package transport_test

// A black-box attack suite for bearer JWT over HTTP: real requests to a
// loopback server built from transport.NewHandler and the security
// package. Every attack must be answered with the right code and reason,
// and must never run the protected method.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

const (
	atkIssuer   = "warden-attack-test"
	atkAudience = "api"
)

var (
	atkSecret  = []byte("attack-suite-secret-0123456789abcdef")
	atkSecret2 = []byte("attack-suite-secret-rotated-0123456789")
	atkEvil    = []byte("an-attacker-chosen-secret-0123456789xyz")
)

// atkClock is the verifier's clock: fixed, so that leeway edges are exact.
type atkClock struct{ ns atomic.Int64 }

func (c *atkClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

type atkKit struct {
	t      *testing.T
	url    string
	clk    *atkClock
	ring   *security.KeyRing
	iss    *security.Issuer
	calls  atomic.Int64 // runs of protected methods
	public atomic.Int64 // runs of the public method
}

type atkNote struct {
	Text string `json:"text"`
}

func newAtkKit(t *testing.T, rpcOpts ...rpc.Option) *atkKit {
	t.Helper()
	k := &atkKit{t: t, clk: &atkClock{}}
	k.clk.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	var err error
	if k.ring, err = security.NewKeyRing(security.HS256("k1", atkSecret)); err != nil {
		t.Fatal(err)
	}
	v, err := security.NewVerifier(k.ring, atkIssuer, atkAudience, security.WithClock(k.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	if k.iss, err = security.NewIssuer(v); err != nil {
		t.Fatal(err)
	}
	hasher, err := security.NewHasher(security.WithScryptCost(4, 8, 1))
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]rpc.Option{
		rpc.WithScheme("bearer", security.NewBearer(v)),
		security.ProvidePrincipal("bearer"),
	}, rpcOpts...)
	srv := rpc.NewServer(opts...)
	bearer := rpc.Security(rpc.Require("bearer"))
	srv.MustRegister("whoami", func(ctx context.Context, p *security.Principal) (string, error) {
		k.calls.Add(1)
		return p.Subject, nil
	}, bearer)
	srv.MustRegister("note", func(ctx context.Context, p *security.Principal, n atkNote) (string, error) {
		k.calls.Add(1)
		return p.Subject + ": " + n.Text, nil
	}, bearer)
	srv.MustRegister("admin", func(p *security.Principal) (string, error) {
		k.calls.Add(1)
		return "admin " + p.Subject, nil
	}, rpc.Security(rpc.Require("bearer", "admin")))
	srv.MustRegister("public", func() string {
		k.public.Add(1)
		return "public"
	})
	srv.MustRegister("check_password", func(ctx context.Context, in struct {
		Password string `json:"password"`
	}) (bool, error) {
		return hasher.VerifyDummy(ctx, in.Password)
	})
	srv.MustRegister("leaky", func(in struct {
		Password string `json:"password"`
	}) error {
		// A careless handler: its error text must stay in the logs.
		return fmt.Errorf("db: user with password %q: %w", in.Password, io.ErrUnexpectedEOF)
	})
	ts := httptest.NewUnstartedServer(transport.NewHandler(srv))
	// Headers are limited apart from the body; let a 1 MB token through so
	// that it reaches the scheme and its own 8 KiB limit is what refuses it.
	ts.Config.MaxHeaderBytes = 4 << 20
	ts.Start()
	t.Cleanup(ts.Close)
	k.url = ts.URL
	return k
}

func (k *atkKit) now() time.Time { return k.clk.Now() }

type atkResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// post sends body with the Authorization header auth (none when empty) and
// returns the raw response body.
func (k *atkKit) post(auth, body string) []byte {
	k.t.Helper()
	req, err := http.NewRequest(http.MethodPost, k.url, strings.NewReader(body))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		k.t.Fatalf("reading the response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		k.t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return raw
}

func (k *atkKit) call(auth, method, params string) atkResponse {
	k.t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `"`
	if params != "" {
		body += `,"params":` + params
	}
	raw := k.post(auth, body+"}")
	var r atkResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		k.t.Fatalf("response %s: %v", raw, err)
	}
	return r
}

// claims returns a valid access token's claims at the kit's time.
func (k *atkKit) claims() jwt.MapClaims {
	now := k.now()
	return jwt.MapClaims{
		"iss": atkIssuer, "aud": atkAudience, "sub": "ada",
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
		"jti": "jti-" + fmt.Sprint(now.UnixNano()), "token_use": "access", "scope": "read",
	}
}

// sign signs claims with method and key under kid ("" for no kid).
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k *atkKit) good(edit func(jwt.MapClaims)) string {
	c := k.claims()
	if edit != nil {
		edit(c)
	}
	return sign(k.t, jwt.SigningMethodHS256, atkSecret, "k1", c)
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// leakRE matches what an error response must never carry: stack traces,
// Go type and package names, and library error text.
var leakRE = regexp.MustCompile(`(?i)goroutine|\.go:\d|panic|runtime\.|\*?(rpc|security|jwt|transport|errors|fmt|http)\.[A-Z]|golang|jwt|signature|crypto|hmac|base64|illegal|unexpected EOF|token is|could not|segment|claim|scrypt|\{0x`)

// assertClean fails when an error response leaks internals or one of
// secrets (tokens, passwords).
func assertClean(t *testing.T, raw []byte, secrets ...string) {
	t.Helper()
	for _, p := range leaks(raw, secrets...) {
		t.Error(p)
	}
}

// leaks lists what is wrong with an error response.
func leaks(raw []byte, secrets ...string) []string {
	var r atkResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		var batch []atkResponse
		if json.Unmarshal(raw, &batch) != nil {
			return []string{fmt.Sprintf("response %.200s is not JSON-RPC", raw)}
		}
		var out []string
		for _, b := range batch {
			b2, _ := json.Marshal(b)
			out = append(out, leaks(b2, secrets...)...)
		}
		return out
	}
	if r.Error == nil {
		return nil
	}
	var out []string
	text := r.Error.Message + " " + string(r.Error.Data)
	if m := leakRE.FindString(text); m != "" {
		out = append(out, fmt.Sprintf("error response leaks %q: %.200s", m, raw))
	}
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(string(raw), s) {
			out = append(out, fmt.Sprintf("error response carries a secret (%.12q…): %.200s", s, raw))
		}
		// Also a secret's distinctive middle (a JWT's payload, say).
		if len(s) > 60 && strings.Contains(string(raw), s[len(s)/2-10:len(s)/2+10]) {
			out = append(out, fmt.Sprintf("error response carries part of a secret: %.200s", raw))
		}
	}
	return out
}

// expectUnauthorized calls whoami (and, when public is set, the public
// method) with auth, and checks -32001 with reason, that whoami never ran,
// and that public methods still answer.
func (k *atkKit) expectUnauthorized(auth, reason string, secrets ...string) {
	k.t.Helper()
	before := k.calls.Load()
	raw := k.post(auth, `{"jsonrpc":"2.0","id":1,"method":"whoami"}`)
	var r atkResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		k.t.Fatalf("response %s: %v", raw, err)
	}
	if r.Error == nil || r.Error.Code != rpc.CodeUnauthorized {
		k.t.Errorf("got %s; want -32001", raw)
	} else if want := `{"reason":"` + reason + `"}`; string(r.Error.Data) != want {
		k.t.Errorf("data %s; want %s", r.Error.Data, want)
	}
	if n := k.calls.Load() - before; n != 0 {
		k.t.Errorf("the protected method ran %d times", n)
	}
	assertClean(k.t, raw, append(secrets, strings.TrimPrefix(auth, "Bearer "))...)

	// The same credentials still reach a public method.
	pub := k.public.Load()
	if r := k.call(auth, "public", ""); r.Error != nil || string(r.Result) != `"public"` {
		k.t.Errorf("public method with the same header: %+v", r.Error)
	}
	if k.public.Load() != pub+1 {
		k.t.Error("the public method did not run")
	}
}

func TestAuthAttacksAreRejected(t *testing.T) {
	k := newAtkKit(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := k.good(nil)
	parts := strings.Split(valid, ".")
	edited := k.claims()
	edited["sub"] = "root"
	edited["scope"] = "admin"

	// A valid token longer than 8 KiB: only the length limit can refuse it.
	huge := k.good(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("A", 1<<20) })
	justOver := k.good(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("A", 6200) })
	if len(huge) < 1<<20 || len(justOver) <= 8<<10 || len(justOver) > 9<<10 {
		t.Fatalf("padding: %d and %d bytes", len(huge), len(justOver))
	}
	pair, err := k.iss.Issue(context.Background(), security.Grant{Subject: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := k.iss.Issue(context.Background(), security.Grant{Subject: "eve"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.iss.Verifier().Verify(context.Background(), revoked.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.iss.Revoke(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", k.claims())
	for _, tc := range []struct {
		name, auth, reason string
	}{
		{"alg none", "Bearer " + none, rpc.ReasonInvalid},
		{"alg none, no signature segment", "Bearer " + strings.TrimSuffix(none, "."), rpc.ReasonInvalid},
		{"alg none, upper case", "Bearer " + b64(map[string]string{"alg": "NONE", "typ": "JWT", "kid": "k1"}) + "." + parts[1] + ".", rpc.ReasonInvalid},
		{"HS384 with the right secret", "Bearer " + sign(t, jwt.SigningMethodHS384, atkSecret, "k1", k.claims()), rpc.ReasonInvalid},
		{"HS512 with the right secret", "Bearer " + sign(t, jwt.SigningMethodHS512, atkSecret, "k1", k.claims()), rpc.ReasonInvalid},
		{"RS256", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey, "k1", k.claims()), rpc.ReasonInvalid},
		{"edited payload, old signature", "Bearer " + parts[0] + "." + b64(edited) + "." + parts[2], rpc.ReasonInvalid},
		{"signature of another token", "Bearer " + parts[0] + "." + parts[1] + "." + strings.Split(k.good(func(c jwt.MapClaims) { c["sub"] = "bob" }), ".")[2], rpc.ReasonInvalid},
		{"two segments", "Bearer " + parts[0] + "." + parts[1], rpc.ReasonInvalid},
		{"four segments", "Bearer " + valid + "." + parts[2], rpc.ReasonInvalid},
		{"one segment", "Bearer " + parts[1], rpc.ReasonInvalid},
		{"1 MB valid token", "Bearer " + huge, rpc.ReasonInvalid},
		{"valid token just over 8 KiB", "Bearer " + justOver, rpc.ReasonInvalid},
		{"many dots", "Bearer " + strings.Repeat(".", 8000), rpc.ReasonInvalid},
		{"many dots, 1 MB", "Bearer " + strings.Repeat("a.", 1<<19), rpc.ReasonInvalid},
		{"three dots only", "Bearer ..", rpc.ReasonInvalid},
		{"not base64", "Bearer !!!.@@@.###", rpc.ReasonInvalid},
		{"padded base64", "Bearer " + parts[0] + "=." + parts[1] + "." + parts[2], rpc.ReasonInvalid},
		{"expired beyond leeway", "Bearer " + k.good(func(c jwt.MapClaims) { c["exp"] = k.now().Add(-31 * time.Second).Unix() }), rpc.ReasonExpired},
		{"expired long ago", "Bearer " + k.good(func(c jwt.MapClaims) { c["exp"] = k.now().Add(-24 * time.Hour).Unix() }), rpc.ReasonExpired},
		{"exp missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "exp") }), rpc.ReasonInvalid},
		{"exp a string", "Bearer " + k.good(func(c jwt.MapClaims) { c["exp"] = fmt.Sprint(k.now().Add(time.Hour).Unix()) }), rpc.ReasonInvalid},
		{"exp null", "Bearer " + k.good(func(c jwt.MapClaims) { c["exp"] = nil }), rpc.ReasonInvalid},
		{"exp a bool", "Bearer " + k.good(func(c jwt.MapClaims) { c["exp"] = true }), rpc.ReasonInvalid},
		{"nbf in the future", "Bearer " + k.good(func(c jwt.MapClaims) { c["nbf"] = k.now().Add(time.Minute).Unix() }), rpc.ReasonInvalid},
		{"iat in the future", "Bearer " + k.good(func(c jwt.MapClaims) { c["iat"] = k.now().Add(time.Minute).Unix() }), rpc.ReasonInvalid},
		{"iat missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "iat") }), rpc.ReasonInvalid},
		{"sub missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "sub") }), rpc.ReasonInvalid},
		{"jti missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "jti") }), rpc.ReasonInvalid},
		{"wrong aud", "Bearer " + k.good(func(c jwt.MapClaims) { c["aud"] = "other-api" }), rpc.ReasonInvalid},
		{"aud missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "aud") }), rpc.ReasonInvalid},
		{"wrong iss", "Bearer " + k.good(func(c jwt.MapClaims) { c["iss"] = "evil" }), rpc.ReasonInvalid},
		{"iss missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "iss") }), rpc.ReasonInvalid},
		{"expired and wrong aud", "Bearer " + k.good(func(c jwt.MapClaims) { c["aud"] = "x"; c["exp"] = k.now().Add(-time.Hour).Unix() }), rpc.ReasonInvalid},
		{"refresh token as access", "Bearer " + pair.RefreshToken, rpc.ReasonInvalid},
		{"token_use missing", "Bearer " + k.good(func(c jwt.MapClaims) { delete(c, "token_use") }), rpc.ReasonInvalid},
		{"unknown kid", "Bearer " + sign(t, jwt.SigningMethodHS256, atkSecret, "k9", k.claims()), rpc.ReasonInvalid},
		{"no kid", "Bearer " + sign(t, jwt.SigningMethodHS256, atkSecret, "", k.claims()), rpc.ReasonInvalid},
		{"kid as a number", "Bearer " + b64(map[string]any{"alg": "HS256", "kid": 1}) + "." + parts[1] + "." + parts[2], rpc.ReasonInvalid},
		{"attacker key in jwk and jku", "Bearer " + func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, k.claims())
			tok.Header["kid"] = "k1"
			tok.Header["jku"] = "http://127.0.0.1:1/keys"
			tok.Header["jwk"] = map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(atkEvil)}
			s, _ := tok.SignedString(atkEvil)
			return s
		}(), rpc.ReasonInvalid},
		{"revoked jti", "Bearer " + revoked.AccessToken, rpc.ReasonRevoked},
		{"empty bearer", "Bearer", rpc.ReasonInvalid},
		{"Basic header", "Basic " + base64.StdEncoding.EncodeToString([]byte("ada:hunter2")), rpc.ReasonMissing},
		{"token without a scheme word", valid, rpc.ReasonMissing},
		{"no header", "", rpc.ReasonMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k.t = t
			defer func() { k.t = nil }()
			k.expectUnauthorized(tc.auth, tc.reason, "hunter2")
		})
	}
	k.t = t
	if r := k.call("Bearer "+valid, "whoami", ""); r.Error != nil || string(r.Result) != `"ada"` {
		t.Fatalf("the untouched token: %s %+v", r.Result, r.Error)
	}
}

func TestAuthLeewayEdges(t *testing.T) {
	k := newAtkKit(t)
	for _, tc := range []struct {
		name string
		edit func(jwt.MapClaims)
		ok   bool
	}{
		{"expired 29 s ago", func(c jwt.MapClaims) { c["exp"] = k.now().Add(-29 * time.Second).Unix() }, true},
		{"expired 30 s ago", func(c jwt.MapClaims) { c["exp"] = k.now().Add(-30 * time.Second).Unix() }, true},
		{"expired 31 s ago", func(c jwt.MapClaims) { c["exp"] = k.now().Add(-31 * time.Second).Unix() }, false},
		{"nbf 29 s ahead", func(c jwt.MapClaims) { c["nbf"] = k.now().Add(29 * time.Second).Unix() }, true},
		{"nbf 31 s ahead", func(c jwt.MapClaims) { c["nbf"] = k.now().Add(31 * time.Second).Unix() }, false},
		{"iat 29 s ahead", func(c jwt.MapClaims) { c["iat"] = k.now().Add(29 * time.Second).Unix() }, true},
		{"iat 31 s ahead", func(c jwt.MapClaims) { c["iat"] = k.now().Add(31 * time.Second).Unix() }, false},
		{"fractional exp inside leeway", func(c jwt.MapClaims) { c["exp"] = float64(k.now().Unix()) - 29.5 }, true},
	} {
		before := k.calls.Load()
		r := k.call("Bearer "+k.good(tc.edit), "whoami", "")
		ran := k.calls.Load() - before
		if tc.ok && (r.Error != nil || string(r.Result) != `"ada"` || ran != 1) {
			t.Errorf("%s: want accepted, got %s %+v (ran %d)", tc.name, r.Result, r.Error, ran)
		}
		if !tc.ok && (r.Error == nil || r.Error.Code != rpc.CodeUnauthorized || ran != 0) {
			t.Errorf("%s: want -32001, got %s %+v (ran %d)", tc.name, r.Result, r.Error, ran)
		}
	}
}

func TestAuthKeyRotation(t *testing.T) {
	k := newAtkKit(t)
	ctx := context.Background()
	old, _, err := k.iss.IssueAccess(ctx, security.Grant{Subject: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ring.Rotate(security.HS256("k2", atkSecret2)); err != nil {
		t.Fatal(err)
	}
	fresh, _, err := k.iss.IssueAccess(ctx, security.Grant{Subject: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if kid := jwtHeader(t, fresh)["kid"]; kid != "k2" {
		t.Fatalf("after rotation, new tokens carry kid %v; want k2", kid)
	}
	for tok, sub := range map[string]string{old: "ada", fresh: "bob"} {
		if r := k.call("Bearer "+tok, "whoami", ""); r.Error != nil || string(r.Result) != `"`+sub+`"` {
			t.Errorf("while both keys are in the ring, %s's token: %s %+v", sub, r.Result, r.Error)
		}
	}
	if err := k.ring.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	k.expectUnauthorized("Bearer "+old, rpc.ReasonInvalid)
	if r := k.call("Bearer "+fresh, "whoami", ""); r.Error != nil || string(r.Result) != `"bob"` {
		t.Errorf("after removing k1, the k2 token: %s %+v", r.Result, r.Error)
	}
	// The old key's secret signing under the new kid does not pass either.
	k.expectUnauthorized("Bearer "+sign(t, jwt.SigningMethodHS256, atkSecret, "k2", k.claims()), rpc.ReasonInvalid)
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("token header %s: %v", b, err)
	}
	return h
}

func TestAuthParamsCannotSpoofThePrincipal(t *testing.T) {
	k := newAtkKit(t)
	ada := "Bearer " + k.good(nil)
	root := k.good(func(c jwt.MapClaims) { c["sub"] = "root"; c["scope"] = "admin" })
	spoofs := []string{
		`{"principal":{"Subject":"root","Scopes":["admin"]}}`,
		`{"Subject":"root"}`,
		`{"sub":"root"}`,
		`{"token":"` + root + `"}`,
		`{"authorization":"Bearer ` + root + `"}`,
		`[{"Subject":"root"}]`,
		`["Bearer ` + root + `"]`,
	}
	for _, params := range spoofs {
		// Without a header, a token in the params authenticates nothing.
		before := k.calls.Load()
		r := k.call("", "whoami", params)
		if r.Error == nil || r.Error.Code != rpc.CodeUnauthorized || k.calls.Load() != before {
			t.Errorf("no header, params %.40s: %s %+v", params, r.Result, r.Error)
		}
		// With ada's header, extra params are refused, and never make her
		// someone else.
		r = k.call(ada, "whoami", params)
		if r.Error == nil || r.Error.Code != rpc.CodeInvalidParams || k.calls.Load() != before {
			t.Errorf("ada, params %.40s: %s %+v; want -32602", params, r.Result, r.Error)
		}
		r = k.call(ada, "admin", params)
		if r.Error == nil || r.Error.Code != rpc.CodeForbidden || k.calls.Load() != before {
			t.Errorf("ada calling admin, params %.40s: %s %+v; want -32003", params, r.Result, r.Error)
		}
	}
	// A method with real params ignores nothing and takes no principal
	// from them.
	r := k.call(ada, "note", `{"text":"hi","principal":{"Subject":"root"}}`)
	if r.Error == nil || r.Error.Code != rpc.CodeInvalidParams {
		t.Errorf("note with a principal param: %s %+v", r.Result, r.Error)
	}
	if r := k.call(ada, "note", `{"text":"hi"}`); string(r.Result) != `"ada: hi"` {
		t.Errorf("note: %s %+v", r.Result, r.Error)
	}

	// Even a lenient server, which ignores unknown params, injects the
	// header's principal only.
	lk := newAtkKit(t, rpc.WithLenientParams())
	lada := "Bearer " + lk.good(nil)
	for _, params := range spoofs {
		if r := lk.call(lada, "whoami", params); string(r.Result) != `"ada"` {
			t.Errorf("lenient, params %.40s: %s %+v; want ada", params, r.Result, r.Error)
		}
		if r := lk.call("", "whoami", params); r.Error == nil || r.Error.Code != rpc.CodeUnauthorized {
			t.Errorf("lenient, no header, params %.40s: %s %+v", params, r.Result, r.Error)
		}
	}
}

func TestAuthBatchItemsAreJudgedAlone(t *testing.T) {
	k := newAtkKit(t)
	batch := `[
		{"jsonrpc":"2.0","id":1,"method":"whoami"},
		{"jsonrpc":"2.0","id":2,"method":"public"},
		{"jsonrpc":"2.0","id":3,"method":"admin"},
		{"jsonrpc":"2.0","id":4,"method":"whoami","params":{"sub":"root"}},
		{"jsonrpc":"2.0","id":5,"method":"nope"}
	]`
	codes := func(auth string) string {
		var rs []atkResponse
		raw := k.post(auth, batch)
		if err := json.Unmarshal(raw, &rs); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		assertClean(t, raw, strings.TrimPrefix(auth, "Bearer "))
		var out []string
		for _, r := range rs {
			if r.Error != nil {
				out = append(out, fmt.Sprint(r.Error.Code))
			} else {
				out = append(out, string(r.Result))
			}
		}
		return strings.Join(out, " ")
	}
	before := k.calls.Load()
	for _, tc := range []struct{ auth, want string }{
		{"Bearer " + k.good(nil), `"ada" "public" -32003 -32602 -32601`},
		{"Bearer " + k.good(func(c jwt.MapClaims) { c["scope"] = "read admin" }), `"ada" "public" "admin ada" -32602 -32601`},
		{"Bearer " + k.good(func(c jwt.MapClaims) { c["exp"] = k.now().Add(-time.Hour).Unix() }), `-32001 "public" -32001 -32001 -32601`},
		{"", `-32001 "public" -32001 -32001 -32601`},
	} {
		if got := codes(tc.auth); got != tc.want {
			t.Errorf("batch: %s; want %s", got, tc.want)
		}
	}
	if n := k.calls.Load() - before; n != 3 {
		t.Errorf("protected methods ran %d times; want 3", n)
	}
}

func TestAuthForbiddenNamesScopes(t *testing.T) {
	k := newAtkKit(t)
	before := k.calls.Load()
	raw := k.post("Bearer "+k.good(nil), `{"jsonrpc":"2.0","id":1,"method":"admin"}`)
	want := `{"jsonrpc":"2.0","error":{"code":-32003,"message":"Forbidden","data":{"required":["admin"]}},"id":1}`
	if !bytes.Equal(bytes.TrimSpace(raw), []byte(want)) {
		t.Errorf("got %s\nwant %s", raw, want)
	}
	if k.calls.Load() != before {
		t.Error("admin ran without the admin scope")
	}
}

func TestAuthErrorsNeverCarryPasswords(t *testing.T) {
	k := newAtkKit(t)
	const pw = "correct-horse-battery-staple"
	for _, tc := range []struct {
		method, params string
		code           int
		secret         string
	}{
		{"leaky", `{"password":"` + pw + `"}`, rpc.CodeServerError, pw},
		{"check_password", `{"password":"` + strings.Repeat("p", 2048) + `"}`, rpc.CodeInvalidParams, strings.Repeat("p", 64)},
		{"check_password", `{"password":` + pw + `}`, rpc.CodeParseError, pw},
		{"check_password", `{"password":12345678}`, rpc.CodeInvalidParams, "12345678"},
	} {
		raw := k.post("", `{"jsonrpc":"2.0","id":1,"method":"`+tc.method+`","params":`+tc.params+`}`)
		var r atkResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Errorf("%s %.40s: response %s: %v", tc.method, tc.params, raw, err)
			continue
		}
		if r.Error == nil || r.Error.Code != tc.code {
			t.Errorf("%s %.40s: %s; want %d", tc.method, tc.params, raw, tc.code)
		}
		assertClean(t, raw, tc.secret)
	}
	if r := k.call("", "check_password", `{"password":"`+pw+`"}`); r.Error != nil || string(r.Result) != "false" {
		t.Errorf("check_password: %s %+v", r.Result, r.Error)
	}
}

// TestAuthLeakCheckCanFail keeps assertClean honest: it must catch what it
// is meant to catch.
func TestAuthLeakCheckCanFail(t *testing.T) {
	for _, raw := range []string{
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"token is malformed: could not base64 decode header","data":null}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error","data":"goroutine 7 [running]:\nmain.go:12"}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"*security.PasswordError","data":null}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"Server error","data":"eyJhbGciOiJIUzI1NiJ9.secret"}}`,
	} {
		if len(leaks([]byte(raw), "eyJhbGciOiJIUzI1NiJ9.secret")) == 0 {
			t.Errorf("assertClean accepted %s", raw)
		}
	}
}
