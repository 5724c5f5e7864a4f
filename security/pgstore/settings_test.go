package pgstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/security/pgstore"
)

// Instances racing to create a setting all return the first writer's
// value, and later calls do not generate again.
func TestSettingRace(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	stores := []*pgstore.Store{open(t, url), open(t, url)}
	if _, err := stores[0].LookupSetting(ctx, "jwt_secret"); !errors.Is(err, pgstore.ErrNoSetting) {
		t.Fatalf("LookupSetting before any Setting = %v, want ErrNoSetting", err)
	}
	const n = 16
	got := make([][]byte, n)
	errs := make([]error, n)
	var generated atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = stores[i%2].Setting(ctx, "jwt_secret", func() ([]byte, error) {
				generated.Add(1)
				return fmt.Appendf(nil, "secret-%d", i), nil
			})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Setting %d: %v", i, errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("Setting %d = %q, Setting 0 = %q: racing instances disagree", i, got[i], got[0])
		}
	}
	stored, err := stores[1].LookupSetting(ctx, "jwt_secret")
	if err != nil || !bytes.Equal(stored, got[0]) {
		t.Errorf("LookupSetting = %q, %v; want %q", stored, err, got[0])
	}
	before := generated.Load()
	if _, err := stores[0].Setting(ctx, "jwt_secret", func() ([]byte, error) {
		generated.Add(1)
		return []byte("late"), nil
	}); err != nil || generated.Load() != before {
		t.Errorf("Setting on a stored setting: err %v, generate called %d more times; want 0", err, generated.Load()-before)
	}
}

// A failing generate stores nothing, and its error is returned.
func TestSettingGenerateFails(t *testing.T) {
	ctx := testContext(t)
	s := open(t, pg.Database(t))
	boom := errors.New("no entropy")
	if _, err := s.Setting(ctx, "k", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("Setting with a failing generate = %v, want %v", err, boom)
	}
	if _, err := s.LookupSetting(ctx, "k"); !errors.Is(err, pgstore.ErrNoSetting) {
		t.Errorf("LookupSetting after a failed generate = %v, want ErrNoSetting", err)
	}
}

// Sweep forgets expired revocations and families, and keeps the rest.
func TestSweep(t *testing.T) {
	ctx := testContext(t)
	s := open(t, pg.Database(t))
	now := time.Now()
	for id, until := range map[string]time.Time{"old": now.Add(-time.Hour), "live": now.Add(time.Hour)} {
		if err := s.Revoke(ctx, id, until); err != nil {
			t.Fatal(err)
		}
		if err := s.StartFamily(ctx, id, "alice", id+"-token", until); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sweep(ctx, now); err != nil {
		t.Fatal(err)
	}
	var ids []string
	err := s.Pool().QueryRow(ctx, `
		SELECT array_agg(id ORDER BY id) FROM (
			SELECT id FROM warden_revocations UNION ALL SELECT family FROM warden_refresh_families) x`).Scan(&ids)
	if err != nil || fmt.Sprint(ids) != "[live live]" {
		t.Errorf("after Sweep: %v (err %v); want the live revocation and family only", ids, err)
	}
	if err := s.StartFamily(ctx, "live", "bob", "t", now.Add(time.Hour)); err == nil {
		t.Error("StartFamily with a family id in use succeeded")
	}
}

// The Store's clock, not the database's, decides what has expired.
func TestClock(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	now := time.Now()
	s := open(t, url)
	later := open(t, url, pgstore.WithClock(func() time.Time { return now.Add(2 * time.Hour) }))
	if err := s.Revoke(ctx, "jti", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.StartFamily(ctx, "fam", "alice", "t0", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.IsRevoked(ctx, "jti"); err != nil || !ok {
		t.Errorf("IsRevoked now = %v, %v; want true", ok, err)
	}
	if ok, err := later.IsRevoked(ctx, "jti"); err != nil || ok {
		t.Errorf("IsRevoked two hours on = %v, %v; want false: the revocation has expired", ok, err)
	}
	if err := later.RotateFamily(ctx, "fam", "t0", "t1", now.Add(3*time.Hour)); !errors.Is(err, security.ErrUnknownFamily) {
		t.Errorf("RotateFamily two hours on = %v; want ErrUnknownFamily: the family has expired", err)
	}
}

// PutSetting replaces; the last writer wins, through either handle.
func TestPutSetting(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	a, b := open(t, url), open(t, url)
	for i, s := range []*pgstore.Store{a, b, a} {
		if err := s.PutSetting(ctx, "source", []byte(fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
		if v, err := b.LookupSetting(ctx, "source"); err != nil || string(v) != fmt.Sprint("v", i) {
			t.Fatalf("after write %d: %q %v", i, v, err)
		}
	}
}
