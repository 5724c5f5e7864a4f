package main

import (
	"context"
	"errors"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardenrpc/warden/security/pgstore"
)

// PostgresStore is a [Store] in a PostgreSQL database that several
// instances of the server share: security/pgstore's tables, and the
// example's users. pgx prepares each statement once per connection.
type PostgresStore struct {
	*pgstore.Store
}

// usersPostgres is the users table's migrations, component "auth-example".
var usersPostgres = []string{
	`CREATE TABLE users (
		id            text PRIMARY KEY,
		username      text NOT NULL,
		username_key  text NOT NULL UNIQUE,
		password_hash text NOT NULL,
		created_at    timestamptz NOT NULL
	);
	CREATE INDEX users_created_at ON users (created_at, username_key);`,
}

// OpenPostgres connects to the database at url and brings its tables up
// to date.
func OpenPostgres(ctx context.Context, url string) (*PostgresStore, error) {
	s, err := pgstore.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx, "auth-example", usersPostgres); err != nil {
		_ = s.Close() // the migration's error is the one to report
		return nil, err
	}
	return &PostgresStore{s}, nil
}

// retryableOpen reports whether a failure to open PostgreSQL may pass: the
// server is down or starting, not refusing us for good.
func retryableOpen(err error) bool {
	if errors.Is(err, pgstore.ErrNewerSchema) || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "28", "3D", "42": // bad credentials, no such database, a schema problem
			return false
		}
	}
	return true
}

// redactURL hides the password of a database URL, for logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

// CreateUser implements [Store]. The UNIQUE constraint on username_key
// decides between racing sign-ups.
func (s *PostgresStore) CreateUser(ctx context.Context, u User, hash string) error {
	_, err := s.Pool().Exec(ctx,
		`INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Username, usernameKey(u.Username), hash, u.CreatedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "users_username_key_key" {
		return ErrUsernameTaken
	}
	return err
}

func scanPostgresUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	err := row.Scan(append([]any{&u.ID, &u.Username, &u.CreatedAt}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNoUser
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, err
}

// UserByKey implements [Store].
func (s *PostgresStore) UserByKey(ctx context.Context, key string) (User, string, error) {
	var hash string
	u, err := scanPostgresUser(s.Pool().QueryRow(ctx,
		`SELECT id, username, created_at, password_hash FROM users WHERE username_key = $1`, key), &hash)
	return u, hash, err
}

// UserByID implements [Store].
func (s *PostgresStore) UserByID(ctx context.Context, id string) (User, error) {
	return scanPostgresUser(s.Pool().QueryRow(ctx, `SELECT id, username, created_at FROM users WHERE id = $1`, id))
}

// UpdateHash implements [Store].
func (s *PostgresStore) UpdateHash(ctx context.Context, id, old, hash string) error {
	tag, err := s.Pool().Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, hash, id, old)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrHashChanged
	}
	return err
}

// DeleteUser implements [Store].
func (s *PostgresStore) DeleteUser(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE warden_refresh_families SET ended = true WHERE subject = $1`, id)
		return err
	})
}

// ListUsers implements [Store].
func (s *PostgresStore) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.Pool().Query(ctx, `SELECT id, username, created_at FROM users ORDER BY created_at, username_key`)
	if err != nil {
		return nil, err
	}
	users := []User{}
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Username, &u.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		u.CreatedAt = u.CreatedAt.UTC()
		users = append(users, u)
	}
	return users, rows.Err()
}

// LookupSetting implements [Store].
func (s *PostgresStore) LookupSetting(ctx context.Context, name string) ([]byte, error) {
	v, err := s.Store.LookupSetting(ctx, name)
	if errors.Is(err, pgstore.ErrNoSetting) {
		return nil, ErrNoSetting
	}
	return v, err
}

// Close implements [Store].
func (s *PostgresStore) Close() error { return s.Store.Close() }
