package transport

import (
	"context"

	"github.com/wardenrpc/warden/rpc"
)

// AuthenticateMethod is the reserved method by which a client presents a
// token on an open WebSocket connection. Browsers cannot set headers on a
// WebSocket handshake, so this is how they sign a connection in, and how
// any client re-authenticates when its token is about to expire.
//
//	{"jsonrpc":"2.0","method":"rpc.authenticate","params":{"token":"eyJ…"},"id":1}
//
// On success the connection carries the new credential for every later
// call; on failure it answers -32001 and keeps what it had.
const AuthenticateMethod = "rpc.authenticate"

// AuthenticateParams are the params of rpc.authenticate.
type AuthenticateParams struct {
	// Token is the credential: a bearer JWT, or an API key.
	Token string `json:"token" jsonschema:"description=The credential: a bearer token or an API key."`
	// Scheme names the security scheme; it may be omitted when the server
	// declares only one.
	Scheme string `json:"scheme,omitempty" jsonschema:"description=The security scheme's name; optional when the server declares one."`
}

// AuthenticateResult is the result of rpc.authenticate.
type AuthenticateResult struct {
	Scheme string `json:"scheme"`
}

func registerAuthenticate(srv *rpc.Server) {
	if _, ok := srv.Method(AuthenticateMethod); ok {
		return
	}
	srv.RegisterReserved(AuthenticateMethod,
		func(ctx context.Context, p AuthenticateParams) (AuthenticateResult, error) {
			sess := SessionFrom(ctx)
			if sess == nil {
				return AuthenticateResult{}, rpc.NewError(rpc.CodeInvalidRequest,
					"Invalid Request", AuthenticateMethod+" needs a WebSocket connection")
			}
			scheme := p.Scheme
			if scheme == "" {
				schemes := srv.Schemes()
				if len(schemes) != 1 {
					return AuthenticateResult{}, rpc.InvalidParams("scheme", "required when the server declares several schemes")
				}
				scheme = schemes[0].Name
			}
			if err := sess.Authenticate(ctx, scheme, p.Token); err != nil {
				return AuthenticateResult{}, err
			}
			return AuthenticateResult{Scheme: scheme}, nil
		},
		rpc.Summary("Presents a credential on an open WebSocket connection."),
		rpc.Description("Binds the connection to the credential for every later call, as a handshake header would have. "+
			"Expiry and revocation are re-checked on every call. Over HTTP it answers -32600."),
		rpc.Tags("security"),
		rpc.Errors(
			rpc.NewError(rpc.CodeUnauthorized, "Unauthorized: the token is missing, invalid, expired or revoked", nil),
			rpc.NewError(rpc.CodeInvalidRequest, "Invalid Request: called over HTTP, not on a WebSocket", nil),
		),
	)
}
