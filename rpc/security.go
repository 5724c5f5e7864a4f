package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
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

// Credentials holds the outcome of every declared scheme for one request: a
// credential, a failure, or nothing. Transports fill it and attach it to the
// context with [WithCredentials]; the engine reads it to check requirements.
type Credentials struct {
	entries []credEntry
}

type credEntry struct {
	scheme string
	cred   Credential
	reason string // set when cred is nil and the scheme failed
}

// Set records scheme's credential, replacing an earlier one.
func (c *Credentials) Set(scheme string, cred Credential) {
	c.put(credEntry{scheme: scheme, cred: cred})
}

// Fail records that scheme was presented but failed for reason.
func (c *Credentials) Fail(scheme, reason string) {
	c.put(credEntry{scheme: scheme, reason: reason})
}

func (c *Credentials) put(e credEntry) {
	for i := range c.entries {
		if c.entries[i].scheme == e.scheme {
			c.entries[i] = e
			return
		}
	}
	c.entries = append(c.entries, e)
}

// Get returns scheme's credential, or nil.
func (c *Credentials) Get(scheme string) Credential {
	if c == nil {
		return nil
	}
	for _, e := range c.entries {
		if e.scheme == scheme {
			return e.cred
		}
	}
	return nil
}

// Failure returns the first scheme that was presented but failed, and why.
// A WebSocket handshake uses it to refuse a bad token before the upgrade.
func (c *Credentials) Failure() (scheme, reason string, failed bool) {
	if c != nil {
		for _, e := range c.entries {
			if e.cred == nil && e.reason != "" {
				return e.scheme, e.reason, true
			}
		}
	}
	return "", "", false
}

// Each calls fn with every scheme that produced a credential.
func (c *Credentials) Each(fn func(scheme string, cred Credential)) {
	if c == nil {
		return
	}
	for _, e := range c.entries {
		if e.cred != nil {
			fn(e.scheme, e.cred)
		}
	}
}

func (c *Credentials) reason(scheme string) string {
	if c != nil {
		for _, e := range c.entries {
			if e.scheme == scheme && e.cred == nil && e.reason != "" {
				return e.reason
			}
		}
	}
	return ReasonMissing
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

// Authenticate runs every scheme declared on s against md and returns the
// outcome. Transports call it once per request, before dispatch. A scheme
// that returns an error other than *AuthError is recorded as invalid.
func (s *Server) Authenticate(ctx context.Context, md Metadata) *Credentials {
	creds := &Credentials{}
	for _, sc := range s.cfg.schemes {
		cred, err := sc.scheme.Authenticate(ctx, md)
		switch {
		case err != nil:
			reason := ReasonInvalid
			var ae *AuthError
			if errors.As(err, &ae) && ae.Reason != "" {
				reason = ae.Reason
			}
			if reason != ReasonMissing {
				creds.Fail(sc.name, reason)
			}
			s.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "authentication failed",
				slog.String("scheme", sc.name), slog.String("reason", reason))
		case cred != nil:
			creds.Set(sc.name, cred)
		}
	}
	return creds
}

// check reports whether creds satisfy req. A failure is -32003 when some
// alternative had all its schemes authenticated but lacked scopes, and
// -32001 otherwise, with the most telling reason.
func (req Requirement) check(creds *Credentials) *Error {
	if len(req) == 0 {
		return nil
	}
	var forbidden []string
	reason := ""
	for _, alt := range req {
		authed := true
		var missing []string
		for scheme, scopes := range alt {
			cred := creds.Get(scheme)
			if cred == nil {
				authed = false
				if r := creds.reason(scheme); reasonRank(r) > reasonRank(reason) {
					reason = r
				}
				continue
			}
			for _, sc := range scopes {
				if !cred.HasScope(sc) {
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
