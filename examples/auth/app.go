package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// The JWT "iss" and "aud" of the example's tokens.
const (
	tokenIssuer   = "warden-examples-auth"
	tokenAudience = "warden-examples-auth"
)

// ScopeAdmin is the scope that list_users, delete_user and
// audit_subscribe need.
const ScopeAdmin = "admin"

// APIPath is where JSON-RPC is served, over HTTP POST and WebSocket.
const APIPath = "/api/v1"

// app holds what the methods share. It is built once by newApp; nothing
// in the package is global.
type app struct {
	store        Store
	users        *userCache // the store's users by id, for a second
	revocations  *security.RevocationCache
	audit        *auditFeed // the event log, followed for audit_subscribe
	hasher       *security.Hasher
	issuer       *security.Issuer
	throttle     *security.Throttle
	slots        *hashSlots     // hashing slots per client address
	proxies      []netip.Prefix // peers trusted to say who the client is
	metrics      *metrics       // nil without -metrics
	noAccessLog  bool           // -access-log=false
	metricsApart bool           // -metrics-addr: /metrics is not on the API's listener
	logger       *slog.Logger
}

// options are the server's settings beyond the store and the secret.
type options struct {
	scryptLn       int              // the scrypt cost of new hashes (security.DefaultScryptLn outside tests)
	trustedProxies []netip.Prefix   // see withClientAddr
	maxStaleness   time.Duration    // the revocation cache's bound; 0 means the default
	now            func() time.Time // the throttle's clock; nil means time.Now
	refreshGrace   *time.Duration   // the refresh grace window; nil means the default
	metrics        bool             // serve GET /metrics
	noAccessLog    bool             // no line per call
	metricsApart   bool             // serve GET /metrics on a listener of its own, not the API's
}

// newApp builds the token machinery on secret and store. Revocations are
// checked against a cache that follows the store: start it with run.
func newApp(store Store, secret []byte, o options, logger *slog.Logger) (*app, error) {
	ring, err := security.NewKeyRing(security.HS256("", secret))
	if err != nil {
		return nil, err
	}
	cacheOpts := []security.RevocationCacheOption{security.WithCacheLogger(logger)}
	if o.maxStaleness > 0 {
		cacheOpts = append(cacheOpts, security.WithMaxStaleness(o.maxStaleness))
	}
	cache, err := security.NewRevocationCache(store, cacheOpts...)
	if err != nil {
		return nil, err
	}
	v, err := security.NewVerifier(ring, tokenIssuer, tokenAudience, security.WithRevocations(cache))
	if err != nil {
		return nil, err
	}
	issOpts := []security.IssuerOption{security.WithFamilies(store), security.WithIssuerLogger(logger)}
	if o.refreshGrace != nil {
		issOpts = append(issOpts, security.WithRefreshGrace(*o.refreshGrace))
	}
	iss, err := security.NewIssuer(v, issOpts...)
	if err != nil {
		return nil, err
	}
	h, err := security.NewHasher(security.WithScryptCost(o.scryptLn, security.DefaultScryptR, security.DefaultScryptP))
	if err != nil {
		return nil, err
	}
	th, err := security.NewThrottle(store, o.now)
	if err != nil {
		return nil, err
	}
	a := &app{store: store, users: newUserCache(store, time.Second, 10000), revocations: cache, hasher: h, issuer: iss, throttle: th,
		slots: newHashSlots(hashSlotsPerAddress), proxies: o.trustedProxies, logger: logger,
		audit: newAuditFeed(store, logger), noAccessLog: o.noAccessLog, metricsApart: o.metricsApart}
	if o.metrics {
		a.metrics = newMetrics()
	}
	return a, nil
}

// run follows the store's revocations and audit events, and sweeps
// expired state, until ctx ends. The server answers meanwhile: until the first load, and whenever
// the revocation feed is staler than its bound, protected calls fail
// closed (-32603) and /healthz answers 503.
func (a *app) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		if err := a.revocations.Run(ctx); err != nil && ctx.Err() == nil {
			// Only a second Run returns before ctx ends.
			a.logger.Error("revocation feed", "error", err)
		}
	})
	wg.Go(func() { a.audit.run(ctx) })
	sweep := time.NewTicker(10 * time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-sweep.C:
			err := a.store.Sweep(ctx, now)
			if err == nil {
				err = a.store.SweepStrikes(ctx, now.Add(-maxForget))
			}
			if err == nil {
				err = a.store.SweepEvents(ctx, now.Add(-auditKeep))
			}
			if err != nil && ctx.Err() == nil {
				a.logger.Warn("sweep expired state", "error", err)
			}
		}
	}
}

