package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wardenrpc/warden/security/sqlitestore"
)

func version(t *testing.T, s *sqlitestore.Store, component string) int {
	t.Helper()
	var v int
	err := s.Reader().QueryRow(`SELECT version FROM warden_migrations WHERE component = ?`, component).Scan(&v)
	if err != nil {
		t.Fatalf("version of %q: %v", component, err)
	}
	return v
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "warden.db"))
	steps := []string{
		`CREATE TABLE users (id TEXT PRIMARY KEY)`,
		`ALTER TABLE users ADD COLUMN name TEXT; CREATE INDEX users_name ON users (name)`,
	}
	must(t, s.Migrate(ctx, "app", steps))
	if v := version(t, s, "app"); v != 2 {
		t.Errorf("version after two steps = %d, want 2", v)
	}
	// Again: nothing to do. Re-running a step would fail (no IF NOT EXISTS).
	must(t, s.Migrate(ctx, "app", steps))
	_, err := s.Writer().Exec(`INSERT INTO users (id, name) VALUES ('1', 'alice')`)
	must(t, err)

	// One more step applies only that step.
	steps = append(steps, `ALTER TABLE users ADD COLUMN email TEXT`)
	must(t, s.Migrate(ctx, "app", steps))
	if v := version(t, s, "app"); v != 3 {
		t.Errorf("version after a third step = %d, want 3", v)
	}
	var name string
	must(t, s.Reader().QueryRow(`SELECT name FROM users WHERE email IS NULL`).Scan(&name))
	if name != "alice" {
		t.Errorf("name = %q after migrating, want alice", name)
	}

	// Components are independent.
	if v := version(t, s, "warden"); v < 1 {
		t.Errorf("warden's version = %d", v)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	s := open(t, path)
	steps := []string{`CREATE TABLE a (x)`, `CREATE TABLE b (x)`, `CREATE TABLE c (x)`}
	must(t, s.Migrate(ctx, "app", steps))

	err := s.Migrate(ctx, "app", steps[:2])
	if !errors.Is(err, sqlitestore.ErrNewerSchema) {
		t.Fatalf("Migrate with fewer steps than the database has = %v; want ErrNewerSchema", err)
	}
	want := fmt.Sprintf(`open %s: database schema version 3 of "app" is newer than this program's 2: upgrade the program`, path)
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}

	// Open refuses a database whose warden tables are newer.
	_, err = s.Writer().Exec(`UPDATE warden_migrations SET version = 99 WHERE component = 'warden'`)
	must(t, err)
	if s2, err := sqlitestore.Open(ctx, path); !errors.Is(err, sqlitestore.ErrNewerSchema) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("Open of a database at warden version 99 = %v; want ErrNewerSchema", err)
	} else if !strings.Contains(err.Error(), "version 99") {
		t.Errorf("error %q does not name the database's version", err)
	}
}

func TestMigrateFailedStepChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "warden.db"))
	steps := []string{`CREATE TABLE a (x)`, `CREATE TABLE b (x); THIS IS NOT SQL`}
	if err := s.Migrate(ctx, "app", steps); err == nil || !strings.Contains(err.Error(), `migrating "app" to version 2`) {
		t.Fatalf("Migrate with a broken step = %v; want an error naming the step", err)
	}
	if v := version(t, s, "app"); v != 1 {
		t.Errorf("version after a failed second step = %d, want 1", v)
	}
	var n int
	must(t, s.Reader().QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'b'`).Scan(&n))
	if n != 0 {
		t.Error("the failed step's first statement was kept")
	}
}

// TestOpenRace opens a fresh file from several Stores at once, as servers
// started together would: each migration step must run once.
func TestOpenRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	const n = 8
	stores := make([]*sqlitestore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlitestore.Open(ctx, path)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	// Racing application migrations too.
	steps := []string{`CREATE TABLE users (id TEXT PRIMARY KEY)`, `ALTER TABLE users ADD COLUMN name TEXT`}
	for _, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Migrate(ctx, "app", steps); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		}()
	}
	wg.Wait()
	if v := version(t, stores[0], "app"); v != 2 {
		t.Errorf("app version after racing migrations = %d, want 2", v)
	}
	must(t, stores[n-1].Revoke(ctx, "id", farFuture))
	if ok, err := stores[0].IsRevoked(ctx, "id"); err != nil || !ok {
		t.Errorf("IsRevoked through another Store = %v, %v", ok, err)
	}
}
