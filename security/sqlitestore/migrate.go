package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNewerSchema is what [Store.Migrate] and [Open] return, wrapped, for a
// database that a newer program has migrated further than this one knows:
// the program must be upgraded, not the database.
var ErrNewerSchema = errors.New("sqlitestore: database schema is newer than this program")

type newerSchemaError struct {
	path, component string
	db, known       int
}

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("open %s: database schema version %d of %q is newer than this program's %d: upgrade the program",
		e.path, e.db, e.component, e.known)
}

func (e *newerSchemaError) Is(target error) bool { return target == ErrNewerSchema }

// Migrate brings component's tables up to date: steps[i] takes the
// schema from version i to version i+1, and the version reached is kept
// in the table warden_migrations. Each step runs in one transaction with
// the version it reaches, so a failed step leaves the previous version,
// and two processes migrating at once apply each step once. A step may
// hold several statements.
//
// Migrate fails with [ErrNewerSchema] when the database is at a version
// beyond len(steps). An application that keeps its own tables in the
// store's file migrates them under its own component name.
func (s *Store) Migrate(ctx context.Context, component string, steps []string) error {
	if component == "" {
		return errors.New("sqlitestore: Migrate needs a component name")
	}
	for {
		done, err := s.migrateStep(ctx, component, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the step after the database's version, if any, and
// reports whether there was none left.
func (s *Store) migrateStep(ctx context.Context, component string, steps []string) (done bool, err error) {
	err = s.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS warden_migrations (
			component TEXT PRIMARY KEY,
			version   INTEGER NOT NULL
		)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM warden_migrations WHERE component = ?`, component).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		switch {
		case v > len(steps):
			return &newerSchemaError{path: s.path, component: component, db: v, known: len(steps)}
		case v == len(steps):
			done = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
			return fmt.Errorf("sqlitestore: %s: migrating %q to version %d: %w", s.path, component, v+1, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO warden_migrations (component, version) VALUES (?, ?)
			ON CONFLICT (component) DO UPDATE SET version = excluded.version`, component, v+1)
		return err
	})
	return done, err
}
