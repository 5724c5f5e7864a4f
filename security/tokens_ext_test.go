package security_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable time for tests.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) Add(d time.Duration) { c.t.Add(int64(d)) }
func reason(err error) string {
	var ae *rpc.AuthError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	if err == nil {
		return "<nil>"
	}
	return "not an AuthError: " + err.Error()
}

type fixture struct {
	clk   *clock
	ring  *security.KeyRing
	store *security.MemoryStore
	v     *security.Verifier
	iss   *security.Issuer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clk: newClock()}
	f.store = &security.MemoryStore{Now: f.clk.Now}
	var err error
	if f.ring, err = security.NewKeyRing(security.HS256("k1", secret)); err != nil {
		t.Fatal(err)
	}
	if f.v, err = security.NewVerifier(f.ring, "warden-test", "api", security.WithClock(f.clk.Now), security.WithRevocations(f.store)); err != nil {
		t.Fatal(err)
	}
	if f.iss, err = security.NewIssuer(f.v); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestKeyRingConstruction(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		keys []security.Key
	}{
		{"short secret", []security.Key{security.HS256("a", secret[:31])}},
		{"empty secret", []security.Key{security.HS256("a", nil)}},
		{"short previous secret", []security.Key{security.HS256("a", secret), security.HS256("b", []byte("short"))}},
		{"HMAC and EdDSA mixed", []security.Key{security.HS256("a", secret), security.EdDSA("b", priv)}},
		{"EdDSA and HMAC mixed", []security.Key{security.EdDSAPublic("a", pub), security.HS256("b", secret)}},
		{"repeated id", []security.Key{security.HS256("a", secret), security.HS256("a", append([]byte("x"), secret...))}},
		{"zero key", []security.Key{{}}},
		{"bad ed25519 key", []security.Key{security.EdDSA("a", priv[:10])}},
	} {
		if _, err := security.NewKeyRing(tc.keys[0], tc.keys[1:]...); err == nil {
			t.Errorf("%s: NewKeyRing succeeded", tc.name)
		}
	}
	ring, err := security.NewKeyRing(security.EdDSAPublic("", pub))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := security.NewVerifier(ring, "i", "a")
	if _, err := security.NewIssuer(v); err == nil {
		t.Error("NewIssuer accepted a verify-only key ring")
	}
	if err := ring.Rotate(security.HS256("h", secret)); err == nil {
		t.Error("Rotate mixed HMAC into an EdDSA ring")
	}
}

func TestEdDSARoundTrip(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	ring, err := security.NewKeyRing(security.EdDSA("ed", priv))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := security.NewVerifier(ring, "i", "a")
	iss, _ := security.NewIssuer(v)
	pair, err := iss.Issue(context.Background(), security.Grant{Subject: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), pair.AccessToken)
	if err != nil || p.Subject != "ada" {
		t.Fatalf("Verify = %+v, %v", p, err)
	}
	// An HS256 verifier keyed with the same kid refuses EdDSA tokens.
	hring, _ := security.NewKeyRing(security.HS256("ed", secret))
	hv, _ := security.NewVerifier(hring, "i", "a")
	if _, err := hv.Verify(context.Background(), pair.AccessToken); reason(err) != rpc.ReasonInvalid {
		t.Errorf("HS256 verifier on an EdDSA token: %s", reason(err))
	}
}

func TestIssueAndVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pair, err := f.iss.Issue(ctx, security.Grant{
		Subject: "ada",
		Scopes:  []string{"read", "admin"},
		Claims:  map[string]any{"name": "Ada Lovelace", "tenant": 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pair.TokenType != "bearer" || pair.ExpiresIn != 900 || pair.AccessToken == "" || pair.RefreshToken == "" {
		t.Fatalf("pair = %+v", pair)
	}
	p, err := f.v.Verify(ctx, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "ada" || !p.HasScope("admin") || !p.HasScope("read") || p.HasScope("write") ||
		p.TokenID == "" || p.Family == "" || p.Use != security.UseAccess ||
		!p.Expires.Equal(f.clk.Now().Add(15*time.Minute).Truncate(time.Second)) {
		t.Errorf("principal = %+v", p)
	}
	var name string
	var tenant int
	if ok, err := p.Claim("name", &name); !ok || err != nil || name != "Ada Lovelace" {
		t.Errorf("Claim(name) = %v, %v, %q", ok, err, name)
	}
	if ok, err := p.Claim("tenant", &tenant); !ok || err != nil || tenant != 7 {
		t.Errorf("Claim(tenant) = %v, %v, %d", ok, err, tenant)
	}
	if ok, _ := p.Claim("absent", &name); ok {
		t.Error("Claim(absent) reported true")
	}
	// Each kind of token is refused where the other is expected.
	if _, err := f.v.VerifyRefresh(ctx, pair.AccessToken); reason(err) != rpc.ReasonInvalid {
		t.Errorf("access as refresh: %s", reason(err))
	}
	if _, err := f.v.Verify(ctx, pair.RefreshToken); reason(err) != rpc.ReasonInvalid {
		t.Errorf("refresh as access: %s", reason(err))
	}
	if _, err := f.iss.Refresh(ctx, pair.AccessToken); reason(err) != rpc.ReasonInvalid {
		t.Errorf("Refresh(access token): %s", reason(err))
	}
}

func TestGrantChecks(t *testing.T) {
	f := newFixture(t)
	for _, g := range []security.Grant{
		{},
		{Subject: "a", Scopes: []string{"has space"}},
		{Subject: "a", Scopes: []string{""}},
		{Subject: "a", Claims: map[string]any{"sub": "root"}},
		{Subject: "a", Claims: map[string]any{"scope": "admin"}},
		{Subject: "a", Claims: map[string]any{"token_use": "access"}},
		{Subject: "a", TTL: -time.Second},
	} {
		if _, err := f.iss.Issue(context.Background(), g); err == nil {
			t.Errorf("Issue(%+v) succeeded", g)
		}
		if _, _, err := f.iss.IssueAccess(context.Background(), g); err == nil {
			t.Errorf("IssueAccess(%+v) succeeded", g)
		}
	}
}

func TestIssueAccessHasNoFamily(t *testing.T) {
	f := newFixture(t)
	tok, exp, err := f.iss.IssueAccess(context.Background(), security.Grant{Subject: "ops", Scopes: []string{"admin"}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.v.Verify(context.Background(), tok)
	if err != nil || p.Family != "" || !p.Expires.Equal(exp.Truncate(time.Second)) || !p.HasScope("admin") {
		t.Fatalf("Verify = %+v, %v (exp %v)", p, err, exp)
	}
}

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada", Scopes: []string{"read"}, Claims: map[string]any{"tenant": 7}})
	f.clk.Add(time.Minute)
	second, err := f.iss.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	p, err := f.v.Verify(ctx, second.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	var tenant int
	if ok, _ := p.Claim("tenant", &tenant); p.Subject != "ada" || !p.HasScope("read") || !ok || tenant != 7 {
		t.Errorf("refreshed principal lost its grant: %+v", p)
	}
	// Both access tokens work until the spent refresh token comes back,
	// after the grace window for a racing second tab.
	if _, err := f.v.Verify(ctx, first.AccessToken); err != nil {
		t.Fatalf("first access token before reuse: %v", err)
	}
	f.clk.Add(security.DefaultRefreshGrace + time.Second)
	if _, err := f.iss.Refresh(ctx, first.RefreshToken); reason(err) != rpc.ReasonRevoked {
		t.Fatalf("reused refresh token: %s; want revoked", reason(err))
	}
	for name, tok := range map[string]string{
		"first access": first.AccessToken, "second access": second.AccessToken,
	} {
		if _, err := f.v.Verify(ctx, tok); reason(err) != rpc.ReasonRevoked {
			t.Errorf("%s after reuse: %s; want revoked", name, reason(err))
		}
	}
	if _, err := f.iss.Refresh(ctx, second.RefreshToken); reason(err) != rpc.ReasonRevoked {
		t.Errorf("live refresh token after reuse: %s; want revoked", reason(err))
	}
	// Another family of the same user is untouched.
	other, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	if _, err := f.iss.Refresh(ctx, other.RefreshToken); err != nil {
		t.Errorf("another family: %v", err)
	}
}

// jtiOf reads a token's "jti" without verifying it.
func jtiOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// Of concurrent refreshes of one token, one rotates; the others, within
// the grace window, get the same live refresh token, never a second one.
// Without the window, exactly one succeeds.
func TestConcurrentRefreshesOfOneToken(t *testing.T) {
	for _, grace := range []time.Duration{security.DefaultRefreshGrace, 0} {
		f := newFixture(t)
		iss, err := security.NewIssuer(f.v, security.WithRefreshGrace(grace))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		pair, _ := iss.Issue(ctx, security.Grant{Subject: "ada"})
		var wg sync.WaitGroup
		var mu sync.Mutex
		live := map[string]int{}
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next, err := iss.Refresh(ctx, pair.RefreshToken)
				if err != nil {
					return
				}
				mu.Lock()
				live[jtiOf(t, next.RefreshToken)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		n := 0
		for _, c := range live {
			n += c
		}
		// Without a window, the losers' reuse ends the family: the
		// winner's refresh token is then revoked, as it must be.
		if grace > 0 {
			if _, err := iss.Refresh(ctx, pair.RefreshToken); err != nil {
				t.Errorf("grace %v: the family after the race: %v", grace, err)
			}
		}
		switch {
		case len(live) != 1:
			t.Errorf("grace %v: %d live refresh ids after the race, want 1", grace, len(live))
		case grace == 0 && n != 1:
			t.Errorf("grace 0: %d refreshes succeeded; want exactly 1", n)
		case grace > 0 && n != 16:
			t.Errorf("grace %v: %d of 16 racing refreshes succeeded; want all", grace, n)
		}
	}
}

func TestRefreshExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pair, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	f.clk.Add(7*24*time.Hour + time.Minute)
	if _, err := f.iss.Refresh(ctx, pair.RefreshToken); reason(err) != rpc.ReasonExpired {
		t.Errorf("refresh after 7 days: %s; want expired", reason(err))
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pair, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	keep, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	p, _ := f.v.Verify(ctx, pair.AccessToken)
	if err := f.iss.Revoke(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, pair.AccessToken); reason(err) != rpc.ReasonRevoked {
		t.Errorf("revoked access: %s", reason(err))
	}
	if _, err := f.iss.Refresh(ctx, pair.RefreshToken); reason(err) != rpc.ReasonRevoked {
		t.Errorf("refresh of a signed-out family: %s", reason(err))
	}
	if _, err := f.v.Verify(ctx, keep.AccessToken); err != nil {
		t.Errorf("another session was signed out too: %v", err)
	}
}

func TestMemoryStoreForgetsExpiredEntries(t *testing.T) {
	clk := newClock()
	m := &security.MemoryStore{Now: clk.Now}
	ctx := context.Background()
	if err := m.Revoke(ctx, "a", clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := m.StartFamily(ctx, "f", "ada", "t1", clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r, err := m.IsRevoked(ctx, "a"); !r || err != nil {
		t.Fatalf("a is not revoked: %v", err)
	}
	clk.Add(2 * time.Minute)
	if r, err := m.IsRevoked(ctx, "a"); r || err != nil {
		t.Errorf("an expired revocation: %v %v", r, err)
	}
	if err := m.RotateFamily(ctx, "f", "t1", "t2", clk.Now().Add(time.Hour)); !errors.Is(err, security.ErrUnknownFamily) {
		t.Errorf("rotating an expired family: %v", err)
	}
	if err := m.Revoke(ctx, "b", clk.Now().Add(time.Minute)); err != nil { // a write sweeps
		t.Fatal(err)
	}
	if r, f := m.Revocations(), m.Families(); r != 1 || f != 0 {
		t.Errorf("after sweeping: %d revocations, %d families; want 1, 0", r, f)
	}
}

func TestBearerHeader(t *testing.T) {
	f := newFixture(t)
	b := security.NewBearer(f.v)
	pair, _ := f.iss.Issue(context.Background(), security.Grant{Subject: "ada"})
	tok := pair.AccessToken
	for _, tc := range []struct {
		header string
		want   string // "ok", "none" or a reason
	}{
		{"", "none"},
		{"Bearer " + tok, "ok"},
		{"bearer " + tok, "ok"},
		{"BEARER  " + tok + " ", "ok"},
		{"Basic YWRhOnB3", "none"},
		{"Bearerx " + tok, "none"},
		{tok, "none"},
		{"Bearer", rpc.ReasonInvalid},
		{"Bearer   ", rpc.ReasonInvalid},
		{"Bearer " + tok + "x", rpc.ReasonInvalid},
		{"Bearer " + tok + " " + tok, rpc.ReasonInvalid},
	} {
		cred, err := b.Authenticate(context.Background(), http.Header{"Authorization": {tc.header}})
		got := "none"
		switch {
		case err != nil:
			got = reason(err)
		case cred != nil:
			got = "ok"
		}
		if got != tc.want {
			t.Errorf("Authorization %.30q: %s; want %s", tc.header, got, tc.want)
		}
	}
	info := b.Info()
	if info.Type != "http" || info.Scheme != "bearer" || info.BearerFormat != "JWT" {
		t.Errorf("Info = %+v", info)
	}
}

func TestBearerRevalidate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := security.NewBearer(f.v)
	pair, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	cred, err := b.Authenticate(ctx, http.Header{"Authorization": {"Bearer " + pair.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Revalidate(ctx, cred); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	f.clk.Add(15*time.Minute + 29*time.Second)
	if err := b.Revalidate(ctx, cred); err != nil {
		t.Errorf("inside the leeway: %v", err)
	}
	f.clk.Add(2 * time.Second)
	if err := b.Revalidate(ctx, cred); reason(err) != rpc.ReasonExpired {
		t.Errorf("beyond the leeway: %s", reason(err))
	}

	// Revocation and key removal take effect on a bound principal.
	f2 := newFixture(t)
	b2 := security.NewBearer(f2.v)
	pair, _ = f2.iss.Issue(ctx, security.Grant{Subject: "ada"})
	cred, _ = b2.Authenticate(ctx, http.Header{"Authorization": {"Bearer " + pair.AccessToken}})
	if err := f2.iss.Revoke(ctx, cred.(*security.Principal)); err != nil {
		t.Fatal(err)
	}
	if err := b2.Revalidate(ctx, cred); reason(err) != rpc.ReasonRevoked {
		t.Errorf("after Revoke: %s", reason(err))
	}
	pair, _ = f2.iss.Issue(ctx, security.Grant{Subject: "ada"})
	cred, _ = b2.Authenticate(ctx, http.Header{"Authorization": {"Bearer " + pair.AccessToken}})
	if err := f2.ring.Rotate(security.HS256("k2", append([]byte("2"), secret...))); err != nil {
		t.Fatal(err)
	}
	if err := b2.Revalidate(ctx, cred); err != nil {
		t.Errorf("after rotation, old key still in the ring: %v", err)
	}
	if err := f2.ring.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	if err := b2.Revalidate(ctx, cred); reason(err) != rpc.ReasonInvalid {
		t.Errorf("after the key left the ring: %s", reason(err))
	}
	if err := b2.Revalidate(ctx, &security.Principal{Subject: "x"}); reason(err) != rpc.ReasonInvalid {
		t.Errorf("a principal not from a token: %s", reason(err))
	}
}

// TestInBandAuthentication shows what a WebSocket transport does when a
// connection signs in after opening: the token arrives as a synthetic
// header.
func TestInBandAuthentication(t *testing.T) {
	f := newFixture(t)
	pair, _ := f.iss.Issue(context.Background(), security.Grant{Subject: "ada"})
	md := oneHeader{"Authorization", "Bearer " + pair.AccessToken}
	cred, err := security.NewBearer(f.v).Authenticate(context.Background(), md)
	if err != nil || cred.(*security.Principal).Subject != "ada" {
		t.Fatalf("Authenticate = %v, %v", cred, err)
	}
}

type oneHeader struct{ k, v string }

func (h oneHeader) Get(k string) string {
	if strings.EqualFold(k, h.k) {
		return h.v
	}
	return ""
}

func TestAPIKey(t *testing.T) {
	keys := []security.APIKey{
		{Key: "k-0123456789abcdef", Subject: "ci", Scopes: []string{"deploy"}},
		{Key: "k-fedcba9876543210", Subject: "ops"},
	}
	s, err := security.NewAPIKeys("X-API-Key", keys)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		key, want string
	}{
		{"", "none"},
		{"k-0123456789abcdef", "ci"},
		{"k-fedcba9876543210", "ops"},
		{"k-0123456789abcdeF", rpc.ReasonInvalid},
		{"k-0123456789abcde", rpc.ReasonInvalid},
		{strings.Repeat("k", 4096), rpc.ReasonInvalid},
	} {
		cred, err := s.Authenticate(ctx, http.Header{"X-Api-Key": {tc.key}})
		got := "none"
		switch {
		case err != nil:
			got = reason(err)
		case cred != nil:
			got = cred.(*security.Principal).Subject
		}
		if got != tc.want {
			t.Errorf("key %.20q: %s; want %s", tc.key, got, tc.want)
		}
	}
	cred, _ := s.Authenticate(ctx, http.Header{"X-Api-Key": {"k-0123456789abcdef"}})
	p := cred.(*security.Principal)
	p.Scopes[0] = "root"
	cred, _ = s.Authenticate(ctx, http.Header{"X-Api-Key": {"k-0123456789abcdef"}})
	if !cred.HasScope("deploy") {
		t.Error("changing one principal changed the scheme's keys")
	}
	if info := s.Info(); info.Type != "apiKey" || info.In != "header" || info.Name != "X-API-Key" {
		t.Errorf("Info = %+v", info)
	}
	for _, bad := range [][]security.APIKey{
		nil,
		{{Key: "short", Subject: "a"}},
		{{Key: "k-0123456789abcdef"}},
		{{Key: "k-0123456789abcdef", Subject: "a"}, {Key: "k-0123456789abcdef", Subject: "b"}},
		{{Key: "k-0123456789abcdef", Subject: "a", Scopes: []string{"a b"}}},
	} {
		if _, err := security.NewAPIKeys("X-API-Key", bad); err == nil {
			t.Errorf("NewAPIKeys(%+v) succeeded", bad)
		}
	}
}

func TestNewVerifierChecks(t *testing.T) {
	ring, _ := security.NewKeyRing(security.HS256("k", secret))
	for name, fn := range map[string]func() (*security.Verifier, error){
		"nil ring":    func() (*security.Verifier, error) { return security.NewVerifier(nil, "i", "a") },
		"no issuer":   func() (*security.Verifier, error) { return security.NewVerifier(ring, "", "a") },
		"no audience": func() (*security.Verifier, error) { return security.NewVerifier(ring, "i", "") },
		"huge leeway": func() (*security.Verifier, error) {
			return security.NewVerifier(ring, "i", "a", security.WithTokenLeeway(time.Hour))
		},
		"no max bytes": func() (*security.Verifier, error) {
			return security.NewVerifier(ring, "i", "a", security.WithMaxTokenBytes(0))
		},
	} {
		if _, err := fn(); err == nil {
			t.Errorf("%s: NewVerifier succeeded", name)
		}
	}
}

// TestCachedTokensAreRechecked: a token verified once is remembered, and
// still expires, is revoked, and dies with its key.
func TestCachedTokensAreRechecked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pair, _ := f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	p1, err := f.v.Verify(ctx, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := f.v.Verify(ctx, pair.AccessToken); p2 != p1 {
		t.Error("the second verification was not served from the cache")
	}
	f.clk.Add(15*time.Minute + 31*time.Second)
	if _, err := f.v.Verify(ctx, pair.AccessToken); reason(err) != rpc.ReasonExpired {
		t.Errorf("cached token past its expiry: %s", reason(err))
	}

	f = newFixture(t)
	pair, err = f.iss.Issue(ctx, security.Grant{Subject: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, pair.AccessToken); err != nil { // now cached
		t.Fatal(err)
	}
	if err := f.ring.Rotate(security.HS256("k2", append([]byte("2"), secret...))); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, pair.AccessToken); reason(err) != rpc.ReasonInvalid {
		t.Errorf("cached token after its key left: %s", reason(err))
	}

	// With the cache off every call verifies afresh and gets its own
	// principal.
	ring, _ := security.NewKeyRing(security.HS256("k1", secret))
	v, _ := security.NewVerifier(ring, "i", "a", security.WithCacheSize(0))
	iss, _ := security.NewIssuer(v)
	tok, _, _ := iss.IssueAccess(ctx, security.Grant{Subject: "ada"})
	a, _ := v.Verify(ctx, tok)
	b, _ := v.Verify(ctx, tok)
	if a == nil || a == b {
		t.Error("WithCacheSize(0) still caches")
	}
}
