package rpc

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Credentials holds, for one request, what each declared scheme makes of
// the caller: a credential, a failure, or nothing. A scheme runs only when
// a call first needs its credential (a requirement names it, or a provider
// asks for it) and at most once per request: every call of a batch shares
// the outcome. A public method, an unknown one, or a call refused before
// its security check never runs a scheme, so a token it carries costs
// nothing.
//
// Transports make one per request with [Server.Authenticate] (from
// headers) or [Session.Credentials] (from credentials a connection has
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

	// done is set once cred, reason and fault are final, so that Each and
	// Failure can read them while a concurrent item of a batch may be
	// running the scheme.
	done atomic.Bool
}

// Set records scheme's credential, replacing an earlier one.
func (c *Credentials) Set(scheme string, cred Credential) {
	e := c.entry(scheme)
	e.once.Do(func() {})
	e.cred = cred
	e.done.Store(true)
}

// Fail records that scheme was presented but failed for reason.
func (c *Credentials) Fail(scheme, reason string) {
	e := c.entry(scheme)
	e.once.Do(func() {})
	e.reason = reason
	e.done.Store(true)
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
	defer e.done.Store(true)
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
			if e := &c.entries[i]; e.done.Load() && e.cred == nil && (e.reason != "" || e.fault != nil) {
				return e.scheme, e.reason, true
			}
		}
	}
	return "", "", false
}

// Each calls fn with every scheme that has run and produced a credential.
// It runs no scheme: in a batch, a scheme another call is running now is
// not seen.
func (c *Credentials) Each(fn func(scheme string, cred Credential)) {
	if c == nil {
		return
	}
	for i := range c.entries {
		if e := &c.entries[i]; e.done.Load() && e.cred != nil {
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
