package main

// Several instances of the server on one database (issue 9): a PostgreSQL
// database through -db postgres://…, or one SQLite file. A revocation made
// on one instance is enforced by all within the timeout of eventually;
// throttle counts are shared; an instance whose revocation state is staler
// than its bound fails closed and recovers by itself; a server started
// before its PostgreSQL waits for it.
//
// The PostgreSQL tests run clusters of their own (internal/pgtest): they
// skip when PostgreSQL is not installed, and fail under CI=true.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardenrpc/warden/internal/pgtest"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// eventuallyTimeout bounds every wait for another instance to catch up. A
// revocation must propagate within 1 s; the margin is for loaded machines.
const eventuallyTimeout = 10 * time.Second

// eventually polls cond every 15 ms until it returns nil, and fails the
// test with cond's last error if that takes longer than eventuallyTimeout.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(eventuallyTimeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, eventuallyTimeout, err)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// dbPassword is put in every PostgreSQL URL the tests give the server.
// pgtest's clusters trust every local connection, so it is never checked,
// but the server must never log it.
const dbPassword = "pg-s3cret-never-logged"

// withPassword returns the URL u with dbPassword as its password.
func withPassword(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.User = url.UserPassword(p.User.Username(), dbPassword)
	return p.String()
}

// codeOf returns the JSON-RPC code and the reason of err's data, or an
// error when err is not a JSON-RPC error.
func codeOf(err error) (code int, reason string, ok bool) {
	var re *rpc.Error
	if !errors.As(err, &re) {
		return 0, "", false
	}
	if raw, isRaw := re.Data.(json.RawMessage); isRaw && len(raw) > 0 {
		var data map[string]any
		_ = json.Unmarshal(raw, &data) // data that is not an object has no reason, and "" matches none
		reason, _ = data["reason"].(string)
	}
	return re.Code, reason, true
}

// refusedRevoked returns nil when err is -32001 with reason "revoked".
func refusedRevoked(err error) error {
	if err == nil {
		return errors.New("the call succeeded")
	}
	if code, reason, ok := codeOf(err); !ok || code != rpc.CodeUnauthorized || reason != "revoked" {
		return fmt.Errorf("want -32001 revoked, got %v (reason %q)", err, reason)
	}
	return nil
}

// bearerRevokedOn returns a condition: token is refused on s with -32001
// "revoked", over HTTP.
func bearerRevokedOn(t *testing.T, s *server, token string) func() error {
	c := dial(t, s.url("http"), transport.WithBearer(token))
	return func() error {
		_, err := requireToken(t, c)
		return refusedRevoked(err)
	}
}

// healthz returns the status of GET /healthz on s. The body must be one
// of the fixed ones: never the error behind it.
func healthz(s *server) (int, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + s.addr + "/healthz")
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	switch string(body) {
	case "ok\n", "database unavailable\n", "revocation state stale\n":
	default:
		s.t.Errorf("GET /healthz: %s %q", resp.Status, body)
	}
	return resp.StatusCode, nil
}

// checkClean fails the test if s's log shows a panic, a data race (the
// binary has the race detector when the tests do), a token, a hash or the
// database password.
func checkClean(t *testing.T, s *server) {
	t.Helper()
	log := s.logText()
	for _, bad := range []string{"panic:", "DATA RACE", "goroutine ", dbPassword} {
		if strings.Contains(log, bad) {
			t.Errorf("the server's log holds %q:\n%s", bad, log)
		}
	}
	s.checkLog()
}

// logOnFailure shows the servers' logs when the test fails.
func logOnFailure(t *testing.T, servers ...*server) {
	t.Cleanup(func() {
		if t.Failed() {
			for i, s := range servers {
				t.Logf("log of instance %d (%s):\n%s", i, s.addr, s.logText())
			}
		}
	})
}

