// Command auth is python-openrpc's security tutorial as a real, persistent
// server. The tutorial keeps users in a dict, signs one-hour tokens with a
// secret in its source, cannot sign a WebSocket in after it opens, and has
// no way to sign out. This server keeps the tutorial's method names and
// client, and fixes those:
//
//   - sign_up(username, password) creates a user. Names are trimmed,
//     prepared by PRECIS (RFC 8265: fullwidth letters mapped, NFC, no
//     spaces or symbols), refused when they mix scripts as look-alikes do,
//     and compared without regard to case; passwords are 8 to 1024 bytes
//     of valid UTF-8, hashed with scrypt in passlib's format.
//   - sign_in(username, password) returns {access_token, token_type,
//     expires_in, refresh_token}. An unknown user and a wrong password get
//     the same error after the same work, and failures are throttled per
//     account and per client address. Over a WebSocket it also signs the
//     connection in.
//   - require_token() needs a bearer token and returns the user, whom a
//     provider loads from the database and injects.
//   - refresh(refresh_token) rotates the pair; a spent refresh token that
//     comes back revokes its whole family, unless it comes back within
//     -refresh-grace (10 s), as from a second browser tab.
//   - sign_out() revokes the access token and its family, and signs the
//     WebSocket out.
//   - change_password(old_password, new_password) revokes every token of
//     the user and returns a new pair for this session.
//   - list_users() and delete_user(username) need the scope admin; a
//     deleted user's tokens stop working everywhere.
//   - audit_subscribe() needs the scope admin and a WebSocket: it sends
//     audit_subscription notifications {type, username, at} for every
//     sign_up, sign_in, failed sign_in (named as typed, normalized, even
//     when no such user exists), refresh, refresh_reused and sign_out made
//     on any instance sharing the database, from when it is called, until
//     audit_unsubscribe(id) or the admin's token expires or is revoked.
//     Events never hold a password or a token; they are kept in the
//     database for an hour.
//   - rpc.authenticate(token) signs a WebSocket in with a token it already
//     holds; rpc.discover returns the OpenRPC document.
//
// Users, refresh families, revoked token ids and sign-in throttle counts
// live in an embedded SQLite file (-db, default auth.db; ":memory:" for
// none), with the JWT secret unless AUTH_JWT_SECRET gives one. -db also
// takes a postgres:// URL: then several instances share one PostgreSQL
// database and all of that state. Each instance answers revocation checks
// from memory, following the database (LISTEN/NOTIFY and a poll on
// PostgreSQL, a poll on SQLite), so a sign-out on one is enforced by all
// within a second. When that state is staler than -max-staleness (default
// 5 s), protected calls fail closed and /healthz answers 503. Audit events
// travel the same way: each is a row in the database, which every instance
// follows.
//
// Failed sign-ins are throttled per account and per client address, and
// sign-ups per address. Behind a reverse proxy, -trusted-proxy names the
// proxies whose X-Forwarded-For is believed; from other peers the header
// is ignored.
//
// JSON-RPC is served over HTTP POST and WebSocket at /api/v1, the OpenRPC
// document at GET /openrpc.json and by rpc.discover, an interactive page
// to read and call every method at GET /docs, and a health check at
// GET /healthz.
//
// With -metrics, GET /metrics serves Prometheus metrics on the same
// listener, without authentication: call durations by method, error code
// and security outcome, calls running, open WebSockets and subscriptions,
// the revocation feed's lag, and the Go runtime's and the process's
// series. No series names a user, a token, a param, or a method that is
// not registered (those are all _OTHER). Do not expose it to the
// internet: let the reverse proxy refuse /metrics, and scrape the
// instance directly, or give -metrics-addr to serve /metrics on a
// listener of its own (127.0.0.1:9090, say) and not on the API's.
//
// Each call is logged at Info, one line with its method, transport,
// client address, duration, error code and, for a protected method, the
// security check's outcome; never its params or tokens. -access-log=false
// turns these lines off.
//
//	go run ./examples/auth [-addr 127.0.0.1:8080] [-db auth.db|postgres://…] [-trusted-proxy 10.0.0.0/8] [-max-staleness 5s] [-metrics] [-metrics-addr 127.0.0.1:9090]
//	go run ./examples/auth token -u NAME [-d 1h] [-scope admin] [-db auth.db|postgres://…]
//
// The second form prints an access token for an existing user, signed with
// the server's secret.
//
// AUTH_SCRYPT_LN lowers the scrypt cost (N = 2^ln, default 17) for tests
// only; the server warns in its log when it is set.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage): // the flag package has said what is wrong
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "auth:", err)
		os.Exit(1)
	}
}

