package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wardenrpc/warden/security/sqlitestore"
)

// SQLiteStore is a [Store] in an embedded SQLite file, through the pure-Go
// driver modernc.org/sqlite: security/sqlitestore's tables (a writer
// connection and a pool of WAL readers), and the example's users.
// Processes sharing the file share everything, as instances sharing a
// PostgreSQL database do.
type SQLiteStore struct {
	*sqlitestore.Store
	userByID, userByKey, listUsers *sql.Stmt
	eventsSince, lastEventSeq      *sql.Stmt
}

// usersSQLite is the users table's migrations, component "auth-example".
// IF NOT EXISTS keeps the users of a database made before migrations.
var usersSQLite = []string{
	`CREATE TABLE IF NOT EXISTS users (
		id            TEXT PRIMARY KEY,
		username      TEXT NOT NULL,
		username_key  TEXT NOT NULL UNIQUE,
		password_hash TEXT NOT NULL,
		created_at    INTEGER NOT NULL
	);
	CREATE INDEX IF NOT EXISTS users_created_at ON users (created_at, username_key);`,
	// The audit events (audit.go). AUTOINCREMENT never hands out a number
	// again, even once the highest rows are swept, so followers' cursors
	// stay valid; write transactions are serialized, so numbers are in
	// commit order.
	`CREATE TABLE auth_events (
		seq      INTEGER PRIMARY KEY AUTOINCREMENT,
		type     TEXT NOT NULL,
		username TEXT NOT NULL,
		at       INTEGER NOT NULL
	);
	CREATE INDEX auth_events_at ON auth_events (at);`,
}

// OpenSQLite opens the database in the file path, creating it and its
// tables unless mustExist is set. The path ":memory:" keeps everything in
// memory, for one process.
func OpenSQLite(ctx context.Context, path string, mustExist bool) (*SQLiteStore, error) {
	var opts []sqlitestore.Option
	if mustExist {
		opts = append(opts, sqlitestore.WithMustExist())
	}
	st, err := sqlitestore.Open(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	s := &SQLiteStore{Store: st}
	if err := s.init(ctx); err != nil {
		_ = st.Close() // the init error is the one to report
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *SQLiteStore) init(ctx context.Context) error {
	if err := s.Migrate(ctx, "auth-example", usersSQLite); err != nil {
		return err
	}
	if err := s.adoptLegacy(ctx); err != nil {
		return err
	}
	r := s.Reader()
	var err error
	prepare := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = r.PrepareContext(ctx, q)
		return st
	}
	s.userByID = prepare(`SELECT id, username, created_at FROM users WHERE id = ?`)
	s.userByKey = prepare(`SELECT id, username, created_at, password_hash FROM users WHERE username_key = ?`)
	s.listUsers = prepare(`SELECT id, username, created_at FROM users ORDER BY created_at, username_key`)
	s.eventsSince = prepare(`SELECT seq, type, username, at FROM auth_events WHERE seq > ? ORDER BY seq LIMIT ?`)
	s.lastEventSeq = prepare(`SELECT coalesce(max(seq), 0) FROM auth_events`)
	return err
}

// adoptLegacy copies what a database made by an earlier version of this
// example kept in its own tables (the JWT secret, revocations, refresh
// families) into security/sqlitestore's, so that the tokens it issued keep
// working. It is idempotent and does nothing on a new database.
func (s *SQLiteStore) adoptLegacy(ctx context.Context) error {
	var n int
	if err := s.Reader().QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('settings', 'revoked_tokens', 'refresh_families')`).Scan(&n); err != nil {
		return err
	}
	if n != 3 {
		return nil
	}
	return s.Write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`INSERT OR IGNORE INTO warden_settings (name, value) SELECT name, value FROM settings WHERE name = 'jwt_secret'`,
			`INSERT OR IGNORE INTO warden_revocations (id, until) SELECT id, until FROM revoked_tokens`,
			`INSERT OR IGNORE INTO warden_families (family, subject, live_token, expires_at, ended)
			 SELECT family, subject, live_token, expires_at, ended FROM refresh_families`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("adopt the earlier tables: %w", err)
			}
		}
		return nil
	})
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// CreateUser implements [Store]. The UNIQUE constraint on username_key
// decides between racing sign-ups.
func (s *SQLiteStore) CreateUser(ctx context.Context, u User, hash string) error {
	return s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.ID, u.Username, usernameKey(u.Username), hash, millis(u.CreatedAt))
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return ErrUsernameTaken
		}
		return err
	})
}

func scanUser(row *sql.Row, extra ...any) (User, error) {
	var u User
	var created int64
	err := row.Scan(append([]any{&u.ID, &u.Username, &created}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNoUser
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	return u, err
}

// UserByKey implements [Store].
func (s *SQLiteStore) UserByKey(ctx context.Context, key string) (User, string, error) {
	var hash string
	u, err := scanUser(s.userByKey.QueryRowContext(ctx, key), &hash)
	return u, hash, err
}

// UserByID implements [Store].
func (s *SQLiteStore) UserByID(ctx context.Context, id string) (User, error) {
	return scanUser(s.userByID.QueryRowContext(ctx, id))
}

// UpdateHash implements [Store].
func (s *SQLiteStore) UpdateHash(ctx context.Context, id, old, hash string) error {
	return s.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, hash, id, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, ErrHashChanged)
		}
		return nil
	})
}

// DeleteUser implements [Store].
func (s *SQLiteStore) DeleteUser(ctx context.Context, id string) error {
	return s.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE warden_families SET ended = 1 WHERE subject = ?`, id)
		return err
	})
}

