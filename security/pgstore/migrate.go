package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNewerSchema matches the error of [Open] and [Store.Migrate] when the
// database's schema is newer than the program's: an older instance must
// not write to tables whose meaning it does not know. Retrying does not
// help; upgrading the program does.
var ErrNewerSchema = errors.New("pgstore: database schema is newer than this program")

// newerSchemaError says which component and which versions.
type newerSchemaError struct {
	component     string
	have, program int
}

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("pgstore: database schema version %d for component %s is newer than this program's %d: upgrade the program",
		e.have, e.component, e.program)
}

// Is makes the error match [ErrNewerSchema].
func (e *newerSchemaError) Is(target error) bool { return target == ErrNewerSchema }

// migrationLock is the key of the advisory lock that serializes
// migrations of one database, whichever the component.
const migrationLock int64 = 0x77617264656e // "warden"

// Migrate brings component's tables to version len(steps): step i (from
// 0) takes the schema from version i to i+1. The version of each
// component is kept in the table warden_migrations. Pending steps run in
// one transaction, under a transaction-scoped advisory lock, so that
// instances starting at once apply each step once, and a step that fails
// leaves the database as it was. A database whose version is higher than
// len(steps) is refused with an error that matches [ErrNewerSchema].
//
// Steps are only ever appended: a released step never changes. A step may
// hold several statements.
func (s *Store) Migrate(ctx context.Context, component string, steps []string) error {
	if component == "" {
		return errors.New("pgstore: migrate: empty component name")
	}
	// Most starts find the schema current: read the version without the
	// lock or any DDL, which a role without CREATE may not run.
	var version int
	err := s.pool.QueryRow(ctx, `SELECT version FROM warden_migrations WHERE component = $1`, component).Scan(&version)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		if version == len(steps) {
			return nil
		}
	case errors.Is(err, pgx.ErrNoRows):
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
	default:
		return fmt.Errorf("pgstore: migrate %s: %w", component, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			CREATE TABLE IF NOT EXISTS warden_migrations (
				component   text PRIMARY KEY,
				version     integer NOT NULL,
				migrated_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return err
		}
		version = 0
		err := tx.QueryRow(ctx, `SELECT version FROM warden_migrations WHERE component = $1`, component).Scan(&version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if version >= len(steps) {
			return nil
		}
		for i := version; i < len(steps); i++ {
			if _, err := tx.Exec(ctx, steps[i]); err != nil {
				return fmt.Errorf("to version %d: %w", i+1, err)
			}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO warden_migrations (component, version) VALUES ($1, $2)
			ON CONFLICT (component) DO UPDATE SET version = excluded.version, migrated_at = now()`,
			component, len(steps))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate %s: %w", component, err)
	}
	if version > len(steps) {
		return &newerSchemaError{component: component, have: version, program: len(steps)}
	}
	return nil
}

// schema is the Store's migrations, component [Component]: schema[i]
// takes the tables from version i to i+1. Append to it; never edit a
// step that has shipped.
var schema = []string{schemaV1, schemaV2}

// schemaV1 is the first version of the Store's tables. Why each one is
// shaped so is told in doc.go.
const schemaV1 = `
CREATE TABLE warden_revocation_seq (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	n   bigint NOT NULL
);
INSERT INTO warden_revocation_seq (n) VALUES (0);

CREATE TABLE warden_revocations (
	id    text PRIMARY KEY,
	until timestamptz NOT NULL,
	seq   bigint NOT NULL
);
CREATE UNIQUE INDEX warden_revocations_seq ON warden_revocations (seq);
CREATE INDEX warden_revocations_until ON warden_revocations (until);

CREATE TABLE warden_refresh_families (
	family     text PRIMARY KEY,
	subject    text NOT NULL,
	live_token text NOT NULL,
	expires_at timestamptz NOT NULL,
	ended      boolean NOT NULL DEFAULT false
);
CREATE INDEX warden_refresh_families_subject ON warden_refresh_families (subject);
CREATE INDEX warden_refresh_families_expires ON warden_refresh_families (expires_at);

CREATE TABLE warden_strikes (
	key          text PRIMARY KEY,
	n            integer NOT NULL,
	last_at      timestamptz NOT NULL,
	locked_until timestamptz NOT NULL
);
CREATE INDEX warden_strikes_last ON warden_strikes (last_at);

CREATE TABLE warden_settings (
	name  text PRIMARY KEY,
	value bytea NOT NULL
);
`

// schemaV2 adds what a refresh grace window needs
// (security.FamilyState): the token that the last rotation spent and
// when. Families from before it read as never rotated since the epoch, so
// no grace applies to them; the defaults also serve inserts that do not
// name the columns. A constant default adds a column without rewriting
// the table.
const schemaV2 = `
ALTER TABLE warden_refresh_families
	ADD COLUMN prev_token text NOT NULL DEFAULT '',
	ADD COLUMN rotated_at timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00';
`
