package main

import (
	"context"
	"errors"
	"time"

	"github.com/wardenrpc/warden/security"
)

// Store is everything the server keeps: users with their password hashes,
// the refresh families and revoked token ids that package security asks
// for, and the JWT secret when none is given. [SQLiteStore] is the one this
// example ships; a PostgreSQL store would implement the same interface in
// a file beside it.
//
// Every write is one transaction.
type Store interface {
	security.RevocationStore
	security.FamilyStore

	// CreateUser adds u with its password hash. It returns ErrUsernameTaken
	// when another user has the same username key, even when two calls race.
	CreateUser(ctx context.Context, u User, hash string) error
	// UserByKey returns the user whose username key (see usernameKey) is
	// key, with its password hash, or ErrNoUser.
	UserByKey(ctx context.Context, key string) (User, string, error)
	// UserByID returns the user with id, or ErrNoUser.
	UserByID(ctx context.Context, id string) (User, error)
	// UpdateHash replaces a user's password hash, if it is still old.
	UpdateHash(ctx context.Context, id, old, hash string) error
	// DeleteUser removes the user with id and ends its refresh families.
	// Deleting an unknown user is not an error.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns every user, oldest first.
	ListUsers(ctx context.Context) ([]User, error)

	// Secret returns the stored JWT secret. The first call stores the
	// secret that generate makes; later calls, also from other processes
	// sharing the database, return that one.
	Secret(ctx context.Context, generate func() ([]byte, error)) ([]byte, error)
	// Sweep forgets revocations and families whose tokens expired before
	// now.
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
)