// rpcServer declares the bearer scheme and the providers, and registers
// the tutorial's methods.
func (a *app) rpcServer() *rpc.Server {
	// Metrics first, so that they time what the access log costs too.
	var interceptors []rpc.Interceptor
	if a.metrics != nil {
		interceptors = append(interceptors, a.metrics.interceptor())
	}
	if !a.noAccessLog {
		interceptors = append(interceptors, logCalls(a.logger))
	}
	bearer := security.NewBearer(a.issuer.Verifier(),
		security.WithSchemeDescription("An access token from sign_in, refresh or the token command."),
		security.WithSchemeScopes(map[string]string{ScopeAdmin: "See and delete users, and follow sign-ins (list_users, delete_user, audit_subscribe)."}))
	srv := rpc.NewServer(
		rpc.WithLogger(a.logger),
		rpc.WithScheme("bearer", bearer),
		security.ProvidePrincipal("bearer"),
		rpc.ProvideSession(),
		rpc.Provide(a.currentUser),
		rpc.Provide(a.auditStart),
		rpc.WithInterceptors(interceptors...),
	)
	srv.MustRegister("sign_up", a.signUp,
		rpc.Summary("Creates a user."),
		rpc.Description("The username is trimmed, prepared by PRECIS (RFC 8265) and compared without regard to case. "+
			"A name that cannot be used gets the same error whatever the reason."),
		rpc.Errors(errSignUp()),
		rpc.Examples(rpc.Example{Name: "sign up",
			Params: []rpc.ExampleParam{{Name: "username", Value: "email@test.com"}, {Name: "password", Value: "password"}},
			Result: map[string]any{"username": "email@test.com", "created_at": "2025-01-01T00:00:00Z"}}))
	srv.MustRegister("sign_in", a.signIn,
		rpc.Summary("Exchanges a username and password for a token pair."),
		rpc.Description("Over a WebSocket it also signs the connection in. Failed attempts are throttled "+
			"per account and per client address (-32005 with retry_after_ms)."),
		rpc.Errors(errSignIn(), rpc.LimitExceeded(1000)))
	srv.MustRegister("require_token", a.requireToken,
		rpc.Summary("Returns the signed-in user."),
		rpc.Security(rpc.Require("bearer")))
	srv.MustRegister("refresh", a.refresh,
		rpc.Summary("Spends a refresh token for a new pair."),
		rpc.Description("A refresh token works once. Presenting a spent one signs out every token of its family."),
		rpc.Errors(rpc.NewError(rpc.CodeUnauthorized, "Unauthorized: the refresh token is invalid, expired, spent or revoked", nil)))
	srv.MustRegister("sign_out", a.signOut,
		rpc.Summary("Revokes the caller's access token and its refresh family."),
		rpc.Description("Over a WebSocket it also signs the connection out."),
		rpc.Security(rpc.Require("bearer")))
	srv.MustRegister("list_users", a.listUsers,
		rpc.Summary("Lists every user."),
		rpc.Security(rpc.Require("bearer", ScopeAdmin)))
	srv.MustRegister("delete_user", a.deleteUserMethod,
		rpc.Summary("Deletes a user and ends all of its tokens."),
		rpc.Description("Every token the user was issued stops working on every instance sharing the database, "+
			"WebSocket connections signed in with one included."),
		rpc.Security(rpc.Require("bearer", ScopeAdmin)))
	srv.MustRegisterSubscription("audit", a.auditSubscribe,
		rpc.Summary("Sends an event for every sign-up, sign-in, refresh and sign-out, on every instance."),
		rpc.Description("Over a WebSocket only. From the answer on, each sign_up, sign_in, failed sign_in, refresh, "+
			"reuse of a spent refresh token and sign_out made on any instance sharing the database arrives as "+
			"audit_subscription {type, username, at}. Events never hold passwords or tokens; a failed sign_in "+
			"names the user as typed, normalized, whether or not it exists. The subscription ends when the "+
			"admin's token expires or is revoked, and with -32005 when the client reads too slowly."),
		rpc.Security(rpc.Require("bearer", ScopeAdmin)))
	srv.MustRegister("change_password", a.changePassword,
		rpc.Summary("Changes the signed-in user's password and signs out their other sessions."),
		rpc.Description("The old password is checked and throttled as sign_in is. Every token issued to the user "+
			"until now is revoked; the answer is a new pair for this session, which over a WebSocket is bound to it."),
		rpc.Security(rpc.Require("bearer")),
		rpc.Errors(rpc.LimitExceeded(1000)))
	return srv
}

