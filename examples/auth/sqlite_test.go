package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
)

func openTestStore(t testing.TB, path string) *SQLiteStore {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The store is the security package's RevocationStore and FamilyStore.
var (
	_ security.RevocationStore = (*SQLiteStore)(nil)
	_ security.FamilyStore     = (*SQLiteStore)(nil)
	_ Store                    = (*SQLiteStore)(nil)
)

func TestSQLiteRacingCreateUser(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "auth.db"))
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"Ada", "ada", "ADA", "aDa"}[i%4]
			errs[i] = s.CreateUser(ctx, User{ID: fmt.Sprint("id", i), Username: name, CreatedAt: time.Now()}, "hash")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrUsernameTaken):
			t.Errorf("CreateUser: %v", err)
		}
	}
	users, err := s.ListUsers(ctx)
	if ok != 1 || err != nil || len(users) != 1 {
		t.Errorf("%d creations succeeded, users %v (%v); want one", ok, users, err)
	}
}

func TestSQLitePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	ctx := context.Background()
	s := openTestStore(t, path)
	gen := func(b byte) func() ([]byte, error) {
		return func() ([]byte, error) { return []byte{b}, nil }
	}
	first, err := s.Setting(ctx, secretSetting, gen(1))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateUser(ctx, User{ID: "u1", Username: "Ada", CreatedAt: created}, "h1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "jti-live", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "jti-old", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTestStore(t, path)
	if again, err := s.Setting(ctx, secretSetting, gen(2)); err != nil || string(again) != string(first) {
		t.Errorf("secret after reopening: %v %v, want %v", again, err, first)
	}
	u, hash, err := s.UserByKey(ctx, usernameKey("ada"))
	if err != nil || u.ID != "u1" || u.Username != "Ada" || !u.CreatedAt.Equal(created) || hash != "h1" {
		t.Errorf("UserByKey: %+v %q %v", u, hash, err)
	}
	if r, err := s.IsRevoked(ctx, "jti-live"); !r || err != nil {
		t.Errorf("jti-live: %v %v", r, err)
	}
	if r, err := s.IsRevoked(ctx, "jti-old"); r || err != nil {
		t.Errorf("jti-old, expired: %v %v", r, err)
	}
	if err := s.Sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.StartFamily(ctx, "f1", "u1", "t1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateFamily(ctx, "f1", "t1", "t2", time.Now().Add(time.Hour)); !errors.Is(err, security.ErrUnknownFamily) {
		t.Errorf("a deleted user's family rotates: %v", err)
	}
	if _, err := s.UserByID(ctx, "u1"); !errors.Is(err, ErrNoUser) {
		t.Errorf("deleted user: %v", err)
	}
	if _, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "none.db"), true); err == nil {
		t.Error("opening a missing database with mustExist succeeded")
	}
	if _, err := s.LookupSetting(ctx, "nothing"); !errors.Is(err, ErrNoSetting) {
		t.Errorf("LookupSetting of a missing setting: %v, want ErrNoSetting", err)
	}
}

// A database made by the example before security/sqlitestore keeps its JWT
// secret, revocations and families, so that tokens it issued still work.
func TestSQLiteAdoptsLegacyTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "auth.db")
	legacy := openTestStore(t, path)
	until := time.Now().Add(time.Hour).UnixMilli()
	for _, q := range []string{
		`CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL)`,
		`CREATE TABLE revoked_tokens (id TEXT PRIMARY KEY, until INTEGER NOT NULL)`,
		`CREATE TABLE refresh_families (family TEXT PRIMARY KEY, subject TEXT NOT NULL, live_token TEXT NOT NULL, expires_at INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0)`,
		`INSERT INTO settings VALUES ('jwt_secret', x'0102')`,
		fmt.Sprintf(`INSERT INTO revoked_tokens VALUES ('old-jti', %d)`, until),
		fmt.Sprintf(`INSERT INTO refresh_families VALUES ('old-fam', 'u1', 't1', %d, 0)`, until),
	} {
		if _, err := legacy.Writer().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	legacy.Close()
	s := openTestStore(t, path)
	if v, err := s.LookupSetting(ctx, secretSetting); err != nil || string(v) != "\x01\x02" {
		t.Errorf("secret: %x %v", v, err)
	}
	if r, err := s.IsRevoked(ctx, "old-jti"); !r || err != nil {
		t.Errorf("old revocation: %v %v", r, err)
	}
	if err := s.RotateFamily(ctx, "old-fam", "t1", "t2", time.Now().Add(time.Hour)); err != nil {
		t.Errorf("old family: %v", err)
	}
}
