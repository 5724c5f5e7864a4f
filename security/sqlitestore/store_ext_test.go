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

// TestFamilyClock checks that a family's RotatedAt is the store's clock
// at its start and at each rotation that succeeds.
func TestFamilyClock(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := start
	s := open(t, sqlitestore.Memory, sqlitestore.WithClock(func() time.Time { return clock }))
	rotatedAt := func() time.Time {
		t.Helper()
		st, err := s.Family(ctx, "f")
		must(t, err)
		return st.RotatedAt
	}
	must(t, s.StartFamily(ctx, "f", "alice", "t1", start.Add(time.Hour)))
	if got := rotatedAt(); !got.Equal(start) {
		t.Errorf("RotatedAt after StartFamily = %v; want the store's clock, %v", got, start)
	}
	clock = start.Add(5 * time.Second)
	must(t, s.RotateFamily(ctx, "f", "t1", "t2", start.Add(time.Hour)))
	if got := rotatedAt(); !got.Equal(clock) {
		t.Errorf("RotatedAt after RotateFamily = %v; want the store's clock, %v", got, clock)
	}
}

// TestMigrateFamiliesToStep2 opens a file whose families were written
// before step 2 (the grace window's columns): they read as never rotated
// since the epoch, with no previous token, and rotate as before.
func TestMigrateFamiliesToStep2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	exp := time.Now().Add(time.Hour).Truncate(time.Second)

	// Take a fresh file back to step 1, which is step 2 undone, and write
	// a family as a program of step 1 did.
	old, err := sqlitestore.Open(ctx, path)
	must(t, err)
	_, err = old.Writer().ExecContext(ctx, `
		ALTER TABLE warden_families DROP COLUMN prev_token;
		ALTER TABLE warden_families DROP COLUMN rotated_at;
		UPDATE warden_migrations SET version = 1 WHERE component = 'warden';
		INSERT INTO warden_families (family, subject, live_token, expires_at) VALUES ('f', 'alice', 't1', ?)`,
		exp.UnixMilli())
	must(t, err)
	must(t, old.Close())

	s := open(t, path)
	st, err := s.Family(ctx, "f")
	must(t, err)
	if st.Subject != "alice" || st.Live != "t1" || st.Previous != "" || !st.RotatedAt.Equal(time.Unix(0, 0)) || !st.Expires.Equal(exp) || st.Ended {
		t.Errorf("a family from step 1 = %+v; want alice's, live t1, no previous, rotated at the epoch, expiring %v", st, exp)
	}
	must(t, s.RotateFamily(ctx, "f", "t1", "t2", exp))
	if st, err := s.Family(ctx, "f"); err != nil || st.Live != "t2" || st.Previous != "t1" || st.RotatedAt.Equal(time.Unix(0, 0)) {
		t.Errorf("after rotating the family from step 1: %+v, %v; want live t2, previous t1, a RotatedAt of now", st, err)
	}
}
