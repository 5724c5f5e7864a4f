package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
)

// TokenScheme is a [Scheme] that also accepts a bare token presented
// in-band, on a connection that is already open, rather than in a
// request's metadata. [Session.Authenticate], and so the reserved method
// rpc.authenticate, work only with schemes that implement it: the scheme,
// not the transport, knows what its tokens look like.
type TokenScheme interface {
	Scheme
	// AuthenticateToken returns the credential that token stands for. It
	// fails as Authenticate does: an *AuthError when the token is unusable,
	// any other error when the scheme cannot decide.
	AuthenticateToken(ctx context.Context, token string) (Credential, error)
}

// Session is what a connection that outlives one request keeps between
// its calls: the credentials bound to it, and a way to send its client
// notifications. It holds nothing of the transport, so any transport that
// keeps connections open (WebSocket, stdio, raw TCP, a test's pipe) uses
// it the same way:
//
//	sess := rpc.NewSession(srv, send) // once per connection
//	ctx := rpc.WithSession(connCtx, sess)
//	…
//	callCtx := rpc.WithCredentials(ctx, sess.Credentials()) // once per message
//	resp := srv.Handle(callCtx, msg)
//
// Methods ask for the session by taking a *Session argument, made
// injectable by [ProvideSession]; over a transport without sessions, such
// as HTTP, the injected *Session is nil.
//
// A transport binds the credentials that the connection presented when it
// opened. A method binds others with [Session.Bind] (an application's
// sign_in does so) or [Session.Authenticate] (a token presented in-band),
// and removes them with [Session.Unbind] or [Session.Clear] (sign_out).
// Binding replaces the set of bound credentials rather than changing it,
// so a call in flight keeps the set it started with. Each call re-checks
// what is bound, lazily: a bound credential is passed to its scheme's
// [Revalidator] only when the call needs it, at most once per message,
// so expiry and revocation take effect on the next call that relies on
// them. A Session is safe for concurrent use.
type Session struct {
	srv  *Server
	send func(ctx context.Context, msg []byte) error

	mu    sync.Mutex                  // serializes changes to bound
	bound atomic.Pointer[[]boundCred] // replaced, never changed in place: calls keep a snapshot

	subs sessionSubs // its subscriptions (subscription_live.go)
}

type boundCred struct {
	scheme string
	cred   Credential
	check  func(context.Context) (Credential, error) // re-checks cred for one call
}

// ErrNoNotifications is returned by [Session.Notify] on a session whose
// transport cannot send its client messages of its own.
var ErrNoNotifications = errors.New("rpc: this session cannot send notifications")

// NewSession returns the Session of one connection to srv. send writes one
// encoded message to the connection's client; [Session.Notify] calls it,
// from any goroutine and concurrently with the transport's own writes, and
// returns its error. send may be nil when the transport cannot push
// messages: Notify then returns [ErrNoNotifications].
func NewSession(srv *Server, send func(ctx context.Context, msg []byte) error) *Session {
	return &Session{srv: srv, send: send}
}

type sessionKey struct{}

// WithSession returns a context carrying sess, for the calls of its
// connection.
func WithSession(ctx context.Context, sess *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, sess)
}

// SessionFrom returns the session of the call in ctx, or nil when its
// transport keeps none (HTTP).
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// ProvideSession makes *Session injectable into methods: the session of
// the call's connection, or nil over a transport without sessions. Give it
// to [NewServer].
func ProvideSession() Option {
	return Provide(func(ctx context.Context) (*Session, error) {
		return SessionFrom(ctx), nil
	})
}

// Bind binds cred to the session under scheme, replacing what was bound
// there. Later calls on the connection carry it.
func (s *Session) Bind(scheme string, cred Credential) {
	check := s.checker(scheme, cred)
	s.update(func(old []boundCred) []boundCred {
		next := make([]boundCred, 0, len(old)+1)
		for _, b := range old {
			if b.scheme != scheme {
				next = append(next, b)
			}
		}
		return append(next, boundCred{scheme: scheme, cred: cred, check: check})
	})
}

// Unbind removes the credential bound under scheme.
func (s *Session) Unbind(scheme string) {
	s.update(func(old []boundCred) []boundCred {
		var next []boundCred
		for _, b := range old {
			if b.scheme != scheme {
				next = append(next, b)
			}
		}
		return next
	})
}