// ready waits until s's /healthz answers 200: the server listens before
// its revocation cache has loaded, and fails closed until it has, so a
// protected call right after "listening" may get -32603.
func ready(t *testing.T, servers ...*server) {
	t.Helper()
	for _, s := range servers {
		eventually(t, "GET /healthz answers 200", func() error {
			if code, err := healthz(s); err != nil || code != http.StatusOK {
				return fmt.Errorf("%d %v", code, err)
			}
			return nil
		})
	}
}

// running fails the test if s has exited.
func running(t *testing.T, s *server) {
	t.Helper()
	select {
	case <-s.done:
		t.Fatalf("the server exited: %v\n%s", s.err, s.logText())
	default:
	}
}

// pgQueryInt runs a query that returns one integer on the database at
// dbURL.
func pgQueryInt(t *testing.T, dbURL, query string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

const (
	// countWatches counts the LISTEN connections of the servers on the
	// current database.
	countWatches = `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'warden revocation watch' AND datname = current_database()`
	// killWatches ends them and says how many it ended.
	killWatches = `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'warden revocation watch' AND datname = current_database()) AS k`
)

// TestCluster runs two instances on one database, PostgreSQL and SQLite:
// users, revocations (sign-out and refresh-token reuse, over HTTP and on a
// WebSocket signed in in-band) and sign-in throttle counts are shared.
func TestCluster(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"postgres", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var db string
			if backend == "postgres" {
				db = withPassword(t, pgtest.Start(t).NewDatabase(t))
			} else {
				db = filepath.Join(t.TempDir(), "auth.db")
			}
			// Refresh-token reuse is tested at once, not as a second tab.
			noGrace := []string{"-refresh-grace", "0"}
			a := startWith(t, db, noGrace)
			b := startWith(t, db, noGrace)
			logOnFailure(t, a, b)
			ready(t, a, b)
			testCluster(t, a, b)
			running(t, a)
			running(t, b)
			a.stop()
			b.stop()
			checkClean(t, a)
			checkClean(t, b)
		})
	}
}

