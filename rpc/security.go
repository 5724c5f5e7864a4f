package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
)

// Requirement is a method's security requirement, as in OpenAPI: a list of
// alternatives, any one of which suffices. An empty Requirement means the
// method is public.
type Requirement []Alternative

// Alternative maps scheme names to the scopes that each needs. Every scheme
// named must have authenticated the caller, with every scope listed.
type Alternative map[string][]string

// Require returns a Requirement with one alternative: the named scheme with
// the given scopes. Require("bearer", "admin") reads as "a bearer credential
// with the scope admin".
func Require(scheme string, scopes ...string) Requirement {
	if scopes == nil {
		scopes = []string{}
	}
	return Requirement{{scheme: scopes}}
}

// Or returns a Requirement satisfied by r or by any of others.
func (r Requirement) Or(others ...Requirement) Requirement {
	out := slices.Clone(r)
	for _, o := range others {
		out = append(out, o...)
	}
	return out
}

// Metadata is what a transport knows about a request: its headers. An
// http.Header satisfies it.
type Metadata interface {
	Get(key string) string
}

// Credential is what a [Scheme] established about a caller.
type Credential interface {
	// HasScope reports whether the credential grants scope.
	HasScope(scope string) bool
}

// Scheme authenticates callers from transport metadata. Schemes are
// declared on a server by name with [WithScheme]; methods name them in their
// requirements.
type Scheme interface {
	// Authenticate returns the caller's credential, or (nil, nil) when the
	// metadata carries none for this scheme. A present but unusable
	// credential is an *AuthError saying why.
	Authenticate(ctx context.Context, md Metadata) (Credential, error)
	// Info describes the scheme for documentation.
	Info() SchemeInfo
}

// SchemeInfo describes a scheme as OpenAPI and OpenRPC do.
type SchemeInfo struct {
	Type         string            // "http" or "apiKey"
	Scheme       string            // for Type "http": "bearer"
	BearerFormat string            // for bearer: "JWT"
	In           string            // for Type "apiKey": "header"
	Name         string            // for Type "apiKey": the header's name
	Description  string            //
	Scopes       map[string]string // scope name to description; empty means any well-formed scope
}

// AuthError is a failed authentication. Reason is one of ReasonMissing,
// ReasonInvalid, ReasonExpired or ReasonRevoked. Err, if set, is for logs and
// is never sent.
type AuthError struct {
	Reason string
	Err    error
}

// Error describes the failure for logs, with the underlying error. It is
// never sent to callers, who see only the reason.
func (e *AuthError) Error() string {
	if e.Err != nil {
		return "auth " + e.Reason + ": " + e.Err.Error()
	}
	return "auth " + e.Reason
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }

// Credentials holds, for one request, what each declared scheme makes of
// the caller: a credential, a failure, or nothing. A scheme runs only when
// a call first needs its credential (a requirement names it, or a provider
// asks for it) and at most once per request: every call of a batch shares
// the outcome. A public method, an unknown one, or a call refused before
// its security check never runs a scheme, so a token it carries costs
// nothing.
//
// Transports make one per request with [Server.Authenticate] (from
// headers) or [Server.NewCredentials] (from credentials a connection has
// bound), and attach it to the context with [WithCredentials]. Set, Fail
// and Defer are for building it and must happen before it is shared; the
// other methods are safe for concurrent use.
type Credentials struct {
	logger  *slog.Logger
	faults  *faultLog // the server's: a stale revocation feed must not flood the log
	entries []credEntry
}

type credEntry struct {
	scheme string

	// How the credential is obtained, at most once: from md by sc, or by fn.
	once sync.Once
	sc   Scheme
	md   Metadata
	fn   func(context.Context) (Credential, error)

	cred   Credential
	reason string // set when cred is nil and the scheme failed
	fault  error  // set when the scheme could not decide (its state cannot be trusted)
}

// Set records scheme's credential, replacing an earlier one.
func (c *Credentials) Set(scheme string, cred Credential) {
	e := c.entry(scheme)
	e.once.Do(func() {})
	e.cred = cred
}

// Fail records that scheme was presented but failed for reason.
func (c *Credentials) Fail(scheme, reason string) {
	e := c.entry(scheme)
	e.once.Do(func() {})
	e.reason = reason
}

// Defer records that scheme's credential comes from fn, run when a call
// first needs it and at most once. fn returns (nil, nil) when there is no
// credential, an *[AuthError] when the one presented is unusable, and any
// other error when it cannot decide: then the calls that need the scheme
// fail with -32603, closed.
func (c *Credentials) Defer(scheme string, fn func(context.Context) (Credential, error)) {
	e := c.entry(scheme)
	e.fn = fn
}