// usageError is a command line the flag package refused and has already
// explained, with the usage.
type usageError struct{ error }

// parseFlags parses args into fs, which prints its own errors and usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

const usageText = `Usage:
  auth [flags]                       serve the security tutorial's API
  auth token -u NAME [flags]         print an access token for an existing user

Run "auth token -h" for the token command's flags. The server's flags:
`

// run runs the command line args: the server, or the token command. It
// returns when ctx ends (the server shuts down gracefully) or on error.
// Logs go to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	if len(args) > 0 && args[0] == "token" {
		return tokenCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	logLevel := fs.String("log-level", "info", "least severe log level shown: debug, info, warn or error (debug shows why tokens are refused, never the tokens)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := fs.String("db", "auth.db", `SQLite database file, ":memory:", or a postgres:// URL shared by several instances`)
	proxyList := fs.String("trusted-proxy", "", "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For is believed")
	maxStale := fs.Duration("max-staleness", security.DefaultMaxStaleness, "how stale the revocation state may grow before protected calls fail closed")
	grace := fs.Duration("refresh-grace", security.DefaultRefreshGrace, "how long a spent refresh token still buys the same rotation (two tabs refreshing at once); 0 turns it off")
	accessLog := fs.Bool("access-log", true, "log one line per call at Info: method, transport, client, duration, code and security outcome, never params or tokens")
	metricsAddr := fs.String("metrics-addr", "", "serve the metrics of -metrics on a listener of their own at this address (127.0.0.1:9090, say) instead of the API's; implies -metrics")
	withMetrics := fs.Bool("metrics", false, "serve Prometheus metrics at GET /metrics on the API's listener, without authentication: keep it off the internet (let the reverse proxy refuse /metrics)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	proxies, err := parseProxies(*proxyList)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (the only command is token)", fs.Arg(0))
	}
	ln, err := scryptLn(getenv)
	if err != nil {
		return err
	}
	if ln < security.DefaultScryptLn {
		logger.Warn("INSECURE: AUTH_SCRYPT_LN lowers the scrypt cost; use it for tests only, never in production",
			"ln", ln, "default", security.DefaultScryptLn)
	}

	store, err := openStoreRetrying(ctx, *dbPath, logger)
	if err != nil {
		return err
	}
	// Closing SQLite checkpoints its write-ahead log, which can fail: the
	// exit status says so.
	defer func() { err = errors.Join(err, store.Close()) }()
	secret, source, err := loadSecret(ctx, store, getenv)
	if err != nil {
		return err
	}
	if err := recordSecretSource(ctx, store, source, secret); err != nil {
		return err
	}
	a, err := newApp(store, secret, options{scryptLn: ln, trustedProxies: proxies, maxStaleness: *maxStale, refreshGrace: grace, metrics: *withMetrics || *metricsAddr != "", metricsApart: *metricsAddr != "", noAccessLog: !*accessLog}, logger)
	if err != nil {
		return err
	}
	if *maxStale <= 0 {
		return fmt.Errorf("-max-staleness %v: must be positive", *maxStale)
	}
	// Load the revocations before listening, so that the first calls can
	// be authorised; if the database fails now, the server starts closed
	// and recovers when the feed does.
	if err := a.revocations.Sync(ctx); err != nil {
		logger.Warn("revocations not loaded; protected calls fail until they are", "error", err)
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		a.run(bg)
	}()
	defer func() {
		stopBG()
		<-bgDone
	}()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	url := "http://" + l.Addr().String() + APIPath
	h, api, err := a.handler(url)
	if err != nil {
		_ = l.Close() // never served: nothing to lose
		return err
	}
	// Hardened timeouts, a minimum body rate and a connection cap: no
	// client holds a connection or an answer for ever.
	hs := transport.NewServer(h)
	hs.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	errc := make(chan error, 2)
	var ms *http.Server // the metrics' own server, with -metrics-addr
	if *metricsAddr != "" {
		ml, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			_ = l.Close() // never served: nothing to lose
			return fmt.Errorf("-metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.handler(logger))
		ms = transport.NewServer(mux)
		ms.ErrorLog = hs.ErrorLog
		logger.Info("serving metrics", "addr", ml.Addr().String(), "url", "http://"+ml.Addr().String()+"/metrics")
		go func() { errc <- fmt.Errorf("-metrics-addr: %w", ms.Serve(ml)) }()
	}
	logger.Info("listening", "addr", l.Addr().String(), "url", url, "db", redactURL(*dbPath), "secret", source, "metrics", a.metrics != nil)
	go func() { errc <- hs.Serve(l) }()
	var serveErr error
	select {
	case serveErr = <-errc: // a listener failed: the other stops too
	case <-ctx.Done():
	}

	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	servers := []*http.Server{hs}
	if ms != nil {
		servers = append(servers, ms)
	}
	done := make(chan error, len(servers)+1)
	go func() { done <- api.Shutdown(shutdown) }()
	for _, srv := range servers {
		go func() {
			err := srv.Shutdown(shutdown)
			if err != nil {
				err = errors.Join(err, srv.Close()) // past the deadline: drop what is left
			}
			done <- err
		}()
	}
	var shutErr error
	for range len(servers) + 1 {
		shutErr = errors.Join(shutErr, <-done)
	}
	switch {
	case serveErr != nil:
		return serveErr
	case shutErr != nil:
		return fmt.Errorf("shutdown: %w", shutErr)
	}
	logger.Info("stopped")
	return nil
}

