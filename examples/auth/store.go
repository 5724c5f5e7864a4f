package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wardenrpc/warden/security"
)

// Store is everything the server keeps: users with their password hashes,
// and the security state that every instance sharing the database must
// see: revocations (followed by each instance's security.RevocationCache),
// refresh families, throttle strikes, and the JWT secret when none is
// given, and the audit events (audit.go). The reusable part comes from
// security/sqlitestore and security/pgstore; the users and audit events
// tables are the example's own.
//
// Every write is one transaction.
type Store interface {
	security.RevocationLog
	security.FamilyStore
	security.ThrottleStore
	EventLog

	// CreateUser adds u with its password hash. It returns ErrUsernameTaken
	// when another user has the same username key, even when two calls race.
	CreateUser(ctx context.Context, u User, hash string) error
	// UserByKey returns the user whose username key (see usernameKey) is
	// key, with its password hash, or ErrNoUser.
	UserByKey(ctx context.Context, key string) (User, string, error)
	// UserByID returns the user with id, or ErrNoUser.
	UserByID(ctx context.Context, id string) (User, error)
	// UpdateHash replaces a user's password hash, if it is still old; it
	// returns ErrHashChanged when it is not (or the user is gone).
	UpdateHash(ctx context.Context, id, old, hash string) error
	// DeleteUser removes the user with id and ends its refresh families.
	// Deleting an unknown user is not an error.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns every user, oldest first.
	ListUsers(ctx context.Context) ([]User, error)

	// Setting returns the setting called name. The first call stores what
	// generate makes; later calls, also from other instances sharing the
	// database, return that.
	Setting(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
	// LookupSetting returns the setting called name, or ErrNoSetting. It
	// never creates one.
	LookupSetting(ctx context.Context, name string) ([]byte, error)
	// PutSetting stores value under name, replacing what was there.
	PutSetting(ctx context.Context, name string, value []byte) error
	// Sweep forgets revocations, families and strikes that have expired.
	Sweep(ctx context.Context, now time.Time) error
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Errors a Store returns.
var (
	ErrUsernameTaken = errors.New("auth: username taken")
	ErrNoUser        = errors.New("auth: no such user")
	ErrNoSetting     = errors.New("auth: no such setting")
	ErrHashChanged   = errors.New("auth: the password hash changed meanwhile")
)

// isPostgresURL reports whether -db names a PostgreSQL database rather
// than a SQLite file.
func isPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the database that -db names: a postgres:// URL, a
// SQLite file, or ":memory:". mustExist refuses to create a SQLite file
// (the token command reads the server's database, it never makes one).
func openStore(ctx context.Context, db string, mustExist bool) (Store, error) {
	if isPostgresURL(db) {
		return OpenPostgres(ctx, db)
	}
	return OpenSQLite(ctx, db, mustExist)
}

// openStoreRetrying is openStore for the server, which may start before
// its PostgreSQL: it retries with a backoff from 250 ms to 10 s, logging
// each failure, until the database answers or ctx ends. A database that
// answers but cannot be used (a newer schema, say) fails at once.
func openStoreRetrying(ctx context.Context, db string, logger *slog.Logger) (Store, error) {
	backoff := 250 * time.Millisecond
	for {
		s, err := openStore(ctx, db, false)
		if err == nil || !isPostgresURL(db) || !retryableOpen(err) {
			return s, err
		}
		logger.Warn("database unavailable; retrying", "db", redactURL(db), "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("database %s: %w (gave up: %v)", redactURL(db), err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
