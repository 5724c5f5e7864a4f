package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// countingStore counts the reads that reach the database.
type countingStore struct {
	Store
	reads atomic.Int32
}

func (c *countingStore) UserByID(ctx context.Context, id string) (User, error) {
	c.reads.Add(1)
	return c.Store.UserByID(ctx, id)
}

func TestUserCache(t *testing.T) {
	ctx := context.Background()
	base := openTestStore(t, ":memory:")
	store := &countingStore{Store: base}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newUserCache(store, time.Second, 3)
	c.now = func() time.Time { return now }
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := base.CreateUser(ctx, User{ID: id, Username: id, CreatedAt: now}, "h"); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if u, err := c.byID(ctx, "a"); err != nil || u.Username != "a" {
			t.Fatalf("byID: %+v %v", u, err)
		}
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d reads for 5 calls within the ttl, want 1", n)
	}
	// Deleted through another instance: served until the ttl passes, then refused.
	if err := base.DeleteUser(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(1001 * time.Millisecond)
	if _, err := c.byID(ctx, "a"); !errors.Is(err, ErrNoUser) {
		t.Fatalf("after the ttl, a deleted user: %v", err)
	}
	// Deleted through this instance: forgotten at once.
	if _, err := c.byID(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := base.DeleteUser(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	c.forget("b")
	if _, err := c.byID(ctx, "b"); !errors.Is(err, ErrNoUser) {
		t.Fatalf("a user forgotten here: %v", err)
	}
	// Bounded: never more than max users held.
	for i := range 10 {
		id := fmt.Sprint("x", i)
		if _, err := c.byID(ctx, []string{"c", "d"}[i%2]); err != nil {
			t.Fatal(err)
		}
		if err := base.CreateUser(ctx, User{ID: id, Username: id, CreatedAt: now}, "h"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.byID(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := len(c.users); n > 3 {
			t.Fatalf("cache holds %d users, max 3", n)
		}
	}
}