// secretSetting is the name under which the store keeps the JWT secret
// made on first start; secretSourceSetting says where the server that
// started last took its secret from, so that the token command uses the
// same one or says why it cannot.
const (
	secretSetting       = "jwt_secret"
	secretSourceSetting = "jwt_secret_source" //nolint:gosec // G101: a setting's name, not a credential
)

// recordSecretSource notes where the secret came from: "database", or
// "env:" and a fingerprint of AUTH_JWT_SECRET, which tells nothing of it.
func recordSecretSource(ctx context.Context, store Store, source string, secret []byte) error {
	v := "database"
	if source != "database" {
		v = "env:" + secretFingerprint(secret)
	}
	return store.PutSetting(ctx, secretSourceSetting, []byte(v))
}

func secretFingerprint(secret []byte) string {
	sum := sha256.Sum256(append([]byte("warden auth example secret\x00"), secret...))
	return hex.EncodeToString(sum[:8])
}

// newLogger makes the server's logger from -log-level and -log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// scryptLn reads AUTH_SCRYPT_LN, or returns the default cost.
func scryptLn(getenv func(string) string) (int, error) {
	v := getenv("AUTH_SCRYPT_LN")
	if v == "" {
		return security.DefaultScryptLn, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 20 {
		return 0, fmt.Errorf("AUTH_SCRYPT_LN=%q: want a number from 1 to 20", v)
	}
	return n, nil
}

// loadSecret returns the JWT secret: AUTH_JWT_SECRET when set, which must
// be at least security.MinSecretBytes long, else the one kept in the
// store, made on first start. source says which, for the log.
func loadSecret(ctx context.Context, store Store, getenv func(string) string) (secret []byte, source string, err error) {
	if env := getenv("AUTH_JWT_SECRET"); env != "" {
		if len(env) < security.MinSecretBytes {
			return nil, "", fmt.Errorf("AUTH_JWT_SECRET is %d bytes; it must be at least %d (make one with: openssl rand -hex 32)",
				len(env), security.MinSecretBytes)
		}
		return []byte(env), "AUTH_JWT_SECRET", nil
	}
	secret, err = store.Setting(ctx, secretSetting, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("load the JWT secret: %w", err)
	}
	return secret, "database", nil
}
