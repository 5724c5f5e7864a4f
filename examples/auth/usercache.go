package main

import (
	"context"
	"sync"
	"time"
)

// userCache remembers users by id for a short while, so that a method that
// injects the signed-in user (require_token, on every call) does not pay a
// database round trip each time: on PostgreSQL that is a network hop, and
// even SQLite's read is most of the call.
//
// Staleness is bounded by ttl, which is the bound a revocation made on
// another instance takes to hold (1 s): a user deleted through this
// instance is forgotten at once, and one deleted through another instance
// stops being served here within ttl, as a revoked token does. A user's
// fields never change while it exists. The cache holds at most max users
// and is emptied when full.
type userCache struct {
	store Store
	ttl   time.Duration
	max   int
	now   func() time.Time

	mu    sync.RWMutex
	users map[string]cachedUser
}

type cachedUser struct {
	u       User
	expires time.Time
}

func newUserCache(store Store, ttl time.Duration, max int) *userCache {
	return &userCache{store: store, ttl: ttl, max: max, now: time.Now, users: map[string]cachedUser{}}
}

// byID returns the user with id, from memory when it was read less than
// ttl ago.
func (c *userCache) byID(ctx context.Context, id string) (User, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.users[id]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.u, nil
	}
	u, err := c.store.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	c.mu.Lock()
	if len(c.users) >= c.max {
		clear(c.users)
	}
	c.users[id] = cachedUser{u, now.Add(c.ttl)}
	c.mu.Unlock()
	return u, nil
}

// forget drops id, when this instance deletes it.
func (c *userCache) forget(id string) {
	c.mu.Lock()
	delete(c.users, id)
	c.mu.Unlock()
}
