package security_test

import (
	"context"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
)

// Watch tells of revocations made here and read from the log, coalesced,
// and never holds the cache up: nobody reads the first channel here.
func TestRevocationCacheWatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := security.NewMemoryStore()
	here, err := security.NewRevocationCache(store)
	if err != nil {
		t.Fatal(err)
	}
	there, err := security.NewRevocationCache(store)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*security.RevocationCache{here, there} {
		if err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ignored, stopIgnored := here.Watch()
	defer stopIgnored()
	changes, stop := here.Watch()

	for i := 0; i < 3; i++ { // three changes, one value
		if err := here.Revoke(ctx, "jti-"+string(rune('a'+i)), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	<-changes
	select {
	case <-changes:
		t.Fatal("changes were not coalesced")
	default:
	}

	// Another instance revokes; this one hears of it when it reads the log.
	if err := there.Revoke(ctx, "jti-elsewhere", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := here.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-ctx.Done():
		t.Fatal("a revocation read from the log was not told")
	}
	// A read that finds nothing new tells nothing.
	if err := here.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
		t.Fatal("told of no change")
	default:
	}
	stop()
	stop() // twice is fine
	if err := here.Revoke(ctx, "jti-late", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
		t.Fatal("told after stop")
	default:
	}
	if len(ignored) != 1 {
		t.Fatalf("the unread channel holds %d values; want 1", len(ignored))
	}
}
