package security_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/security/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) (a, b storetest.Store) {
		s := security.NewMemoryStore()
		return s, s
	})
}

// A family's RotatedAt is the store's clock at its start and at each
// rotation that succeeds.
func TestMemoryStoreFamilyClock(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	m := &security.MemoryStore{Now: func() time.Time { return now }}
	rotatedAt := func() time.Time {
		t.Helper()
		st, err := m.Family(ctx, "f")
		if err != nil {
			t.Fatalf("Family: %v", err)
		}
		return st.RotatedAt
	}
	if err := m.StartFamily(ctx, "f", "alice", "t1", start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := rotatedAt(); !got.Equal(start) {
		t.Errorf("RotatedAt after StartFamily = %v; want the store's clock, %v", got, start)
	}
	now = start.Add(5 * time.Second)
	if err := m.RotateFamily(ctx, "f", "t1", "t2", start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := rotatedAt(); !got.Equal(now) {
		t.Errorf("RotatedAt after RotateFamily = %v; want the store's clock, %v", got, now)
	}
	rotated := now
	now = start.Add(7 * time.Second)
	if err := m.RotateFamily(ctx, "f", "t1", "t3", start.Add(time.Hour)); !errors.Is(err, security.ErrRefreshReused) {
		t.Fatalf("RotateFamily(t1) again = %v; want ErrRefreshReused", err)
	}
	if got := rotatedAt(); !got.Equal(rotated) {
		t.Errorf("RotatedAt after a reuse = %v; want it unmoved, %v", got, rotated)
	}
}
