package pgstore_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/wardenrpc/warden/security/pgstore"
)

// Instances that start at once on a fresh database all open it, and the
// schema is applied once.
func TestOpenRace(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	const n = 8
	stores := make([]*pgstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgstore.Open(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	var rows, version, seqRows int
	pool := stores[0].Pool()
	if err := pool.QueryRow(ctx, `SELECT count(*), max(version) FROM warden_migrations`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != 2 {
		t.Errorf("warden_migrations holds %d rows, version %d; want 1 row, version 2", rows, version)
	}
	// Applied twice, the first step would have two counter rows (or failed).
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM warden_revocation_seq`).Scan(&seqRows); err != nil {
		t.Fatal(err)
	}
	if seqRows != 1 {
		t.Errorf("warden_revocation_seq holds %d rows, want 1", seqRows)
	}
}

// An application migrates its own tables under its own component, step
// by step across releases, and racing migrations apply each step once.
func TestMigrateComponent(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	s := open(t, url)
	v1 := []string{`CREATE TABLE users (id text PRIMARY KEY)`}
	v2 := append(v1, `ALTER TABLE users ADD COLUMN name text; INSERT INTO users VALUES ('root', 'Root')`)
	if err := s.Migrate(ctx, "auth", v1); err != nil {
		t.Fatalf("Migrate v1: %v", err)
	}
	others := []*pgstore.Store{open(t, url), open(t, url), open(t, url), open(t, url)}
	var wg sync.WaitGroup
	errs := make([]error, len(others))
	for i, o := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = o.Migrate(ctx, "auth", v2)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate v2 (%d): %v", i, err)
		}
	}
	var users int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil || users != 1 {
		t.Errorf("after racing migrations to v2: %d users, err %v; want the one row of step 2", users, err)
	}
	// The store's own component is untouched.
	if err := s.Migrate(ctx, pgstore.Component, nil); !errors.Is(err, pgstore.ErrNewerSchema) {
		t.Errorf("Migrate(warden, no steps) = %v, want ErrNewerSchema", err)
	}
}

// A step that fails leaves the database as it was.
func TestMigrateFailedStep(t *testing.T) {
	ctx := testContext(t)
	s := open(t, pg.Database(t))
	err := s.Migrate(ctx, "app", []string{`CREATE TABLE a (x int)`, `CREATE TABLE b (x nosuchtype)`})
	if err == nil || !strings.Contains(err.Error(), "to version 2") {
		t.Fatalf("Migrate with a bad step 2 = %v; want an error naming version 2", err)
	}
	var a *string
	if err := s.Pool().QueryRow(ctx, `SELECT to_regclass('a')::text`).Scan(&a); err != nil || a != nil {
		t.Errorf("table a after a failed migration: %v (err %v); want none", a, err)
	}
	if err := s.Migrate(ctx, "app", []string{`CREATE TABLE a (x int)`}); err != nil {
		t.Errorf("Migrate after a failed one: %v", err)
	}
}

// A program older than the database refuses to use it, and says why.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := testContext(t)
	url := pg.Database(t)
	s := open(t, url)
	if _, err := s.Pool().Exec(ctx, `UPDATE warden_migrations SET version = 5 WHERE component = 'warden'`); err != nil {
		t.Fatal(err)
	}
	_, err := pgstore.Open(ctx, url)
	if !errors.Is(err, pgstore.ErrNewerSchema) {
		t.Fatalf("Open on a newer schema = %v, want ErrNewerSchema", err)
	}
	const want = "database schema version 5 for component warden is newer than this program's 2: upgrade the program"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Open on a newer schema: %q; want it to say %q", err, want)
	}
}