// entry returns scheme's entry, made fresh.
func (c *Credentials) entry(scheme string) *credEntry {
	for i := range c.entries {
		if c.entries[i].scheme == scheme {
			c.entries[i] = credEntry{scheme: scheme}
			return &c.entries[i]
		}
	}
	c.entries = append(c.entries, credEntry{scheme: scheme})
	return &c.entries[len(c.entries)-1]
}

// resolved returns scheme's entry after running its scheme if it has not
// run yet, or nil when scheme has no entry.
func (c *Credentials) resolved(ctx context.Context, scheme string) *credEntry {
	if c == nil {
		return nil
	}
	for i := range c.entries {
		if e := &c.entries[i]; e.scheme == scheme {
			e.once.Do(func() { c.resolve(ctx, e) })
			return e
		}
	}
	return nil
}

func (c *Credentials) resolve(ctx context.Context, e *credEntry) {
	var cred Credential
	var err error
	switch {
	case e.fn != nil:
		cred, err = e.fn(ctx)
	case e.sc != nil:
		cred, err = e.sc.Authenticate(ctx, e.md)
	}
	e.md, e.fn = nil, nil
	if err == nil {
		e.cred = cred
		return
	}
	var ae *AuthError
	if !errors.As(err, &ae) {
		e.fault = err
		if c.faults != nil {
			c.faults.log(ctx, "authentication could not decide; failing closed", e.scheme, func() []slog.Attr {
				return []slog.Attr{slog.String("scheme", e.scheme), slog.String("error", err.Error())}
			})
		} else {
			c.log(ctx, slog.LevelError, "authentication could not decide; failing closed",
				slog.String("scheme", e.scheme), slog.String("error", err.Error()))
		}
		return
	}
	e.reason = ae.Reason
	if e.reason == "" {
		e.reason = ReasonInvalid
	}
	if e.reason == ReasonMissing {
		e.reason = ""
		return
	}
	attrs := []slog.Attr{slog.String("scheme", e.scheme), slog.String("reason", e.reason)}
	if ae.Err != nil {
		attrs = append(attrs, slog.String("cause", ae.Err.Error()))
	}
	c.log(ctx, slog.LevelDebug, "authentication failed", attrs...)
}

func (c *Credentials) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if c.logger != nil {
		c.logger.LogAttrs(ctx, level, msg, attrs...)
	}
}

// Resolve runs every scheme that has not run yet. A WebSocket handshake
// calls it to refuse a bad token before the upgrade.
func (c *Credentials) Resolve(ctx context.Context) {
	if c == nil {
		return
	}
	for i := range c.entries {
		e := &c.entries[i]
		e.once.Do(func() { c.resolve(ctx, e) })
	}
}

// Get returns scheme's credential, running the scheme first if it has not
// run for this request, or nil when there is none.
func (c *Credentials) Get(ctx context.Context, scheme string) Credential {
	if e := c.resolved(ctx, scheme); e != nil {
		return e.cred
	}
	return nil
}

// Lookup is Get with the error a call that needs the credential should
// fail with when there is none: -32001 with the reason, or -32603 when the
// scheme could not decide.
func (c *Credentials) Lookup(ctx context.Context, scheme string) (Credential, error) {
	e := c.resolved(ctx, scheme)
	switch {
	case e == nil:
		return nil, Unauthorized(ReasonMissing)
	case e.cred != nil:
		return e.cred, nil
	case e.fault != nil:
		return nil, errInternal()
	case e.reason != "":
		return nil, Unauthorized(e.reason)
	}
	return nil, Unauthorized(ReasonMissing)
}

// Failure returns the first scheme that has run and failed, and why: a
// reason, or "" when the scheme could not decide (fault is then true).
func (c *Credentials) Failure() (scheme, reason string, failed bool) {
	if c != nil {
		for i := range c.entries {
			if e := &c.entries[i]; e.cred == nil && (e.reason != "" || e.fault != nil) {
				return e.scheme, e.reason, true
			}
		}
	}
	return "", "", false
}

// Each calls fn with every scheme that has run and produced a credential.
func (c *Credentials) Each(fn func(scheme string, cred Credential)) {
	if c == nil {
		return
	}
	for i := range c.entries {
		if e := &c.entries[i]; e.cred != nil {
			fn(e.scheme, e.cred)
		}
	}
}

type credentialsKey struct{}

// WithCredentials returns a context carrying creds.
func WithCredentials(ctx context.Context, creds *Credentials) context.Context {
	return context.WithValue(ctx, credentialsKey{}, creds)
}

