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
func tokenCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("auth token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("u", "", "username (required)")
	ttl := fs.Duration("d", time.Hour, "how long the token lives")
	scope := fs.String("scope", "", `space-separated scopes, such as "admin"`)
	dbPath := fs.String("db", "auth.db", "the server's database: its SQLite file or postgres:// URL")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: auth token -u NAME [-d 1h] [-scope admin] [-db auth.db|postgres://…]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" || fs.NArg() > 0 {
		err := errors.New("-u is required")
		if fs.NArg() > 0 {
			err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return usageError{err}
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
	defer func() { _ = store.Close() }() // the command only reads
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
	secret, err := serverSecret(ctx, store, getenv("AUTH_JWT_SECRET"))
	if err != nil {
		return err
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

// serverSecret returns the secret the server signs with, from where the
// server that started last took it, or says why it cannot: a token signed
// with another secret would be refused without a word. It never makes a
// secret.
func serverSecret(ctx context.Context, store Store, env string) ([]byte, error) {
	source, err := store.LookupSetting(ctx, secretSourceSetting)
	switch {
	case errors.Is(err, ErrNoSetting): // a server older than the record: trust the environment
		if env != "" {
			return []byte(env), nil
		}
	case err != nil:
		return nil, err
	}
	if fp, ok := strings.CutPrefix(string(source), "env:"); ok {
		switch {
		case env == "":
			return nil, errors.New("the server takes its secret from AUTH_JWT_SECRET: set it for this command too")
		case secretFingerprint([]byte(env)) != fp:
			return nil, errors.New("AUTH_JWT_SECRET is not the one the server started with")
		}
		return []byte(env), nil
	}
	if env != "" {
		return nil, errors.New("the server keeps its secret in the database, not in AUTH_JWT_SECRET: unset it for this command")
	}
	secret, err := store.LookupSetting(ctx, secretSetting)
	if errors.Is(err, ErrNoSetting) {
		return nil, errors.New("the database holds no JWT secret: start the server on it first")
	}
	return secret, err
}
