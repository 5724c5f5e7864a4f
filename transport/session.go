package transport

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/wardenrpc/warden/rpc"
)

// Session is the state of one WebSocket connection: the credentials bound
// to it, and a way to send the client notifications. A method asks for it
// by taking a *Session argument, made injectable by [ProvideSession]; over
// HTTP the injected *Session is nil.
//
// Credentials presented in the handshake are bound when the connection
// opens. A method binds others with [Session.Bind] (an application's
// sign_in does so) or [Session.Authenticate] (a token presented in-band),
// and clears them with [Session.Unbind] or [Session.Clear] (sign_out). Every
// call on the connection re-checks what is bound: a scheme that implements
// [rpc.Revalidator] is asked again, so expiry and revocation take effect on
// the next call.
type Session struct {
	conn *wsConn

	mu    sync.Mutex
	bound []boundCred // replaced, never changed in place: readers keep a snapshot
}

type boundCred struct {
	scheme string
	cred   rpc.Credential
	check  func(context.Context) (rpc.Credential, error) // re-checks cred for one call
}

type sessionKey struct{}

// SessionFrom returns the WebSocket session of the call in ctx, or nil over
// HTTP.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// ProvideSession makes *Session injectable into methods. Give it to
// rpc.NewServer.
func ProvideSession() rpc.Option {
	return rpc.Provide(func(ctx context.Context) (*Session, error) {
		return SessionFrom(ctx), nil
	})
}

// Bind binds cred to the session under scheme, replacing what was bound
// there. Later calls on the connection carry it.
func (s *Session) Bind(scheme string, cred rpc.Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make([]boundCred, 0, len(s.bound)+1)
	for _, b := range s.bound {
		if b.scheme != scheme {
			next = append(next, b)
		}
	}
	s.bound = append(next, boundCred{scheme: scheme, cred: cred, check: s.checker(scheme, cred)})
}

// checker returns the function that re-checks cred for one call: the
// scheme's Revalidate when it has one.
func (s *Session) checker(scheme string, cred rpc.Credential) func(context.Context) (rpc.Credential, error) {
	sc, _ := s.conn.h.srv.Scheme(scheme)
	rv, ok := sc.(rpc.Revalidator)
	if !ok {
		return func(context.Context) (rpc.Credential, error) { return cred, nil }
	}
	return func(ctx context.Context) (rpc.Credential, error) {
		if err := rv.Revalidate(ctx, cred); err != nil {
			return nil, err
		}
		return cred, nil
	}
}

// Unbind removes the credential bound under scheme.
func (s *Session) Unbind(scheme string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next []boundCred
	for _, b := range s.bound {
		if b.scheme != scheme {
			next = append(next, b)
		}
	}
	s.bound = next
}

// Clear removes every bound credential: the connection is anonymous again.
func (s *Session) Clear() {
	s.mu.Lock()
	s.bound = nil
	s.mu.Unlock()
}

// Credential returns the credential bound under scheme, or nil. It is not
// re-checked; the call's own credentials are.
func (s *Session) Credential(scheme string) rpc.Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bound {
		if b.scheme == scheme {
			return b.cred
		}
	}
	return nil
}

// Authenticate runs the server's scheme on token as though the handshake
// had carried it, and binds the credential on success. For an HTTP bearer
// scheme the token goes in "Authorization: Bearer"; for an API key, in the
// scheme's header. It returns an *rpc.Error for the caller.
func (s *Session) Authenticate(ctx context.Context, scheme, token string) error {
	srv := s.conn.h.srv
	sc, ok := srv.Scheme(scheme)
	if !ok {
		return rpc.InvalidParams("scheme", "no such scheme")
	}
	if token == "" {
		return rpc.Unauthorized(rpc.ReasonMissing)
	}
	md := newTokenMetadata(sc.Info(), token)
	cred, err := sc.Authenticate(ctx, md)
	if err != nil {
		if !isAuthFailure(err) {
			s.conn.h.srv.Logger().LogAttrs(ctx, slog.LevelError, "authentication could not decide; failing closed",
				slog.String("scheme", scheme), slog.String("error", err.Error()))
		}
		return authError(err)
	}
	if cred == nil {
		return rpc.Unauthorized(rpc.ReasonInvalid)
	}
	s.Bind(scheme, cred)
	return nil
}

// Notify sends the client a notification. While the connection holds its
// budget of answers not yet written ([WithConnectionBudget]), it waits. It
// fails once the connection is closed, or when ctx ends before the
// message is written.
func (s *Session) Notify(ctx context.Context, method string, params any) error {
	msg, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
	}{"2.0", method, params})
	if err != nil {
		return err
	}
	if err := s.conn.budget.admit(ctx, int64(len(msg)), s.conn.done); err != nil {
		return err
	}
	return s.conn.send(ctx, msg)
}

// credentials returns the bound credentials for one call, each re-checked
// only if the call needs it.
func (s *Session) credentials() *rpc.Credentials {
	s.mu.Lock()
	bound := s.bound
	s.mu.Unlock()
	creds := s.conn.h.srv.NewCredentials()
	for _, b := range bound {
		creds.Defer(b.scheme, b.check)
	}
	return creds
}

// tokenMetadata is the one header that would have carried a token.
type tokenMetadata struct {
	key, value string
}

// newTokenMetadata builds the header that would have carried token for a
// scheme described by info.
func newTokenMetadata(info rpc.SchemeInfo, token string) tokenMetadata {
	if info.Type == "apiKey" && info.Name != "" {
		return tokenMetadata{info.Name, token}
	}
	return tokenMetadata{"Authorization", "Bearer " + token}
}

// Get returns the value of the one header this metadata holds.
func (m tokenMetadata) Get(key string) string {
	if equalFold(key, m.key) {
		return m.value
	}
	return ""
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func reasonOf(err error) string {
	var ae *rpc.AuthError
	if errors.As(err, &ae) && ae.Reason != "" {
		return ae.Reason
	}
	var re *rpc.Error
	if errors.As(err, &re) && re.Code == rpc.CodeUnauthorized {
		if d, ok := re.Data.(rpc.UnauthorizedData); ok {
			return d.Reason
		}
	}
	return rpc.ReasonInvalid
}

// authError is the error sent for a scheme's failure: its own *rpc.Error,
// -32001 with the reason, or -32603 when the scheme could not decide.
func authError(err error) error {
	var re *rpc.Error
	if errors.As(err, &re) {
		return re
	}
	if !isAuthFailure(err) {
		return rpc.NewError(rpc.CodeInternalError, "Internal error", nil)
	}
	return rpc.Unauthorized(reasonOf(err))
}

// isAuthFailure reports whether err says that a credential is unusable,
// as opposed to a scheme that could not decide.
func isAuthFailure(err error) bool {
	var ae *rpc.AuthError
	var re *rpc.Error
	return errors.As(err, &ae) || errors.As(err, &re)
}
