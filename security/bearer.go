package security

import (
	"context"
	"errors"
	"strings"

	"github.com/wardenrpc/warden/rpc"
)

// SchemeOption configures a scheme made by [NewBearer] or [NewAPIKeys].
type SchemeOption func(*rpc.SchemeInfo)

// WithSchemeDescription sets the scheme's description in the OpenRPC document.
func WithSchemeDescription(s string) SchemeOption {
	return func(i *rpc.SchemeInfo) { i.Description = s }
}

// WithSchemeScopes declares the scheme's scopes, name to description. A method
// requiring a scope not declared here fails to register. Without it, any
// well-formed scope may be required.
func WithSchemeScopes(scopes map[string]string) SchemeOption {
	return func(i *rpc.SchemeInfo) { i.Scopes = scopes }
}

// Bearer is the HTTP bearer scheme for JWT access tokens: it reads
// "Authorization: Bearer <token>" (the word "Bearer" in any case) and
// verifies the token with a [Verifier]. Declare it on a server with
// rpc.WithScheme("bearer", security.NewBearer(v)). It implements
// [rpc.Scheme], [rpc.TokenScheme] (a connection may present a token
// in-band) and [rpc.Revalidator].
type Bearer struct {
	v    *Verifier
	info rpc.SchemeInfo
}

// NewBearer returns a bearer scheme that verifies with v.
func NewBearer(v *Verifier, opts ...SchemeOption) *Bearer {
	b := &Bearer{v: v, info: rpc.SchemeInfo{
		Type:         "http",
		Scheme:       "bearer",
		BearerFormat: "JWT",
		Description:  "A JWT access token in the Authorization header: Bearer <token>.",
	}}
	for _, o := range opts {
		o(&b.info)
	}
	return b
}

// Info implements [rpc.Scheme].
func (b *Bearer) Info() rpc.SchemeInfo { return b.info }

var errEmptyBearer = errors.New("empty bearer token")

// Authenticate implements [rpc.Scheme]. No Authorization header, or one
// with another scheme (Basic, say), is no credential: (nil, nil). A bearer
// token that fails verification is an *[rpc.AuthError]. The credential is
// a *[Principal].
func (b *Bearer) Authenticate(ctx context.Context, md rpc.Metadata) (rpc.Credential, error) {
	token, ok := bearerToken(md.Get("Authorization"))
	if !ok {
		return nil, nil
	}
	return b.AuthenticateToken(ctx, token)
}

// AuthenticateToken implements [rpc.TokenScheme]: it verifies token, a
// bare JWT presented in-band, as Authenticate verifies the one in the
// header. An empty token is invalid.
func (b *Bearer) AuthenticateToken(ctx context.Context, token string) (rpc.Credential, error) {
	if token == "" {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errEmptyBearer}
	}
	p, err := b.v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// bearerToken splits an Authorization header value. ok is false when it
// does not use the bearer scheme.
func bearerToken(h string) (token string, ok bool) {
	const word = "bearer"
	if len(h) < len(word) || !strings.EqualFold(h[:len(word)], word) {
		return "", false
	}
	rest := h[len(word):]
	if rest == "" {
		return "", true
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return "", false // "Bearerx…" is some other scheme
	}
	return strings.Trim(rest, " \t"), true
}

// Revalidate implements [rpc.Revalidator]: a connection that bound cred is
// refused once the token has expired beyond the leeway, its key has left
// the ring, or it or its family has been revoked.
func (b *Bearer) Revalidate(ctx context.Context, cred rpc.Credential) error {
	p, ok := cred.(*Principal)
	if !ok {
		return &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errors.New("credential is not a bearer principal")}
	}
	return b.v.Revalidate(ctx, p)
}

// The schemes of this package take tokens in-band.
var (
	_ rpc.TokenScheme = (*Bearer)(nil)
	_ rpc.TokenScheme = (*APIKeys)(nil)
	_ rpc.Revalidator = (*Bearer)(nil)
)