func testCluster(t *testing.T, a, b *server) {
	ha, hb := dial(t, a.url("http")), dial(t, b.url("http"))

	t.Run("users shared", func(t *testing.T) {
		signUp(t, ha, "alice", "alice-password")
		p := signIn(t, hb, "ALICE", "alice-password")
		// The instances share the JWT secret: a token from B works on A.
		wantUser(t, dial(t, a.url("http"), transport.WithBearer(p.AccessToken)), "alice")
		wantUser(t, dial(t, b.url("http"), transport.WithBearer(p.AccessToken)), "alice")
		// And a name taken on A is taken on B.
		wantCode(t, hb.Call(ctxT(t), "sign_up", []string{" Alice", "another-password"}, nil), CodeSignUpFailed)
	})

	t.Run("sign_out on A is enforced on B", func(t *testing.T) {
		signUp(t, ha, "bob", "bob-password")
		p := signIn(t, ha, "bob", "bob-password")
		other := signIn(t, hb, "bob", "bob-password")
		onB := dial(t, b.url("http"), transport.WithBearer(p.AccessToken))
		wantUser(t, onB, "bob")
		if err := dial(t, a.url("http"), transport.WithBearer(p.AccessToken)).Call(ctxT(t), "sign_out", nil, nil); err != nil {
			t.Fatalf("sign_out on A: %v", err)
		}
		// A at once; B within the timeout.
		if err := bearerRevokedOn(t, a, p.AccessToken)(); err != nil {
			t.Fatalf("A after its own sign_out: %v", err)
		}
		eventually(t, "B refuses the signed-out token", bearerRevokedOn(t, b, p.AccessToken))
		// The refresh family went with it, on both.
		wantCode(t, hb.Call(ctxT(t), "refresh", []string{p.RefreshToken}, nil), rpc.CodeUnauthorized)
		wantCode(t, ha.Call(ctxT(t), "refresh", []string{p.RefreshToken}, nil), rpc.CodeUnauthorized)
		// Another session of the same user is untouched.
		wantUser(t, dial(t, a.url("http"), transport.WithBearer(other.AccessToken)), "bob")
		wantUser(t, dial(t, b.url("http"), transport.WithBearer(other.AccessToken)), "bob")
	})

	t.Run("refresh-token reuse across instances", func(t *testing.T) {
		signUp(t, hb, "carol", "carol-password")
		p1 := signIn(t, ha, "carol", "carol-password")
		var p2 security.Pair
		if err := ha.Call(ctxT(t), "refresh", []string{p1.RefreshToken}, &p2); err != nil {
			t.Fatalf("refresh on A: %v", err)
		}
		wantUser(t, dial(t, b.url("http"), transport.WithBearer(p2.AccessToken)), "carol")
		// The spent token on B: refused, and the family ends.
		err := hb.Call(ctxT(t), "refresh", []string{p1.RefreshToken}, nil)
		if code, _, _ := codeOf(err); code != rpc.CodeUnauthorized {
			t.Fatalf("spent refresh token on B: %v, want -32001", err)
		}
		// B revoked the family itself: at once there, within the timeout on A.
		if err := bearerRevokedOn(t, b, p2.AccessToken)(); err != nil {
			t.Fatalf("B, the newest access token of the reused family: %v", err)
		}
		eventually(t, "A refuses the newest access token of the reused family", bearerRevokedOn(t, a, p2.AccessToken))
		// The family's newest refresh token is dead on both.
		wantCode(t, ha.Call(ctxT(t), "refresh", []string{p2.RefreshToken}, nil), rpc.CodeUnauthorized)
		wantCode(t, hb.Call(ctxT(t), "refresh", []string{p2.RefreshToken}, nil), rpc.CodeUnauthorized)
	})

	t.Run("throttle counts shared", func(t *testing.T) {
		signUp(t, ha, "dave", "dave-password")
		clients := []*transport.Client{ha, hb}
		// Attempts 1 to 5 are free; the 6th is checked and locks the
		// account for 1 s; the 7th, on the other instance, is refused.
		// Were the counts per instance, each would see half the attempts,
		// and nothing would be refused before the 13th.
		var (
			err      error
			n        int
			lockedAt time.Time // when the attempt that got -32005 was sent
		)
		for n = 1; n <= 12; n++ {
			lockedAt = time.Now()
			err = clients[n%2].Call(ctxT(t), "sign_in", []string{"dave", "wrong-password"}, nil)
			code, _, ok := codeOf(err)
			if !ok {
				t.Fatalf("attempt %d: %v", n, err)
			}
			if code == rpc.CodeLimitExceeded {
				break
			}
			if code != rpc.CodeUnauthorized {
				t.Fatalf("attempt %d: %v, want -32001", n, err)
			}
		}
		d := wantCode(t, err, rpc.CodeLimitExceeded)
		if n <= 6 {
			t.Fatalf("attempt %d refused; the first 6 must be checked", n)
		}
		if n > 7 {
			// Only when more than the 1 s lock passed between two calls.
			t.Logf("attempt %d refused, not the 7th: a slow machine?", n)
		}
		retry, _ := d["retry_after_ms"].(float64)
		if retry <= 0 {
			t.Fatalf("-32005 data %v", d)
		}
		// The right password, on either instance, is refused while the
		// lock lasts. The lock ends no earlier than lockedAt+retry.
		for i, c := range clients {
			err := c.Call(ctxT(t), "sign_in", []string{"dave", "dave-password"}, nil)
			if code, _, _ := codeOf(err); code != rpc.CodeLimitExceeded {
				if time.Since(lockedAt) < time.Duration(retry)*time.Millisecond {
					t.Errorf("the right password on instance %d while the account is locked: %v, want -32005", i, err)
				} else {
					t.Logf("the lock ended before the right password was tried: a slow machine?")
				}
			}
		}
	})

	t.Run("sign_out on A ends a WebSocket on B", func(t *testing.T) {
		signUp(t, hb, "erin", "erin-password")
		ws := dial(t, b.url("ws"))
		_, err := requireToken(t, ws)
		wantCode(t, err, rpc.CodeUnauthorized)
		p := signIn(t, ws, "erin", "erin-password") // signs the connection in
		wantUser(t, ws, "erin")
		if err := dial(t, a.url("http"), transport.WithBearer(p.AccessToken)).Call(ctxT(t), "sign_out", nil, nil); err != nil {
			t.Fatalf("sign_out on A: %v", err)
		}
		eventually(t, "B's WebSocket refuses the token signed out on A", func() error {
			_, err := requireToken(t, ws)
			return refusedRevoked(err)
		})
		// The connection itself survives: public calls still work.
		var doc json.RawMessage
		if err := ws.Call(ctxT(t), "rpc.discover", nil, &doc); err != nil {
			t.Fatalf("rpc.discover on the WebSocket after the refusal: %v", err)
		}
	})
}