// ListUsers implements [Store].
func (s *SQLiteStore) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.listUsers.QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	// A full iteration closes rows and rows.Err reports how it ended; an
	// early return already carries an error.
	defer func() { _ = rows.Close() }()
	users := []User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.ID, &u.Username, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = time.UnixMilli(created).UTC()
		users = append(users, u)
	}
	return users, rows.Err()
}

// LookupSetting implements [Store].
func (s *SQLiteStore) LookupSetting(ctx context.Context, name string) ([]byte, error) {
	v, err := s.Store.LookupSetting(ctx, name)
	if errors.Is(err, sqlitestore.ErrNoSetting) {
		return nil, ErrNoSetting
	}
	return v, err
}

// AppendEvent implements [EventLog].
func (s *SQLiteStore) AppendEvent(ctx context.Context, e AuditEvent) error {
	return s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_events (type, username, at) VALUES (?, ?, ?)`,
			e.Type, e.Username, millis(e.At))
		return err
	})
}

// EventsSince implements [EventLog], on the reader pool.
func (s *SQLiteStore) EventsSince(ctx context.Context, cursor int64, limit int) ([]LoggedEvent, error) {
	rows, err := s.eventsSince.QueryContext(ctx, cursor, limit)
	if err != nil {
		return nil, err
	}
	// A full iteration closes rows and rows.Err reports how it ended; an
	// early return already carries an error.
	defer func() { _ = rows.Close() }()
	var out []LoggedEvent
	for rows.Next() {
		var e LoggedEvent
		var at int64
		if err := rows.Scan(&e.Seq, &e.Type, &e.Username, &at); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastEventSeq implements [EventLog].
func (s *SQLiteStore) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.lastEventSeq.QueryRowContext(ctx).Scan(&seq)
	return seq, err
}

// SweepEvents implements [EventLog].
func (s *SQLiteStore) SweepEvents(ctx context.Context, t time.Time) error {
	return s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_events WHERE at < ?`, millis(t))
		return err
	})
}

// Close implements [Store].
func (s *SQLiteStore) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.userByID, s.userByKey, s.listUsers, s.eventsSince, s.lastEventSeq} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.Store.Close())...)
}
