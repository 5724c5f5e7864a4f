package security_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

// eventually waits for cond, failing after a generous timeout. It never
// asserts how long anything took.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer that a logger may write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flakyLog is a MemoryStore whose reads can be made to fail, as a database
// that goes away would.
type flakyLog struct {
	*security.MemoryStore
	down  atomic.Bool
	reads atomic.Int64
}

var errDown = errors.New("database unreachable")

func (f *flakyLog) RevocationsSince(ctx context.Context, cursor int64, now time.Time) ([]security.Revocation, int64, error) {
	f.reads.Add(1)
	if f.down.Load() {
		return nil, 0, errDown
	}
	return f.MemoryStore.RevocationsSince(ctx, cursor, now)
}

func (f *flakyLog) IsRevoked(ctx context.Context, id string) (bool, error) {
	if f.down.Load() {
		return false, errDown
	}
	return f.MemoryStore.IsRevoked(ctx, id)
}

// runCache starts c.Run and stops it when the test ends.
func runCache(t *testing.T, c *security.RevocationCache) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	})
}

func newCache(t *testing.T, log security.RevocationLog, opts ...security.RevocationCacheOption) *security.RevocationCache {
	t.Helper()
	c, err := security.NewRevocationCache(log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func revoked(t *testing.T, c *security.RevocationCache, id string) bool {
	t.Helper()
	r, err := c.IsRevoked(context.Background(), id)
	if err != nil {
		t.Fatalf("IsRevoked(%s): %v", id, err)
	}
	return r
}

func TestRevocationCacheLoadsAndFollows(t *testing.T) {
	ctx := context.Background()
	store := security.NewMemoryStore()
	hour := time.Now().Add(time.Hour)
	if err := store.Revoke(ctx, "before-start", hour); err != nil {
		t.Fatal(err)
	}
	if err := store.Revoke(ctx, "already-expired", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}

	a := newCache(t, store, security.WithPollInterval(10*time.Millisecond))
	// Before its first load the cache cannot vouch for anything.
	if _, err := a.IsRevoked(ctx, "x"); !errors.Is(err, security.ErrRevocationsStale) {
		t.Fatalf("before Run: IsRevoked error = %v, want ErrRevocationsStale", err)
	}
	if a.Health() == nil {
		t.Fatal("before Run: Health is nil")
	}
	runCache(t, a)
	eventually(t, "the first load", func() bool { return a.Health() == nil })
	if !revoked(t, a, "before-start") {
		t.Fatal("a revocation made before the cache started is not seen")
	}
	if revoked(t, a, "already-expired") || a.Len() != 1 {
		t.Fatalf("expired revocation held: Len = %d", a.Len())
	}

	// Through this cache: at once.
	if err := a.Revoke(ctx, "here", hour); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, a, "here") {
		t.Fatal("a revocation made through the cache does not hold at once")
	}
	// Through another instance sharing the log: within the poll.
	b := newCache(t, store, security.WithPollInterval(10*time.Millisecond))
	runCache(t, b)
	eventually(t, "b's first load", func() bool { return b.Health() == nil })
	if err := b.Revoke(ctx, "there", hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a revocation made by another instance", func() bool { return revoked(t, a, "there") })
	if !revoked(t, b, "here") {
		t.Fatal("b does not see a's revocation")
	}
	if ok, _ := store.IsRevoked(ctx, "here"); !ok {
		t.Fatal("the cache did not write the revocation to its log")
	}
}

// The cache fails closed once its log has been unreadable for longer than
// the staleness bound, and recovers by itself.
func TestRevocationCacheFailsClosedWhenStale(t *testing.T) {
	var logs syncBuffer
	log := &flakyLog{MemoryStore: security.NewMemoryStore()}
	c := newCache(t, log, security.WithPollInterval(5*time.Millisecond), security.WithMaxStaleness(50*time.Millisecond),
		security.WithCacheLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	runCache(t, c)
	eventually(t, "the first load", func() bool { return c.Health() == nil })

	log.down.Store(true)
	eventually(t, "staleness", func() bool { return c.Health() != nil })
	_, err := c.IsRevoked(context.Background(), "x")
	if !errors.Is(err, security.ErrRevocationsStale) || !errors.Is(err, errDown) {
		t.Fatalf("stale IsRevoked error = %v, want ErrRevocationsStale wrapping the cause", err)
	}
	log.down.Store(false)
	eventually(t, "recovery", func() bool { return c.Health() == nil })
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "recovered") {
		t.Fatalf("the outage and recovery were not logged:\n%s", logs.String())
	}
}

// watchedLog pushes: every Revoke notifies the watchers. The first watch
// ends with an error, as a killed LISTEN connection does, so the cache must
// reconnect and resync.
type watchedLog struct {
	*security.MemoryStore
	mu       sync.Mutex
	watchers []func(bool)
	watches  atomic.Int32
	reads    atomic.Int32 // RevocationsSince from cursor 0
}

func (w *watchedLog) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := w.MemoryStore.Revoke(ctx, id, until); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fn := range w.watchers {
		fn(false)
	}
	return nil
}

func (w *watchedLog) RevocationsSince(ctx context.Context, cursor int64, now time.Time) ([]security.Revocation, int64, error) {
	if cursor == 0 {
		w.reads.Add(1)
	}
	return w.MemoryStore.RevocationsSince(ctx, cursor, now)
}

func (w *watchedLog) WatchRevocations(ctx context.Context, changed func(bool)) error {
	if w.watches.Add(1) == 1 {
		return errors.New("connection terminated")
	}
	w.mu.Lock()
	w.watchers = append(w.watchers, changed)
	w.mu.Unlock()
	changed(true)
	<-ctx.Done()
	return ctx.Err()
}

// A log that pushes is read at once, without waiting for the poll, and a
// watch that reconnects makes the cache read everything again.
func TestRevocationCacheFollowsPushes(t *testing.T) {
	ctx := context.Background()
	log := &watchedLog{MemoryStore: security.NewMemoryStore()}
	c := newCache(t, log, security.WithPollInterval(time.Hour), security.WithMaxStaleness(2*time.Hour))
	runCache(t, c)
	eventually(t, "the reconnected watch", func() bool { return log.watches.Load() >= 2 })
	eventually(t, "a resync after reconnecting", func() bool { return log.reads.Load() >= 2 })

	other := newCache(t, log, security.WithPollInterval(time.Hour), security.WithMaxStaleness(2*time.Hour))
	if err := other.Revoke(ctx, "pushed", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The poll is an hour away: only the push can deliver it.
	eventually(t, "the pushed revocation", func() bool { return revoked(t, c, "pushed") })
}

// The cache forgets revocations whose tokens can no longer verify.
func TestRevocationCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := &security.MemoryStore{Now: clk.Now}
	c := newCache(t, store, security.WithPollInterval(5*time.Millisecond), security.WithCacheClock(clk.Now),
		security.WithMaxStaleness(time.Hour))
	runCache(t, c)
	eventually(t, "the first load", func() bool { return c.Health() == nil })
	for i := range 100 {
		if err := c.Revoke(ctx, "id"+string(rune('A'+i%26))+string(rune('a'+i/26)), clk.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	clk.Add(2 * time.Hour)
	eventually(t, "expired revocations to be forgotten", func() bool { return c.Len() == 0 })
}

func TestNewRevocationCacheRejects(t *testing.T) {
	if _, err := security.NewRevocationCache(nil); err == nil {
		t.Error("nil log accepted")
	}
	store := security.NewMemoryStore()
	if _, err := security.NewRevocationCache(store, security.WithPollInterval(time.Second), security.WithMaxStaleness(time.Second)); err == nil {
		t.Error("a staleness bound no longer than the poll accepted")
	}
	c := newCache(t, store)
	runCache(t, c)
	eventually(t, "Run to start", func() bool { return c.Health() == nil })
	if err := c.Run(context.Background()); err == nil {
		t.Error("a second Run was accepted")
	}
}

// Regression: RevokeFamily kept the family's revocation only for the
// longest default lifetime, but Grant.TTL could issue a longer access
// token, which verified again once the revocation was forgotten.
func TestRevokedAccessTokensDoNotComeBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.iss.Issue(ctx, security.Grant{Subject: "alice", TTL: 30 * 24 * time.Hour}); err == nil {
		t.Fatal("Issue accepted an access token outliving its refresh token")
	}
	// The longest a family's access token may live is the refresh TTL.
	pair, err := f.iss.Issue(ctx, security.Grant{Subject: "alice", TTL: security.DefaultRefreshTTL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.v.Verify(ctx, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.iss.RevokeFamily(ctx, p.Family); err != nil {
		t.Fatal(err)
	}
	// Revoked until the token expires, then expired: never valid again.
	for _, d := range []time.Duration{time.Hour, 6 * 24 * time.Hour, 23*time.Hour - time.Minute, 2 * time.Minute, 24 * time.Hour} {
		f.clk.Add(d)
		if err := f.store.Revoke(ctx, "sweep-trigger", f.clk.Now()); err != nil { // a write sweeps expired entries
			t.Fatal(err)
		}
		_, err := f.v.Verify(ctx, pair.AccessToken)
		if want := rpc.ReasonRevoked; f.clk.Now().After(pair.AccessExpires.Add(security.DefaultLeeway)) {
			want = rpc.ReasonExpired
			if reason(err) != want {
				t.Fatalf("at %v: Verify = %v, want %s", f.clk.Now(), err, want)
			}
		} else if reason(err) != want {
			t.Fatalf("at %v: Verify = %v, want %s", f.clk.Now(), err, want)
		}
	}
	if _, err := security.NewIssuer(f.v, security.WithAccessTTL(2*time.Hour), security.WithRefreshTTL(time.Hour)); err == nil {
		t.Fatal("NewIssuer accepted an access TTL longer than the refresh TTL")
	}
}

// Regression: the verified-token cache trusted the key's id. After the key
// k1 was rotated out, removed, and a new secret added under the same id, a
// cached token signed by the old k1 still passed.
func TestTokenCacheTrustsKeyNotName(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pair, err := f.iss.Issue(ctx, security.Grant{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, pair.AccessToken); err != nil { // now cached
		t.Fatal(err)
	}
	other := []byte("a completely different secret, 32+ bytes long")
	if err := f.ring.Rotate(security.HS256("k2", other)); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Rotate(security.HS256("k1", append([]byte("new "), other...))); err != nil {
		t.Fatal(err)
	}
	uncached, err := security.NewVerifier(f.ring, "warden-test", "api", security.WithClock(f.clk.Now),
		security.WithRevocations(f.store), security.WithCacheSize(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uncached.Verify(ctx, pair.AccessToken); reason(err) != rpc.ReasonInvalid {
		t.Fatalf("uncached Verify = %v, want invalid", err)
	}
	if _, err := f.v.Verify(ctx, pair.AccessToken); reason(err) != rpc.ReasonInvalid {
		t.Fatalf("cached Verify = %v, want invalid like the uncached verifier", err)
	}
}

// Regression: a revocation store failing during authentication turned
// every caller "invalid" and left no trace but a Debug line without the
// cause. It now fails closed with -32603, and the cause is logged at Error.
func TestStoreFailureDuringAuthenticationIsLogged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pair, err := f.iss.Issue(ctx, security.Grant{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	log := &flakyLog{MemoryStore: f.store}
	v, err := security.NewVerifier(f.ring, "warden-test", "api", security.WithClock(f.clk.Now), security.WithRevocations(log))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv := rpc.NewServer(rpc.WithScheme("bearer", security.NewBearer(v)), security.ProvidePrincipal("bearer"),
		rpc.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	srv.MustRegister("me", func(ctx context.Context, p *security.Principal) string { return p.Subject },
		rpc.Security(rpc.Require("bearer")))
	srv.MustRegister("public", func() string { return "ok" })
	call := func(method string) string {
		creds := srv.Authenticate(http.Header{"Authorization": {"Bearer " + pair.AccessToken}})
		return string(srv.Handle(rpc.WithCredentials(ctx, creds), []byte(`{"jsonrpc":"2.0","method":"`+method+`","id":1}`)))
	}
	if got := call("me"); !strings.Contains(got, `"result":"alice"`) {
		t.Fatalf("with the store up: %s", got)
	}
	log.down.Store(true)
	if got := call("me"); !strings.Contains(got, `"code":-32603`) || strings.Contains(got, "unreachable") {
		t.Fatalf("with the store down: %s, want -32603 without the cause", got)
	}
	if got := call("public"); !strings.Contains(got, `"result":"ok"`) {
		t.Fatalf("a public call failed with the store down: %s", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "database unreachable") {
		t.Fatalf("the store failure was not logged at Error with its cause:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), pair.AccessToken) {
		t.Fatal("the token was logged")
	}
}

// RevokeSubject ends every token issued to the subject before it, access
// and refresh, bound or not, on every instance; tokens issued right after
// it, and other subjects' tokens, live on.
func TestRevokeSubject(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	log := &security.MemoryStore{Now: clk.Now}
	newInstance := func() (*security.Verifier, *security.Issuer, *security.RevocationCache) {
		c := newCache(t, log, security.WithPollInterval(5*time.Millisecond), security.WithCacheClock(clk.Now),
			security.WithMaxStaleness(time.Hour))
		runCache(t, c)
		eventually(t, "the first load", func() bool { return c.Health() == nil })
		ring, _ := security.NewKeyRing(security.HS256("k1", secret))
		v, err := security.NewVerifier(ring, "warden-test", "api", security.WithClock(clk.Now), security.WithRevocations(c))
		if err != nil {
			t.Fatal(err)
		}
		iss, err := security.NewIssuer(v, security.WithFamilies(log))
		if err != nil {
			t.Fatal(err)
		}
		return v, iss, c
	}
	va, issA, _ := newInstance()
	vb, _, _ := newInstance()

	pair, err := issA.Issue(ctx, security.Grant{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	cli, _, err := issA.IssueAccess(ctx, security.Grant{Subject: "alice", TTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := issA.Issue(ctx, security.Grant{Subject: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	bound, err := vb.Verify(ctx, pair.AccessToken) // a WebSocket on b bound this one
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Millisecond)
	if err := issA.RevokeSubject(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	after, err := issA.Issue(ctx, security.Grant{Subject: "alice"}) // the same millisecond
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*security.Verifier{"a": va, "b": vb} {
		eventually(t, "the subject's revocation on "+name, func() bool {
			_, err := v.Verify(ctx, cli)
			return reason(err) == rpc.ReasonRevoked
		})
		if _, err := v.Verify(ctx, pair.AccessToken); reason(err) != rpc.ReasonRevoked {
			t.Errorf("%s: access token issued before: %v", name, err)
		}
		if _, err := v.VerifyRefresh(ctx, pair.RefreshToken); reason(err) != rpc.ReasonRevoked {
			t.Errorf("%s: refresh token issued before: %v", name, err)
		}
		if _, err := v.Verify(ctx, after.AccessToken); err != nil {
			t.Errorf("%s: a token issued right after the revocation: %v", name, err)
		}
		if _, err := v.Verify(ctx, bob.AccessToken); err != nil {
			t.Errorf("%s: another subject's token: %v", name, err)
		}
	}
	if err := vb.Revalidate(ctx, bound); reason(err) != rpc.ReasonRevoked {
		t.Errorf("a bound principal: %v", err)
	}
	if _, err := issA.Refresh(ctx, pair.RefreshToken); reason(err) != rpc.ReasonRevoked {
		t.Errorf("Refresh with a revoked subject's refresh token: %v", err)
	}
	if _, _, err := issA.IssueAccess(ctx, security.Grant{Subject: "alice", TTL: 31 * 24 * time.Hour}); err == nil {
		t.Error("IssueAccess granted more than the maximum TTL")
	}
}

// A default poll shrinks to fit a short staleness bound, for a log that
// pushes (whose default poll is a second) as for one that does not.
func TestRevocationCacheShortBound(t *testing.T) {
	for _, log := range []security.RevocationLog{security.NewMemoryStore(), &watchedLog{MemoryStore: security.NewMemoryStore()}} {
		c, err := security.NewRevocationCache(log, security.WithMaxStaleness(time.Second))
		if err != nil {
			t.Fatalf("%T: %v", log, err)
		}
		if err := c.Sync(context.Background()); err != nil || c.Health() != nil {
			t.Fatalf("%T: Sync %v, Health %v", log, err, c.Health())
		}
	}
}

// Regression: two tabs refreshing one token at once signed the user out:
// the loser's request looked like reuse and revoked the winner's new pair.
// Within the grace window it is the same rotation, and the family keeps
// one live refresh token; after it, reuse ends the family as before.
func TestRefreshRaceHasAGraceWindow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first, err := f.iss.Issue(ctx, security.Grant{Subject: "alice", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	winner, err := f.iss.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Add(2 * time.Second)
	loser, err := f.iss.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("the second tab's refresh within the window: %v", err)
	}
	family := func(tok string) (string, string) {
		p, err := f.v.VerifyRefresh(ctx, tok)
		if err != nil {
			t.Fatalf("VerifyRefresh: %v", err)
		}
		return p.Family, p.TokenID
	}
	wf, wid := family(winner.RefreshToken)
	lf, lid := family(loser.RefreshToken)
	if wf != lf || wid != lid {
		t.Fatalf("two live refresh tokens: family %s/%s, ids %s/%s", wf, lf, wid, lid)
	}
	for _, pair := range []*security.Pair{winner, loser} {
		p, err := f.v.Verify(ctx, pair.AccessToken)
		if err != nil || !p.HasScope("read") {
			t.Fatalf("an access token of the race: %v", err)
		}
	}
	// The family goes on from either tab's refresh token.
	next, err := f.iss.Refresh(ctx, loser.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// Past the window, presenting a spent token is reuse: the family ends.
	f.clk.Add(security.DefaultRefreshGrace + time.Second)
	if _, err := f.iss.Refresh(ctx, winner.RefreshToken); reason(err) != rpc.ReasonRevoked {
		t.Fatalf("reuse after the window: %v, want revoked", err)
	}
	if _, err := f.v.Verify(ctx, next.AccessToken); reason(err) != rpc.ReasonRevoked {
		t.Fatalf("the family's newest access token after reuse: %v", err)
	}
	// A token spent two rotations ago is reuse even within the window.
	g, err := f.iss.Issue(ctx, security.Grant{Subject: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := f.iss.Refresh(ctx, g.RefreshToken)
	if _, err := f.iss.Refresh(ctx, r1.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := f.iss.Refresh(ctx, g.RefreshToken); reason(err) != rpc.ReasonRevoked {
		t.Fatalf("a token spent two rotations ago: %v, want revoked", err)
	}
}
