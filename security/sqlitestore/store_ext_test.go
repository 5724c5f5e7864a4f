package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security/sqlitestore"
	"github.com/wardenrpc/warden/security/storetest"
)

// open opens path, to be closed when t ends.
func open(t testing.TB, path string, opts ...sqlitestore.Option) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestConformance runs the kit with two Stores on one file, as two server
// instances would open it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (a, b storetest.Store) {
		path := filepath.Join(t.TempDir(), "warden.db")
		return open(t, path), open(t, path)
	})
}

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (a, b storetest.Store) {
		s := open(t, sqlitestore.Memory)
		return s, s
	})
}

// TestSweep checks that Sweep forgets what expired and keeps the rest.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	s := open(t, filepath.Join(t.TempDir(), "warden.db"))
	must(t, s.Revoke(ctx, "old", now.Add(-time.Minute)))
	must(t, s.Revoke(ctx, "live", now.Add(time.Minute)))
	must(t, s.StartFamily(ctx, "old", "alice", "t1", now.Add(-time.Minute)))
	must(t, s.StartFamily(ctx, "live", "alice", "t1", now.Add(time.Minute)))
	must(t, s.Sweep(ctx, now))

	// At a time before either expired, only what Sweep kept is left.
	past := now.Add(-time.Hour)
	got, _, err := s.RevocationsSince(ctx, 0, past)
	must(t, err)
	if len(got) != 1 || got[0].ID != "live" {
		t.Errorf("after Sweep, revocations = %v; want only live", got)
	}
	if err := s.StartFamily(ctx, "old", "bob", "t2", now.Add(time.Minute)); err != nil {
		t.Errorf("StartFamily(old) after Sweep: %v; want the expired family's id forgotten", err)
	}
	if err := s.StartFamily(ctx, "live", "bob", "t2", now.Add(time.Minute)); err == nil {
		t.Error("StartFamily(live) after Sweep succeeded; Sweep forgot a family in force")
	}
	must(t, s.Ping(ctx))
}

// TestClock checks that IsRevoked and RotateFamily read the store's clock.
func TestClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	s := open(t, sqlitestore.Memory, sqlitestore.WithClock(func() time.Time { return clock }))
	must(t, s.Revoke(ctx, "id", now.Add(time.Minute)))
	must(t, s.StartFamily(ctx, "f", "alice", "t1", now.Add(time.Minute)))
	clock = now.Add(2 * time.Minute)
	if ok, err := s.IsRevoked(ctx, "id"); err != nil || ok {
		t.Errorf("IsRevoked after its Until by the store's clock = %v, %v; want false", ok, err)
	}
	if err := s.RotateFamily(ctx, "f", "t1", "t2", clock.Add(time.Minute)); err == nil {
		t.Error("RotateFamily of a family expired by the store's clock succeeded")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
