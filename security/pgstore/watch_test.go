package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security/pgstore"
)

// watch runs WatchRevocations on s until t ends, and returns the calls of
// changed and the watch's result, each on a channel.
func watch(t *testing.T, s *pgstore.Store) (<-chan bool, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan bool, 100)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- s.WatchRevocations(ctx, func(resync bool) { calls <- resync })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(timeout):
			t.Error("WatchRevocations did not return after its context ended")
		}
	})
	return calls, done
}

// next returns the next call of changed.
func next(t *testing.T, calls <-chan bool, done <-chan error) bool {
	t.Helper()
	select {
	case resync := <-calls:
		return resync
	case err := <-done:
		t.Fatalf("WatchRevocations returned %v", err)
	case <-time.After(timeout):
		t.Fatal("no call of changed within", timeout)
	}
	return false
}

// A revocation through one instance reaches the other's watch.
func TestWatchRevocations(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	a, b := open(t, url), open(t, url)
	calls, done := watch(t, a)
	if !next(t, calls, done) {
		t.Fatal("the first call of changed was not a resync")
	}
	if err := b.Revoke(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if next(t, calls, done) {
		t.Error("a revocation was announced as a resync; want changed(false)")
	}
	got, _, err := a.RevocationsSince(ctx, 0, time.Now())
	if err != nil || len(got) != 1 || got[0].ID != "jti-1" {
		t.Errorf("after the notification, RevocationsSince = %v, %v; want jti-1", got, err)
	}
}

// A watch whose connection is killed returns an error; called again, it
// resyncs and follows revocations again.
func TestWatchConnectionKilled(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	a, b := open(t, url), open(t, url)
	calls, done := watch(t, a)
	next(t, calls, done)

	var killed int
	err := b.Pool().QueryRow(ctx, `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'LISTEN%'`).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d LISTEN sessions (err %v); want 1", killed, err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("WatchRevocations returned nil after its connection was killed")
		}
	case <-time.After(timeout):
		t.Fatal("WatchRevocations did not return after its connection was killed")
	}

	calls, done = watch(t, a)
	if !next(t, calls, done) {
		t.Fatal("a new watch did not start with a resync")
	}
	if err := b.Revoke(ctx, "jti-2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if next(t, calls, done) {
		t.Error("a revocation was announced as a resync; want changed(false)")
	}
}

// Closing the Store ends its watches.
func TestWatchEndsOnClose(t *testing.T) {
	s, err := pgstore.Open(testContext(t), pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	calls, done := watch(t, s)
	next(t, calls, done)
	s.Close()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("WatchRevocations after Close = %v; want an error saying the store is closed", err)
		}
	case <-time.After(timeout):
		t.Fatal("WatchRevocations did not return after Close")
	}
}