// handler returns the server's routes: JSON-RPC at APIPath (with or
// without a trailing slash), GET /openrpc.json, GET /healthz, and with
// -metrics (but not -metrics-addr) GET /metrics, behind the middleware that records the client's
// address. url is the API's address, for the document. It is called once
// per app.
func (a *app) handler(url string) (http.Handler, *transport.Handler, error) {
	srv := a.rpcServer()
	if err := rpc.RegisterAuthenticate(srv); err != nil {
		return nil, nil, err
	}
	docs, err := openrpc.Register(srv,
		openrpc.WithInfo(openrpc.Info{
			Title:       "Warden auth example",
			Version:     "1.0.0",
			Description: "python-openrpc's security tutorial served by Warden: sign_up, sign_in, require_token, refresh, sign_out, change_password, and for admins list_users, delete_user and audit_subscribe.",
		}),
		openrpc.WithServers(openrpc.Server{Name: "auth", URL: url}),
		openrpc.WithSignIn("sign_in", "bearer"))
	if err != nil {
		return nil, nil, err
	}
	api := transport.NewHandler(srv)
	mux := http.NewServeMux()
	mux.Handle(APIPath, api)
	mux.Handle(APIPath+"/{$}", api)
	mux.Handle("GET /openrpc.json", docs)
	page := openrpc.DocsHandler(APIPath) // an interactive page from the document
	mux.Handle("GET /docs", page)
	mux.Handle("GET /docs/", page)
	mux.HandleFunc("GET /healthz", a.healthz)
	if a.metrics != nil {
		a.metrics.watch(api, srv, a.revocations)
		if !a.metricsApart {
			mux.Handle("GET /metrics", a.metrics.handler(a.logger))
		}
	}
	return withClientAddr(mux, a.proxies), api, nil
}

// healthz answers 200 "ok" while the instance can trust its state, and 503
// otherwise, so that a load balancer takes it out: when the database does
// not answer, or the revocation feed is staler than its bound.
func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Ping(ctx); err != nil {
		a.logger.Error("health check: database", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unavailable")
		return
	}
	if err := a.revocations.Health(); err != nil {
		a.logger.Error("health check: revocations", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "revocation state stale")
		return
	}
	fmt.Fprintln(w, "ok")
}

// otherMethod names every method that is not registered, in the access
// log and the metrics: OpenTelemetry's value for an unknown method. The
// name the caller sent is theirs to choose; it could hold anything, and a
// series per name would grow without bound.
const otherMethod = "_OTHER"

// errPanicked is what a call that panicked is answered with, as the
// engine sends it.
var errPanicked = rpc.NewError(rpc.CodeInternalError, "Internal error", nil)

// methodName is m's name for the log and the metrics.
func methodName(m *rpc.Method) string {
	if !m.Registered() {
		return otherMethod
	}
	return m.Name
}

// logCalls logs every call's method, outcome and duration: never its
// params, which hold passwords and tokens. For a protected method it adds
// what the security check came to (rpc.AuthResult); a call that failed
// later, in its handler, passed it.
func logCalls(logger *slog.Logger) rpc.Interceptor {
	return func(next rpc.Handler) rpc.Handler {
		return func(ctx context.Context, req *rpc.Request) (res any, err error) {
			start := time.Now()
			returned := false
			defer func() {
				sent := err
				if !returned { // a panic: the engine answers -32603 and logs its stack
					sent = errPanicked
				}
				transport := "http"
				if rpc.SessionFrom(ctx) != nil {
					transport = "ws"
				}
				attrs := []any{"method", methodName(req.Method), "transport", transport, "client", clientAddr(ctx),
					"duration", time.Since(start).Round(time.Microsecond)}
				if e := rpc.ErrorOf(sent); e != nil {
					attrs = append(attrs, "code", e.Code)
				}
				if auth := rpc.AuthResult(req.Method, sent); auth != "" {
					attrs = append(attrs, "auth", auth)
				}
				logger.Info("call", attrs...)
			}()
			res, err = next(ctx, req)
			returned = true
			return res, err
		}
	}
}
