package pgstore_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardenrpc/warden/internal/pgtest"
	"github.com/wardenrpc/warden/security/pgstore"
)

// While PostgreSQL is away, Ping and reads fail; once it is back, the
// same Store recovers by itself, and what was committed before is there.
func TestOutage(t *testing.T) {
	c := pgtest.Start(t)
	url := c.NewDatabase(t)
	ctx := testContext(t)
	s := open(t, url)
	if err := s.Revoke(ctx, "before", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	c.Stop(t)
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(short); err == nil {
		t.Error("Ping succeeded while PostgreSQL was stopped")
	}
	if _, err := s.IsRevoked(short, "before"); err == nil {
		t.Error("IsRevoked succeeded while PostgreSQL was stopped")
	}
	if _, err := pgstore.Open(short, url); err == nil {
		t.Error("Open succeeded while PostgreSQL was stopped")
	}

	c.Start(t)
	// The pool replaces its dead connections as they are used; the first
	// uses after the restart may still meet one.
	for err := s.Ping(ctx); err != nil; err = s.Ping(ctx) {
		if ctx.Err() != nil {
			t.Fatalf("Ping did not recover after PostgreSQL came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var revoked bool
	var err error
	for revoked, err = s.IsRevoked(ctx, "before"); err != nil; revoked, err = s.IsRevoked(ctx, "before") {
		if ctx.Err() != nil {
			t.Fatalf("IsRevoked did not recover: %v", err)
		}
	}
	if !revoked {
		t.Error(`after the restart, "before" is not revoked`)
	}
	if err := s.Revoke(ctx, "after", time.Now().Add(time.Hour)); err != nil {
		t.Errorf("Revoke after the restart: %v", err)
	}
	got, _, err := s.RevocationsSince(ctx, 0, time.Now())
	if err != nil || len(got) != 2 {
		t.Errorf("RevocationsSince after the restart = %v, %v; want before and after", got, err)
	}
}

// Open fails at once on a database that is not there, and its error
// never holds the password.
func TestOpenUnreachable(t *testing.T) {
	ctx := testContext(t)
	base := pg.Database(t)
	const secret = "s3cr3t-pa55word"

	refused := "postgres://warden:" + secret + "@127.0.0.1:1/warden?sslmode=disable"
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("nosuchuser", secret)
	badUser := u.String()
	for name, dsn := range map[string]string{"refused": refused, "bad user": badUser, "bad url": "postgres://warden:" + secret + "@127.0.0.1:notaport/x"} {
		_, err := pgstore.Open(ctx, dsn)
		if err == nil {
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error holds the password: %v", name, err)
		}
	}
}
