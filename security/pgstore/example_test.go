package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/wardenrpc/warden/security/pgstore"
)

// An application opens the store at start, with a backoff while its
// database is not up yet, and keeps its own tables beside the store's.
func ExampleOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := "postgres://warden@db.internal:5432/warden?sslmode=verify-full"

	var store *pgstore.Store
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 10*time.Second) {
		var err error
		store, err = pgstore.Open(ctx, url)
		if err == nil {
			break
		}
		if errors.Is(err, pgstore.ErrNewerSchema) || ctx.Err() != nil {
			log.Fatal(err) // retrying would not help
		}
		log.Printf("%v; retrying in %v", err, backoff)
		select {
		case <-ctx.Done():
			log.Fatal(ctx.Err())
		case <-time.After(backoff):
		}
	}
	defer store.Close()

	// The application's tables, versioned apart from the store's.
	err := store.Migrate(ctx, "auth", []string{
		`CREATE TABLE users (id text PRIMARY KEY, username text NOT NULL UNIQUE, password_hash text NOT NULL)`,
	})
	if err != nil {
		log.Fatal(err)
	}
	var users int
	if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil {
		log.Fatal(err)
	}
	fmt.Println(users, "users")
}