// TestPostgresListenKilled ends the LISTEN connections of two instances:
// each reconnects by itself, and revocations made while they were down and
// after are enforced by both.
func TestPostgresListenKilled(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	raw := cluster.NewDatabase(t)
	db := withPassword(t, raw)
	a := start(t, db)
	b := start(t, db)
	logOnFailure(t, a, b)
	ready(t, a, b)
	ha := dial(t, a.url("http"))
	signUp(t, ha, "frank", "frank-password")
	tokens := make([]security.Pair, 3)
	for i := range tokens {
		tokens[i] = signIn(t, ha, "frank", "frank-password")
		wantUser(t, dial(t, b.url("http"), transport.WithBearer(tokens[i].AccessToken)), "frank")
	}
	signOut := func(p security.Pair) {
		t.Helper()
		if err := dial(t, a.url("http"), transport.WithBearer(p.AccessToken)).Call(ctxT(t), "sign_out", nil, nil); err != nil {
			t.Fatalf("sign_out on A: %v", err)
		}
	}

	eventually(t, "both instances LISTEN", func() error {
		if n := pgQueryInt(t, raw, countWatches); n != 2 {
			return fmt.Errorf("%d watch connections", n)
		}
		return nil
	})
	if n := pgQueryInt(t, raw, killWatches); n != 2 {
		t.Fatalf("terminated %d watch connections, want 2", n)
	}
	// In the window before the watches are back.
	signOut(tokens[0])
	eventually(t, "B refuses a token signed out while no one listened", bearerRevokedOn(t, b, tokens[0].AccessToken))

	eventually(t, "B logs that its watch reconnects", func() error {
		if !strings.Contains(b.logText(), "revocation watch ended; reconnecting") {
			return errors.New("no such line in B's log")
		}
		return nil
	})
	eventually(t, "both instances LISTEN again", func() error {
		if n := pgQueryInt(t, raw, countWatches); n != 2 {
			return fmt.Errorf("%d watch connections", n)
		}
		return nil
	})
	signOut(tokens[1])
	eventually(t, "B refuses a token signed out after the watch came back", bearerRevokedOn(t, b, tokens[1].AccessToken))
	// The third session is still good on both, and both are healthy.
	wantUser(t, dial(t, b.url("http"), transport.WithBearer(tokens[2].AccessToken)), "frank")
	wantUser(t, dial(t, a.url("http"), transport.WithBearer(tokens[2].AccessToken)), "frank")
	for _, s := range []*server{a, b} {
		if code, err := healthz(s); err != nil || code != http.StatusOK {
			t.Errorf("GET /healthz: %d %v", code, err)
		}
		running(t, s)
	}
	a.stop()
	b.stop()
	checkClean(t, a)
	checkClean(t, b)
}

