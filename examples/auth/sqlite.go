package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wardenrpc/warden/security"
)

// SQLiteStore is a [Store] in an embedded SQLite database, through the
// pure-Go driver modernc.org/sqlite: no cgo, one file.
type SQLiteStore struct {
	db  *sql.DB
	now func() time.Time
}

// schema is version 1 of the database. Times are Unix milliseconds.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL,
	username_key  TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_families (
	family     TEXT PRIMARY KEY,
	subject    TEXT NOT NULL,
	live_token TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	ended      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS refresh_families_subject ON refresh_families (subject);
CREATE TABLE IF NOT EXISTS revoked_tokens (
	id    TEXT PRIMARY KEY,
	until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
PRAGMA user_version = 1;
`

// OpenSQLite opens the database in the file path, creating it and its
// tables unless mustExist is set. The path ":memory:" keeps everything in
// memory, for one process.
func OpenSQLite(ctx context.Context, path string, mustExist bool) (*SQLiteStore, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	// Take the write lock when a transaction begins, so that two writers
	// wait for each other instead of failing to upgrade a read lock.
	q.Set("_txlock", "immediate")
	memory := path == ":memory:"
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		if mustExist {
			q.Set("mode", "rw")
		}
	}
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if memory {
		// Every connection to :memory: is a database of its own.
		db.SetMaxOpenConns(1)
	}
	s := &SQLiteStore{db: db, now: time.Now}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if mustExist {
		var version int
		if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version < 1 {
			db.Close()
			return nil, fmt.Errorf("%s holds no auth database", path)
		}
		return s, nil
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create tables in %s: %w", path, err)
	}
	return s, nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// tx runs fn in a transaction, committed when fn returns nil.
func (s *SQLiteStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// CreateUser implements [Store]. The UNIQUE constraint on username_key
// decides between racing sign-ups.
func (s *SQLiteStore) CreateUser(ctx context.Context, u User, hash string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
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
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT id, username, created_at, password_hash FROM users WHERE username_key = ?`, key), &hash)
	return u, hash, err
}

// UserByID implements [Store].
func (s *SQLiteStore) UserByID(ctx context.Context, id string) (User, error) {
	return scanUser(s.db.QueryRowContext(ctx,
		`SELECT id, username, created_at FROM users WHERE id = ?`, id))
}

// UpdateHash implements [Store].
func (s *SQLiteStore) UpdateHash(ctx context.Context, id, old, hash string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, hash, id, old)
		return err
	})
}

// DeleteUser implements [Store].
func (s *SQLiteStore) DeleteUser(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE refresh_families SET ended = 1 WHERE subject = ?`, id)
		return err
	})
}

// ListUsers implements [Store].
func (s *SQLiteStore) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, username, created_at FROM users ORDER BY created_at, username_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
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

// Revoke implements [security.RevocationStore].
func (s *SQLiteStore) Revoke(ctx context.Context, id string, until time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO revoked_tokens (id, until) VALUES (?, ?)
			 ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until)`, id, millis(until))
		return err
	})
}

// IsRevoked implements [security.RevocationStore].
func (s *SQLiteStore) IsRevoked(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM revoked_tokens WHERE id = ? AND until >= ?`, id, millis(s.now())).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// StartFamily implements [security.FamilyStore].
func (s *SQLiteStore) StartFamily(ctx context.Context, family, subject, tokenID string, expires time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO refresh_families (family, subject, live_token, expires_at) VALUES (?, ?, ?, ?)`,
			family, subject, tokenID, millis(expires))
		return err
	})
}

// RotateFamily implements [security.FamilyStore]. The UPDATE that names
// the spent token is the atomic step: of two rotations of one token, only
// one finds it live.
func (s *SQLiteStore) RotateFamily(ctx context.Context, family, spent, next string, expires time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := millis(s.now())
		res, err := tx.ExecContext(ctx,
			`UPDATE refresh_families SET live_token = ?, expires_at = ?
			 WHERE family = ? AND live_token = ? AND ended = 0 AND expires_at >= ?`,
			next, millis(expires), family, spent, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx,
			`SELECT 1 FROM refresh_families WHERE family = ? AND ended = 0 AND expires_at >= ?`, family, now).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return security.ErrUnknownFamily
		case err != nil:
			return err
		}
		return security.ErrRefreshReused
	})
}

// EndFamily implements [security.FamilyStore]. The row stays until it
// expires, so that a reuse of its tokens is still recognised.
func (s *SQLiteStore) EndFamily(ctx context.Context, family string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE refresh_families SET ended = 1 WHERE family = ?`, family)
		return err
	})
}

// Secret implements [Store].
func (s *SQLiteStore) Secret(ctx context.Context, generate func() ([]byte, error)) ([]byte, error) {
	var secret []byte
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'jwt_secret'`).Scan(&secret)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if secret, err = generate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('jwt_secret', ?)`, secret)
		return err
	})
	return secret, err
}

// Sweep implements [Store].
func (s *SQLiteStore) Sweep(ctx context.Context, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM revoked_tokens WHERE until < ?`, millis(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM refresh_families WHERE expires_at < ?`, millis(now))
		return err
	})
}

// Ping implements [Store].
func (s *SQLiteStore) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements [Store].
func (s *SQLiteStore) Close() error { return s.db.Close() }
