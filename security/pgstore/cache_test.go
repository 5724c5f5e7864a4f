package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wardenrpc/warden/internal/pgtest"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/security/pgstore"
)

// runCache runs a RevocationCache over s until t ends.
func runCache(t *testing.T, s *pgstore.Store, opts ...security.RevocationCacheOption) *security.RevocationCache {
	t.Helper()
	c, err := security.NewRevocationCache(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx) // ends with ctx's error; the cleanup below checks that it ends
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(timeout):
			t.Error("RevocationCache.Run did not return after its context ended")
		}
	})
	return c
}

// eventually waits until cond holds, failing t after timeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}

// A cache on one instance learns of a revocation made on another by the
// push alone: its poll interval is an hour.
func TestCacheFollowsPush(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	a, b := open(t, url), open(t, url)
	c := runCache(t, a, security.WithPollInterval(time.Hour), security.WithMaxStaleness(2*time.Hour))
	eventually(t, "the cache loads the log", func() bool { return c.Health() == nil })
	// The watch may not listen yet: revoke until one reaches the cache.
	// Each id is new, so the cache cannot have it from its first load.
	for i := 0; ; i++ {
		id := fmt.Sprint("jti-", i)
		if err := b.Revoke(ctx, id, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got := false
		for range 100 {
			if got, _ = c.IsRevoked(ctx, id); got {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got {
			return
		}
		if ctx.Err() != nil {
			t.Fatal("no revocation reached the cache by push")
		}
	}
}

// While PostgreSQL is away the cache fails closed past its staleness
// bound, and recovers by itself when it is back.
func TestCacheOutage(t *testing.T) {
	cl := pgtest.Start(t)
	url := cl.NewDatabase(t)
	ctx := testContext(t)
	a, b := open(t, url), open(t, url)
	c := runCache(t, a, security.WithPollInterval(50*time.Millisecond), security.WithMaxStaleness(time.Second))
	eventually(t, "the cache loads the log", func() bool { return c.Health() == nil })

	cl.Stop(t)
	eventually(t, "the cache fails closed", func() bool {
		_, err := c.IsRevoked(ctx, "x")
		return errors.Is(err, security.ErrRevocationsStale)
	})
	cl.Start(t)
	eventually(t, "the cache recovers", func() bool { return c.Health() == nil })
	eventually(t, "a revocation on the other instance reaches it", func() bool {
		if err := b.Revoke(ctx, "after", time.Now().Add(time.Hour)); err != nil {
			return false // the pool may still meet a dead connection
		}
		ok, err := c.IsRevoked(ctx, "after")
		return ok && err == nil
	})
}
