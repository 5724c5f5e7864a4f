package sqlitestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/wardenrpc/warden/security/sqlitestore"
)

// Two servers open one file. A token revoked through one is revoked for
// the other, and the other's revocation log shows it.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "warden")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory: best effort
	path := filepath.Join(dir, "warden.db")

	a, err := sqlitestore.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	b, err := sqlitestore.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	// The application keeps its own tables in the same file.
	err = a.Migrate(ctx, "app", []string{`CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL)`})
	if err != nil {
		log.Fatal(err)
	}

	if err := a.Revoke(ctx, "token-1", time.Now().Add(time.Hour)); err != nil {
		log.Fatal(err)
	}
	revoked, err := b.IsRevoked(ctx, "token-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked on b:", revoked)

	revs, cursor, err := b.RevocationsSince(ctx, 0, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("b's log:", revs[0].ID, "cursor", cursor)
	// Output:
	// revoked on b: true
	// b's log: token-1 cursor 1
}