// CredentialsFrom returns the credentials attached to ctx, or nil.
func CredentialsFrom(ctx context.Context) *Credentials {
	c, _ := ctx.Value(credentialsKey{}).(*Credentials)
	return c
}

// NewCredentials returns empty Credentials that log through the server's
// logger, for a transport to fill with Set, Fail and Defer.
func (s *Server) NewCredentials() *Credentials {
	return &Credentials{logger: s.cfg.logger, faults: s.faults}
}

// Authenticate returns the Credentials that md carries: each declared
// scheme reads md when a call first needs it. Transports call it once per
// request, before dispatch; md must stay valid while the request runs. A
// scheme error other than *AuthError means the scheme cannot decide, and
// the calls that need it get -32603.
func (s *Server) Authenticate(md Metadata) *Credentials {
	c := &Credentials{logger: s.cfg.logger, faults: s.faults, entries: make([]credEntry, len(s.cfg.schemes))}
	for i, sc := range s.cfg.schemes {
		c.entries[i] = credEntry{scheme: sc.name, sc: sc.scheme, md: md}
	}
	return c
}

// check reports whether creds satisfy req, running the schemes it names.
// A failure is -32003 when some alternative had all its schemes
// authenticated but lacked scopes, -32603 when a scheme could not decide
// and no alternative was met, and -32001 otherwise, with the most telling
// reason.
func (req Requirement) check(ctx context.Context, creds *Credentials) *Error {
	if len(req) == 0 {
		return nil
	}
	var forbidden []string
	reason := ""
	fault := false
	for _, alt := range req {
		authed := true
		var missing []string
		for scheme, scopes := range alt {
			e := creds.resolved(ctx, scheme)
			if e == nil || e.cred == nil {
				authed = false
				r := ReasonMissing
				if e != nil {
					if e.fault != nil {
						fault = true
					}
					if e.reason != "" {
						r = e.reason
					}
				}
				if reasonRank(r) > reasonRank(reason) {
					reason = r
				}
				continue
			}
			for _, sc := range scopes {
				if !e.cred.HasScope(sc) {
					missing = append(missing, sc)
				}
			}
		}
		if !authed {
			continue
		}
		if len(missing) == 0 {
			return nil
		}
		if forbidden == nil {
			forbidden = alt.scopes()
		}
	}
	if fault {
		return errInternal()
	}
	if forbidden != nil {
		return Forbidden(forbidden)
	}
	if reason == "" {
		reason = ReasonMissing
	}
	return Unauthorized(reason)
}

// reasonRank orders failure reasons from least to most telling, so that
// the reason sent does not depend on the order in which schemes are
// checked: a revoked token says more than an expired one, which says more
// than a malformed one, which says more than none.
func reasonRank(r string) int {
	switch r {
	case ReasonMissing:
		return 1
	case ReasonInvalid:
		return 2
	case ReasonExpired:
		return 3
	case ReasonRevoked:
		return 4
	}
	return 0
}

// scopes lists every scope of the alternative, sorted and without repeats.
func (alt Alternative) scopes() []string {
	var out []string
	for _, scopes := range alt {
		out = append(out, scopes...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// validate checks r against the declared schemes at registration.
func (r Requirement) validate(schemes []namedScheme) error {
	for i, alt := range r {
		if len(alt) == 0 {
			return fmt.Errorf("security alternative %d names no scheme", i)
		}
		for name, scopes := range alt {
			var sc *namedScheme
			for j := range schemes {
				if schemes[j].name == name {
					sc = &schemes[j]
				}
			}
			if sc == nil {
				return fmt.Errorf("security names undeclared scheme %q", name)
			}
			declared := sc.info.Scopes
			for _, scope := range scopes {
				if !validScope(scope) {
					return fmt.Errorf("scheme %q: malformed scope %q", name, scope)
				}
				if len(declared) > 0 {
					if _, ok := declared[scope]; !ok {
						return fmt.Errorf("scheme %q: undeclared scope %q", name, scope)
					}
				}
			}
		}
	}
	return nil
}

// validScope reports whether s is an RFC 6749 scope-token: one or more
// printable ASCII characters other than space, '"' and '\'.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

type namedScheme struct {
	name   string
	scheme Scheme
	info   SchemeInfo
}

// Revalidator is implemented by schemes whose credentials can lapse while a
// connection that presented them stays open: tokens expire, and are
// revoked. A long-lived transport calls Revalidate before every call and
// treats an error as it would from Authenticate.
type Revalidator interface {
	Revalidate(ctx context.Context, cred Credential) error
}
