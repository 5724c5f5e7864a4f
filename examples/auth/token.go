package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wardenrpc/warden/security"
)

// tokenCommand prints an access token for an existing user, signed with
// the server's secret: like Dozer's generate-token and Brevia's
// create_token. The token belongs to no refresh family; sign_out revokes
// it like any other.
func tokenCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("auth token", flag.ContinueOnError)
	user := fs.String("u", "", "username (required)")
	ttl := fs.Duration("d", time.Hour, "how long the token lives")
	scope := fs.String("scope", "", `space-separated scopes, such as "admin"`)
	dbPath := fs.String("db", "auth.db", "the server's database: its SQLite file or postgres:// URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: auth token -u NAME [-d 1h] [-scope admin] [-db auth.db]")
	}
	if *ttl <= 0 {
		return fmt.Errorf("-d %s: the lifetime must be positive", *ttl)
	}
	scopes := strings.Fields(*scope)
	for _, s := range scopes {
		if s != ScopeAdmin {
			return fmt.Errorf("unknown scope %q (the server knows %q)", s, ScopeAdmin)
		}
	}
	if *dbPath == ":memory:" {
		return errors.New("-db :memory: holds no users: point -db at the server's database file")
	}
	store, err := openStore(ctx, *dbPath, true)
	if err != nil {
		return fmt.Errorf("%w (start the server with the same -db first)", err)
	}
	defer store.Close()
	name, err := normalizeUsername(*user)
	if err != nil {
		return fmt.Errorf("-u %q: not a valid username", *user)
	}
	u, _, err := store.UserByKey(ctx, usernameKey(name))
	if errors.Is(err, ErrNoUser) {
		return fmt.Errorf("no user %q in %s", name, redactURL(*dbPath))
	}
	if err != nil {
		return err
	}
	// The server's secret, from where the server takes it; never a new one.
	secret := []byte(getenv("AUTH_JWT_SECRET"))
	if len(secret) == 0 {
		secret, err = store.LookupSetting(ctx, secretSetting)
		if errors.Is(err, ErrNoSetting) {
			return errors.New("the database holds no JWT secret, so the server must take it from AUTH_JWT_SECRET: set it for this command too")
		}
		if err != nil {
			return err
		}
	}
	a, err := newApp(store, secret, options{scryptLn: security.DefaultScryptLn}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	token, _, err := a.issuer.IssueAccess(ctx, security.Grant{Subject: u.ID, Scopes: scopes, TTL: *ttl})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}
