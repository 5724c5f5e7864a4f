package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenrpc/warden/internal/pgtest"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// nextEvent waits for the subscription's next event, within
// eventuallyTimeout: a bound on a hang, not a latency asserted.
func nextEvent(t *testing.T, sub *transport.ClientSubscription) AuditEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventuallyTimeout)
	defer cancel()
	var e AuditEvent
	if err := sub.Next(ctx, &e); err != nil {
		t.Fatalf("audit event: %v", err)
	}
	return e
}

// wantEvent checks the subscription's next event.
func wantEvent(t *testing.T, sub *transport.ClientSubscription, typ, username string) {
	t.Helper()
	e := nextEvent(t, sub)
	if e.Type != typ || e.Username != username || e.At.IsZero() || e.At.Location() != time.UTC {
		t.Fatalf("audit event %+v, want type %q, username %q, a time in UTC", e, typ, username)
	}
}

// adminToken issues an access token with the scope admin to a new user
// called name.
func adminToken(t *testing.T, a *app, c *transport.Client, name string) string {
	t.Helper()
	signUp(t, c, name, "admin-password")
	u, _, err := a.store.UserByKey(context.Background(), usernameKey(name))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := a.issuer.IssueAccess(context.Background(), security.Grant{Subject: u.ID, Scopes: []string{ScopeAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// Every kind of event arrives, in order, with its type and username,
// and never a password or a token.
func TestAuditEvents(t *testing.T) {
	noGrace := time.Duration(0) // reuse is tested at once, not as a second tab
	a, ts := newTestAppWith(t, openTestStore(t, ":memory:"), options{refreshGrace: &noGrace})
	c := dial(t, ts.URL+APIPath)
	token := adminToken(t, a, c, "root")
	ws := dial(t, wsURL(ts), transport.WithBearer(token))
	sub, err := ws.Subscribe(ctxT(t), "audit", nil)
	if err != nil {
		t.Fatalf("audit_subscribe: %v", err)
	}

	signUp(t, c, "alice", "alice-password")
	p := signIn(t, c, "Alice", "alice-password")
	wantCode(t, c.Call(ctxT(t), "sign_in", []string{"alice", "wrong-password"}, nil), rpc.CodeUnauthorized)
	wantCode(t, c.Call(ctxT(t), "sign_in", []string{" Nobody", "wrong-password"}, nil), rpc.CodeUnauthorized)
	var p2 security.Pair
	if err := c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, &p2); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	wantCode(t, c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, nil), rpc.CodeUnauthorized)
	p3 := signIn(t, c, "alice", "alice-password")
	if err := dial(t, ts.URL+APIPath, transport.WithBearer(p3.AccessToken)).Call(ctxT(t), "sign_out", nil, nil); err != nil {
		t.Fatalf("sign_out: %v", err)
	}

	nobody, err := normalizeUsername(" Nobody")
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, sub, EventSignUp, "alice")
	wantEvent(t, sub, EventSignIn, "alice")
	wantEvent(t, sub, EventSignInFailed, "alice")
	wantEvent(t, sub, EventSignInFailed, nobody)
	wantEvent(t, sub, EventRefresh, "alice")
	wantEvent(t, sub, EventRefreshReused, "alice")
	wantEvent(t, sub, EventSignIn, "alice")
	wantEvent(t, sub, EventSignOut, "alice")

	// audit_unsubscribe ends it, here and in the feed.
	if err := sub.Unsubscribe(ctxT(t)); err != nil {
		t.Fatalf("audit_unsubscribe: %v", err)
	}
	if err := sub.Next(ctxT(t), nil); !errors.Is(err, transport.ErrUnsubscribed) {
		t.Fatalf("after audit_unsubscribe: %v", err)
	}
	signIn(t, c, "alice", "alice-password") // an event no one takes
	eventually(t, "the feed forgets the subscription", func() error {
		if n := a.audit.subscribers(); n != 0 {
			return errors.New("the feed still serves a subscription")
		}
		return nil
	})
}

// Only admins subscribe, and only over a WebSocket.
func TestAuditRefused(t *testing.T) {
	a, ts := newTestApp(t)
	c := dial(t, ts.URL+APIPath)
	admin := adminToken(t, a, c, "root")
	signUp(t, c, "user", "user-password")
	p := signIn(t, c, "user", "user-password")

	_, err := dial(t, wsURL(ts), transport.WithBearer(p.AccessToken)).Subscribe(ctxT(t), "audit", nil)
	wantCode(t, err, rpc.CodeForbidden)
	_, err = dial(t, wsURL(ts)).Subscribe(ctxT(t), "audit", nil)
	wantCode(t, err, rpc.CodeUnauthorized)
	// Over HTTP there is no connection to send on: the call is refused.
	var id string
	err = dial(t, ts.URL+APIPath, transport.WithBearer(admin)).Call(ctxT(t), "audit_subscribe", nil, &id)
	if err == nil {
		t.Fatalf("audit_subscribe over HTTP answered %q", id)
	}
	if re := rpcErr(t, err); re.Code != rpc.CodeInvalidRequest {
		t.Fatalf("audit_subscribe over HTTP: %v, want -32600", err)
	}
	if n := a.audit.subscribers(); n != 0 {
		t.Errorf("the feed serves %d subscriptions", n)
	}
}

// Two instances on one database, PostgreSQL and SQLite: an admin
// subscribed on A sees what is done on B, and the subscription ends,
// -32001 revoked, when the admin's token is signed out on B.
func TestAuditCluster(t *testing.T) {
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
			a := start(t, db)
			b := start(t, db)
			logOnFailure(t, a, b)
			ready(t, a, b)
			if backend == "postgres" {
				// Each instance listens for events on a connection of its own.
				eventually(t, "both instances LISTEN for audit events", func() error {
					if n := pgQueryInt(t, db, `SELECT count(*) FROM pg_stat_activity
						WHERE application_name = '`+eventWatchApplicationName+`' AND datname = current_database()`); n != 2 {
						return fmt.Errorf("%d audit watches", n)
					}
					return nil
				})
			}

			hb := dial(t, b.url("http"))
			signUp(t, hb, "root", "root-password")
			token := mintToken(t, db, "-u", "root", "-scope", ScopeAdmin)
			sub, err := dial(t, a.url("ws"), transport.WithBearer(token)).Subscribe(ctxT(t), "audit", nil)
			if err != nil {
				t.Fatalf("audit_subscribe on A: %v", err)
			}

			signUp(t, hb, "bob", "bob-password")
			signIn(t, hb, "bob", "bob-password")
			wantEvent(t, sub, EventSignUp, "bob")
			wantEvent(t, sub, EventSignIn, "bob")

			// The admin's token signed out on B: A's subscription ends.
			if err := dial(t, b.url("http"), transport.WithBearer(token)).Call(ctxT(t), "sign_out", nil, nil); err != nil {
				t.Fatalf("sign_out on B: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), eventuallyTimeout)
			defer cancel()
			for {
				err := sub.Next(ctx, nil) // the sign_out's own event may come first
				if err == nil {
					continue
				}
				if err := refusedRevoked(err); err != nil {
					t.Fatalf("the subscription on A: %v", err)
				}
				break
			}
			running(t, a)
			running(t, b)
			a.stop()
			b.stop()
			checkClean(t, a)
			checkClean(t, b)
			a.checkLog(token)
			b.checkLog(token)
		})
	}
}