// TestPostgresOutage stops PostgreSQL under an instance with a 2 s
// staleness bound, under light load: protected calls fail closed (a bare
// -32603 once the revocation state is stale), /healthz answers 503, public
// calls go on, the server stays up; when PostgreSQL is back, the instance
// recovers by itself and enforces a sign-out.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	db := withPassword(t, cluster.NewDatabase(t))
	// On PostgreSQL the safety poll is 1 s, and the bound must be longer.
	a := startWith(t, db, []string{"-max-staleness", "2s"})
	logOnFailure(t, a)
	ready(t, a)
	c := dial(t, a.url("http"))
	signUp(t, c, "grace", "grace-password")
	main := signIn(t, c, "grace", "grace-password")
	load := signIn(t, c, "grace", "grace-password")
	authed := dial(t, a.url("http"), transport.WithBearer(main.AccessToken))
	wantUser(t, authed, "grace")

	// The load: require_token and rpc.discover in a loop, each on its own
	// client, checking every answer against the phase.
	const (
		up = iota
		stopping
		down
		restarting
	)
	var phase atomic.Int32
	// Until the revocation state is staler than its bound, and while the
	// user cache holds the user, require_token may still succeed with
	// PostgreSQL down: nothing can be revoked meanwhile. Once it has failed
	// closed, it must not succeed again before PostgreSQL is back.
	var failedClosed atomic.Bool
	var (
		mu                 sync.Mutex
		problems           []string
		internal, accepted int // require_token's answers
		discovered         int
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loadClient := dial(t, a.url("http"), transport.WithBearer(load.AccessToken))
	discoverClient := dial(t, a.url("http"))
	call := func(c *transport.Client, method string, result any) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.Call(ctx, method, nil, result)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ph, closedBefore := phase.Load(), failedClosed.Load()
			var u User
			err := call(loadClient, "require_token", &u)
			var re *rpc.Error
			switch {
			case err == nil:
				mu.Lock()
				accepted++
				mu.Unlock()
				if ph == down && closedBefore {
					problem("require_token succeeded after failing closed, PostgreSQL still down")
				}
				if u.Username != "grace" {
					problem("require_token returned %+v", u)
				}
			case errors.As(err, &re):
				// -32603 once the revocation state is stale; before that,
				// -32000 when the user is not cached and cannot be read.
				want := map[int]string{rpc.CodeInternalError: "Internal error", rpc.CodeServerError: "Server error"}
				msg, ok := want[re.Code]
				if !ok {
					problem("require_token: %d %q %v, want -32603, -32000 or success", re.Code, re.Message, re.Data)
					break
				}
				mu.Lock()
				internal++
				mu.Unlock()
				if ph == down && phase.Load() == down {
					failedClosed.Store(true)
				}
				if ph == up && phase.Load() == up {
					problem("require_token failed before the outage: %v", err)
				}
				if re.Message != msg || re.Data != nil {
					problem("%d says more than it should: %q %s", re.Code, re.Message, re.Data)
				}
			default:
				problem("require_token: %v (the server is not answering)", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var doc struct {
				OpenRPC string `json:"openrpc"`
			}
			if err := call(discoverClient, "rpc.discover", &doc); err != nil || doc.OpenRPC == "" {
				problem("rpc.discover: %v %+v", err, doc)
			} else {
				mu.Lock()
				discovered++
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(stopLoad)

	phase.Store(stopping)
	cluster.Stop(t)
	phase.Store(down)
	eventually(t, "GET /healthz answers 503", func() error {
		if code, err := healthz(a); err != nil || code != http.StatusServiceUnavailable {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	eventually(t, "require_token answers -32603", func() error {
		_, err := requireToken(t, authed)
		if code, _, ok := codeOf(err); !ok || code != rpc.CodeInternalError {
			return fmt.Errorf("%v", err)
		}
		return nil
	})
	eventually(t, "the instance logs that its revocation feed failed", func() error {
		if !strings.Contains(a.logText(), "revocation feed read failed") {
			return errors.New("no such line in the log")
		}
		return nil
	})
	var doc json.RawMessage
	if err := c.Call(ctxT(t), "rpc.discover", nil, &doc); err != nil {
		t.Fatalf("rpc.discover during the outage: %v", err)
	}
	running(t, a)

	phase.Store(restarting)
	cluster.Start(t)
	eventually(t, "GET /healthz answers 200 again", func() error {
		if code, err := healthz(a); err != nil || code != http.StatusOK {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	eventually(t, "require_token works again", func() error {
		u, err := requireToken(t, authed)
		if err != nil {
			return err
		}
		if u.Username != "grace" {
			return fmt.Errorf("user %+v", u)
		}
		return nil
	})
	// The load sees the recovery too.
	mu.Lock()
	before := accepted
	mu.Unlock()
	eventually(t, "the load's require_token works again", func() error {
		mu.Lock()
		defer mu.Unlock()
		if accepted == before {
			return errors.New("no success yet")
		}
		return nil
	})
	stopLoad()
	mu.Lock()
	t.Logf("load: %d require_token accepted, %d refused (-32603, -32000); %d rpc.discover", accepted, internal, discovered)
	for _, p := range problems {
		t.Error(p)
	}
	if internal == 0 || discovered == 0 {
		t.Errorf("the load saw %d refusals and %d rpc.discover answers", internal, discovered)
	}
	mu.Unlock()

	// Revocation works after the recovery.
	if err := authed.Call(ctxT(t), "sign_out", nil, nil); err != nil {
		t.Fatalf("sign_out after the recovery: %v", err)
	}
	if err := refusedRevoked(func() error { _, err := requireToken(t, authed); return err }()); err != nil {
		t.Fatalf("require_token after sign_out: %v", err)
	}
	running(t, a)
	a.stop()
	checkClean(t, a)
}

// TestServerStartsBeforePostgres starts the server while its PostgreSQL is
// down: it retries, without logging the database password, and serves once
// PostgreSQL is up.
func TestServerStartsBeforePostgres(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	db := withPassword(t, cluster.NewDatabase(t))
	cluster.Stop(t)
	s, wait := launch(t, db, nil)
	logOnFailure(t, s)
	eventually(t, "the server logs that it retries", func() error {
		select {
		case <-s.done:
			t.Fatalf("the server exited while PostgreSQL was down: %v\n%s", s.err, s.logText())
		default:
		}
		if strings.Count(s.logText(), "database unavailable; retrying") < 2 {
			return errors.New("fewer than two retries in the log")
		}
		return nil
	})
	log := s.logText()
	if strings.Contains(log, dbPassword) {
		t.Errorf("the log holds the database password:\n%s", log)
	}
	if !strings.Contains(log, "postgres:xxxxx@") {
		t.Errorf("the log does not show the redacted URL:\n%s", log)
	}
	if strings.Contains(log, "msg=listening") {
		t.Fatalf("the server listens without its database:\n%s", log)
	}
	cluster.Start(t)
	wait()
	ready(t, s)
	c := dial(t, s.url("http"))
	signUp(t, c, "heidi", "heidi-password")
	p := signIn(t, c, "heidi", "heidi-password")
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(p.AccessToken)), "heidi")
	if code, err := healthz(s); err != nil || code != http.StatusOK {
		t.Errorf("GET /healthz: %d %v", code, err)
	}
	s.stop()
	checkClean(t, s)
}

// TestRacingMigrations starts two servers at the same moment on one fresh
// PostgreSQL database, a few times: both migrate it, agree on one JWT
// secret, and serve.
func TestRacingMigrations(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	for round := range 2 {
		db := withPassword(t, cluster.NewDatabase(t))
		a, waitA := launch(t, db, nil)
		b, waitB := launch(t, db, nil)
		logOnFailure(t, a, b)
		waitA()
		waitB()
		ready(t, a, b)
		name := fmt.Sprintf("ivan%d", round)
		signUp(t, dial(t, a.url("http")), name, "ivan-password")
		p := signIn(t, dial(t, b.url("http")), name, "ivan-password")
		// One secret: B's token works on A.
		wantUser(t, dial(t, a.url("http"), transport.WithBearer(p.AccessToken)), name)
		wantUser(t, dial(t, b.url("http"), transport.WithBearer(p.AccessToken)), name)
		a.stop()
		b.stop()
		checkClean(t, a)
		checkClean(t, b)
	}
}