// Clear removes every bound credential: the connection is anonymous again.
func (s *Session) Clear() {
	s.update(func([]boundCred) []boundCred { return nil })
}

// update replaces the bound set with fn's result; fn must not change the
// slice it is given.
func (s *Session) update(fn func(old []boundCred) []boundCred) {
	s.mu.Lock()
	next := fn(s.snapshot())
	s.bound.Store(&next)
	s.mu.Unlock()
	s.subs.recheck() // a subscription ends at once when what opened it is gone
}

func (s *Session) snapshot() []boundCred {
	if p := s.bound.Load(); p != nil {
		return *p
	}
	return nil
}

// checker returns the function that re-checks cred for one call: the
// scheme's Revalidate when it has one.
func (s *Session) checker(scheme string, cred Credential) func(context.Context) (Credential, error) {
	sc, _ := s.srv.Scheme(scheme)
	rv, ok := sc.(Revalidator)
	if !ok {
		return func(context.Context) (Credential, error) { return cred, nil }
	}
	return func(ctx context.Context) (Credential, error) {
		if err := rv.Revalidate(ctx, cred); err != nil {
			return nil, err
		}
		return cred, nil
	}
}

// Credential returns the credential bound under scheme, or nil. It is not
// re-checked; the call's own credentials ([CredentialsFrom]) are.
func (s *Session) Credential(scheme string) Credential {
	for _, b := range s.snapshot() {
		if b.scheme == scheme {
			return b.cred
		}
	}
	return nil
}

// Credentials returns the credentials for one message on the connection:
// those bound now, each re-checked only if a call needs it. A transport
// attaches them to the message's context with [WithCredentials].
func (s *Session) Credentials() *Credentials {
	creds := s.srv.NewCredentials()
	for _, b := range s.snapshot() {
		creds.Defer(b.scheme, b.check)
	}
	return creds
}

// Authenticate has the server's scheme named scheme, which must implement
// [TokenScheme], read token, and binds the credential on success. Its
// error is an *[Error] for the caller: CodeInvalidParams (data naming
// "scheme") for an undeclared scheme or one that cannot take a token
// in-band, CodeUnauthorized with the reason for a missing or unusable
// token, and CodeInternalError, logged, when the scheme cannot decide.
// What was bound before stays bound when it fails.
func (s *Session) Authenticate(ctx context.Context, scheme, token string) error {
	sc, ok := s.srv.Scheme(scheme)
	if !ok {
		return InvalidParams("scheme", "no such scheme")
	}
	ts, ok := sc.(TokenScheme)
	if !ok {
		return InvalidParams("scheme", "this scheme cannot take a token in-band")
	}
	if token == "" {
		return Unauthorized(ReasonMissing)
	}
	cred, err := ts.AuthenticateToken(ctx, token)
	if err != nil {
		return s.authError(ctx, scheme, err)
	}
	if cred == nil {
		return Unauthorized(ReasonInvalid)
	}
	s.Bind(scheme, cred)
	return nil
}

// authError is the error sent for a scheme's failure: its own *Error,
// -32001 with the reason, or -32603 when the scheme could not decide. It
// logs as [Credentials] does: the cause at Debug, a fault at Error through
// the server's rate-limited log.
func (s *Session) authError(ctx context.Context, scheme string, err error) error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	var ae *AuthError
	if !errors.As(err, &ae) {
		s.srv.faults.log(ctx, "authentication could not decide; failing closed", scheme, func() []slog.Attr {
			return []slog.Attr{slog.String("scheme", scheme), slog.String("error", err.Error())}
		})
		return NewError(CodeInternalError, "Internal error", nil)
	}
	reason := ae.Reason
	if reason == "" {
		reason = ReasonInvalid
	}
	if l := s.srv.Logger(); l.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{slog.String("scheme", scheme), slog.String("reason", reason)}
		if ae.Err != nil {
			attrs = append(attrs, slog.String("cause", ae.Err.Error()))
		}
		l.LogAttrs(ctx, slog.LevelDebug, "in-band authentication failed", attrs...)
	}
	return Unauthorized(reason)
}

// Notify sends the client a notification through the transport's send
// function, and returns its error: a transport fails once the connection
// is closed, or when ctx ends before the message is written.
func (s *Session) Notify(ctx context.Context, method string, params any) error {
	if s.send == nil {
		return ErrNoNotifications
	}
	msg, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
	}{"2.0", method, params})
	if err != nil {
		return err
	}
	return s.send(ctx, msg)
}
