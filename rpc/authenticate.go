package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// AuthenticateMethod is the reserved method by which a client presents a
// token on an open connection, registered by [RegisterAuthenticate].
// Browsers cannot set headers on a WebSocket handshake, so this is how they
// sign a connection in, and how any client re-authenticates when its token
// is about to expire.
//
//	{"jsonrpc":"2.0","method":"rpc.authenticate","params":{"token":"eyJ…"},"id":1}
//
// On success the connection's [Session] carries the new credential for
// every later call; on failure it answers -32001 and keeps what it had.
// Over a transport without sessions, such as HTTP, it answers -32600.
const AuthenticateMethod = "rpc.authenticate"

// AuthenticateParams are the params of rpc.authenticate.
type AuthenticateParams struct {
	// Token is the credential: a bearer JWT, or an API key.
	Token string `json:"token" jsonschema:"description=The credential: a bearer token or an API key."`
	// Scheme names the security scheme; it may be omitted when the server
	// declares only one scheme that takes tokens in-band.
	Scheme string `json:"scheme,omitempty" jsonschema:"description=The security scheme's name; optional when the server declares one that takes tokens in-band."`
}

// AuthenticateResult is the result of rpc.authenticate: the scheme the
// credential is bound under.
type AuthenticateResult struct {
	Scheme string `json:"scheme"`
}

// RegisterAuthenticate registers the reserved method rpc.authenticate
// ([AuthenticateMethod]) on srv, so that clients can present a token on an
// open connection ([Session.Authenticate]). Register it before serving,
// like any method; documents built from the registry, such as OpenRPC's,
// list it. It fails when srv declares no scheme that implements
// [TokenScheme], or when the method is registered already.
func RegisterAuthenticate(srv *Server) error {
	var names []string
	for _, d := range srv.Schemes() {
		if sc, _ := srv.Scheme(d.Name); sc != nil {
			if _, ok := sc.(TokenScheme); ok {
				names = append(names, d.Name)
			}
		}
	}
	if len(names) == 0 {
		return errors.New("rpc: " + AuthenticateMethod + " needs a declared scheme that implements TokenScheme")
	}
	var only string // the scheme used when params name none
	if len(names) == 1 {
		only = names[0]
	}
	return srv.RegisterReserved(AuthenticateMethod,
		func(ctx context.Context, p AuthenticateParams) (AuthenticateResult, error) {
			sess := SessionFrom(ctx)
			if sess == nil {
				return AuthenticateResult{}, NewError(CodeInvalidRequest, "Invalid Request",
					AuthenticateMethod+" needs a connection with a session, such as a WebSocket")
			}
			scheme := p.Scheme
			if scheme == "" {
				if only == "" {
					return AuthenticateResult{}, InvalidParams("scheme",
						fmt.Sprintf("required: one of %s", strings.Join(names, ", ")))
				}
				scheme = only
			}
			if err := sess.Authenticate(ctx, scheme, p.Token); err != nil {
				return AuthenticateResult{}, err
			}
			return AuthenticateResult{Scheme: scheme}, nil
		},
		Summary("Presents a credential on an open connection."),
		Description("Binds the connection to the credential for every later call, as a handshake header would have. "+
			"Expiry and revocation are re-checked on every call that needs it. "+
			"Over a transport without sessions, such as HTTP, it answers -32600."),
		Tags("security"),
		Errors(
			NewError(CodeUnauthorized, "Unauthorized: the token is missing, invalid, expired or revoked", nil),
			NewError(CodeInvalidParams, "Invalid params: no such scheme, or one that cannot take a token in-band", nil),
			NewError(CodeInvalidRequest, "Invalid Request: called over a transport without sessions, such as HTTP", nil),
		),
	)
}
