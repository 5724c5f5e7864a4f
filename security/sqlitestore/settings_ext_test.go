package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wardenrpc/warden/security/sqlitestore"
)

func TestSetting(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "warden.db"))

	if _, err := s.LookupSetting(ctx, "secret"); !errors.Is(err, sqlitestore.ErrNoSetting) {
		t.Fatalf("LookupSetting of a new setting = %v; want ErrNoSetting", err)
	}
	// LookupSetting never creates.
	if _, err := s.LookupSetting(ctx, "secret"); !errors.Is(err, sqlitestore.ErrNoSetting) {
		t.Fatalf("LookupSetting, again = %v; want ErrNoSetting", err)
	}

	boom := errors.New("boom")
	if _, err := s.Setting(ctx, "secret", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("Setting with a failing generate = %v; want its error", err)
	}
	if _, err := s.LookupSetting(ctx, "secret"); !errors.Is(err, sqlitestore.ErrNoSetting) {
		t.Errorf("a failed generate stored something: %v", err)
	}

	calls := 0
	gen := func() ([]byte, error) { calls++; return []byte("first"), nil }
	v, err := s.Setting(ctx, "secret", gen)
	must(t, err)
	v2, err := s.Setting(ctx, "secret", gen)
	must(t, err)
	if string(v) != "first" || string(v2) != "first" || calls != 1 {
		t.Errorf("Setting twice = %q, %q with %d generations; want first, first, 1", v, v2, calls)
	}
	v3, err := s.LookupSetting(ctx, "secret")
	must(t, err)
	if string(v3) != "first" {
		t.Errorf("LookupSetting = %q, want first", v3)
	}
}

// TestSettingRace generates a setting from many goroutines on two Stores
// at once: every caller must get the one value that was stored.
func TestSettingRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	stores := []*sqlitestore.Store{open(t, path), open(t, path)}
	const n = 16
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := stores[i%2].Setting(ctx, "secret", func() ([]byte, error) {
				return fmt.Appendf(nil, "value-%d", i), nil
			})
			if err != nil {
				t.Errorf("Setting: %v", err)
			}
			got[i] = string(v)
		}()
	}
	wg.Wait()
	stored, err := stores[0].LookupSetting(ctx, "secret")
	must(t, err)
	for i, v := range got {
		if v != string(stored) {
			t.Errorf("caller %d got %q; the stored value is %q", i, v, stored)
		}
	}
}

// PutSetting replaces; the last writer wins, through either handle.
func TestPutSetting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	a, b := open(t, path), open(t, path)
	for i, s := range []*sqlitestore.Store{a, b, a} {
		if err := s.PutSetting(ctx, "source", []byte(fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
		if v, err := b.LookupSetting(ctx, "source"); err != nil || string(v) != fmt.Sprint("v", i) {
			t.Fatalf("after write %d: %q %v", i, v, err)
		}
	}
}
