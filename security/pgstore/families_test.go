package pgstore_test

import (
	"testing"
	"time"

	"github.com/wardenrpc/warden/security/pgstore"
)

// A family's RotatedAt is the Store's clock, not the database's, at its
// start and at each rotation that succeeds.
func TestFamilyClock(t *testing.T) {
	ctx := testContext(t)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := start
	s := open(t, pg.Database(t), pgstore.WithClock(func() time.Time { return clock }))
	rotatedAt := func() time.Time {
		t.Helper()
		st, err := s.Family(ctx, "f")
		if err != nil {
			t.Fatalf("Family: %v", err)
		}
		return st.RotatedAt
	}
	if err := s.StartFamily(ctx, "f", "alice", "t1", start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := rotatedAt(); !got.Equal(start) {
		t.Errorf("RotatedAt after StartFamily = %v; want the Store's clock, %v", got, start)
	}
	clock = start.Add(5 * time.Second)
	if err := s.RotateFamily(ctx, "f", "t1", "t2", start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := rotatedAt(); !got.Equal(clock) {
		t.Errorf("RotatedAt after RotateFamily = %v; want the Store's clock, %v", got, clock)
	}
}

// A database whose families were written before step 2 (the grace
// window's columns) reads them as never rotated since the epoch, with no
// previous token, and rotates them as before.
func TestMigrateFamiliesToStep2(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)

	// Take a fresh database back to step 1, which is step 2 undone, and
	// write a family as a program of step 1 did.
	old := open(t, url)
	if _, err := old.Pool().Exec(ctx, `
		ALTER TABLE warden_refresh_families DROP COLUMN prev_token, DROP COLUMN rotated_at;
		UPDATE warden_migrations SET version = 1 WHERE component = 'warden';`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Pool().Exec(ctx, `
		INSERT INTO warden_refresh_families (family, subject, live_token, expires_at)
		VALUES ('f', 'alice', 't1', $1)`, exp); err != nil {
		t.Fatal(err)
	}

	s := open(t, url)
	st, err := s.Family(ctx, "f")
	if err != nil {
		t.Fatalf("Family: %v", err)
	}
	if st.Subject != "alice" || st.Live != "t1" || st.Previous != "" || !st.RotatedAt.Equal(time.Unix(0, 0)) || !st.Expires.Equal(exp) || st.Ended {
		t.Errorf("a family from step 1 = %+v; want alice's, live t1, no previous, rotated at the epoch, expiring %v", st, exp)
	}
	if err := s.RotateFamily(ctx, "f", "t1", "t2", exp); err != nil {
		t.Fatalf("RotateFamily of the family from step 1: %v", err)
	}
	if st, err := s.Family(ctx, "f"); err != nil || st.Live != "t2" || st.Previous != "t1" || st.RotatedAt.Equal(time.Unix(0, 0)) {
		t.Errorf("after rotating the family from step 1: %+v, %v; want live t2, previous t1, a RotatedAt of now", st, err)
	}
}