// The event log is commit-ordered: a follower that reads while writers
// on two handles of one database append, moving its cursor past what it
// has read, misses nothing. Sweeping never brings a number back.
func TestEventLog(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"postgres", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var stores [2]Store
			if backend == "postgres" {
				url := pgtest.Start(t).NewDatabase(t)
				for i := range stores {
					s, err := OpenPostgres(context.Background(), url)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
					stores[i] = s
				}
			} else {
				path := filepath.Join(t.TempDir(), "auth.db")
				for i := range stores {
					stores[i] = openTestStore(t, path)
				}
			}
			testEventLog(t, stores)
		})
	}
}

func testEventLog(t *testing.T, stores [2]Store) {
	const writers, each = 4, 25
	ctx := ctxT(t)
	start, err := stores[0].LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 2*writers)
	for i := range 2 * writers {
		go func() {
			for j := range each {
				e := AuditEvent{Type: EventSignIn, Username: fmt.Sprintf("w%d-%d", i, j), At: time.Now().UTC()}
				if err := stores[i%2].AppendEvent(ctx, e); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	seen := map[string]bool{}
	cursor := start
	follow := func() int {
		t.Helper()
		evs, err := stores[1].EventsSince(ctx, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq <= cursor {
				t.Fatalf("event %d after cursor %d", e.Seq, cursor)
			}
			cursor = e.Seq
			if seen[e.Username] {
				t.Fatalf("%s read twice", e.Username)
			}
			seen[e.Username] = true
		}
		return len(evs)
	}
	for running := 2 * writers; running > 0; {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
			running--
		default:
			follow()
		}
	}
	for follow() > 0 { // the rest, 7 at a time
	}
	if len(seen) != 2*writers*each {
		t.Fatalf("the follower read %d events of %d", len(seen), 2*writers*each)
	}
	last, err := stores[0].LastEventSeq(ctx)
	if err != nil || last != cursor {
		t.Fatalf("LastEventSeq %d, %v; the follower's cursor %d", last, err, cursor)
	}

	// Sweep everything: the next event is still numbered after the last.
	if err := stores[1].SweepEvents(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if evs, err := stores[0].EventsSince(ctx, start, 10); err != nil || len(evs) != 0 {
		t.Fatalf("after the sweep: %v, %v", evs, err)
	}
	if err := stores[0].AppendEvent(ctx, AuditEvent{Type: EventSignOut, Username: "after", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	evs, err := stores[1].EventsSince(ctx, cursor, 10)
	if err != nil || len(evs) != 1 || evs[0].Username != "after" || evs[0].Seq <= cursor {
		t.Fatalf("after the sweep, since %d: %+v, %v", cursor, evs, err)
	}
}
