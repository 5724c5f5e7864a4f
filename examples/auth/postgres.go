package main

import (
	"context"
	"errors"
	"net/url"
	"time"

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
	// The audit events (audit.go). Their numbers come from a counter row,
	// not a bigserial, so that they are in commit order.
	`CREATE TABLE auth_event_seq (
		one boolean PRIMARY KEY DEFAULT true CHECK (one),
		n   bigint NOT NULL
	);
	INSERT INTO auth_event_seq (n) VALUES (0);
	CREATE TABLE auth_events (
		seq      bigint PRIMARY KEY,
		type     text NOT NULL,
		username text NOT NULL,
		at       timestamptz NOT NULL
	);
	CREATE INDEX auth_events_at ON auth_events (at);`,
}

// eventChannel is the channel of LISTEN/NOTIFY on which AppendEvent
// announces a commit.
const eventChannel = "auth_events"

// eventWatchApplicationName names the audit watch's connection in
// pg_stat_activity.
const eventWatchApplicationName = "warden auth example audit watch"

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

// redactURL hides the password of a database URL, for logs. A file name
// (or ":memory:") is returned as it is.
func redactURL(s string) string {
	if !isPostgresURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable database URL)"
	}
	if q := u.Query(); q.Has("password") { // libpq's other place for it
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
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

// AppendEvent implements [EventLog]. It is one statement, so one
// transaction: taking the next number locks the counter row until commit,
// which makes the numbers commit-ordered, and the notification goes out
// when the transaction commits.
func (s *PostgresStore) AppendEvent(ctx context.Context, e AuditEvent) error {
	_, err := s.Pool().Exec(ctx, `
		WITH seq AS (
			UPDATE auth_event_seq SET n = n + 1 RETURNING n
		), e AS (
			INSERT INTO auth_events (seq, type, username, at)
			SELECT n, $1, $2, $3 FROM seq
			RETURNING 1
		)
		SELECT pg_notify('`+eventChannel+`', '') FROM e`, e.Type, e.Username, e.At)
	return err
}

// EventsSince implements [EventLog].
func (s *PostgresStore) EventsSince(ctx context.Context, cursor int64, limit int) ([]LoggedEvent, error) {
	rows, err := s.Pool().Query(ctx,
		`SELECT seq, type, username, at FROM auth_events WHERE seq > $1 ORDER BY seq LIMIT $2`, cursor, limit)
	if err != nil {
		return nil, err
	}
	var out []LoggedEvent
	for rows.Next() {
		var e LoggedEvent
		if err := rows.Scan(&e.Seq, &e.Type, &e.Username, &e.At); err != nil {
			rows.Close()
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastEventSeq implements [EventLog]. An event whose transaction has not
// committed yet holds the counter row, so no higher number is committed
// before it: every event not seen here is numbered higher.
func (s *PostgresStore) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.Pool().QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM auth_events`).Scan(&seq)
	return seq, err
}

// SweepEvents implements [EventLog].
func (s *PostgresStore) SweepEvents(ctx context.Context, t time.Time) error {
	_, err := s.Pool().Exec(ctx, `DELETE FROM auth_events WHERE at < $1`, t)
	return err
}

// WatchEvents implements [EventWatcher] with LISTEN on a connection of
// its own, outside the pool. It calls changed once it listens, and on each
// notification, until that connection fails or ctx ends.
func (s *PostgresStore) WatchEvents(ctx context.Context, changed func()) error {
	cfg := s.Pool().Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = eventWatchApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, stop := context.WithTimeout(context.Background(), time.Second)
		defer stop()
		_ = conn.Close(closeCtx) // best effort: pgx drops the connection even when its goodbye fails
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+eventChannel); err != nil {
		return err
	}
	changed()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		changed()
	}
}
