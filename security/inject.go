package security

import (
	"context"

	"github.com/wardenrpc/warden/rpc"
)

// ProvidePrincipal makes *[Principal] injectable: a method that takes a
// *security.Principal argument gets the caller's principal, never a
// param. It is taken from the first of the named schemes that
// authenticated the caller; when none did, the call fails with -32001
// (reason "missing"). Pass it to rpc.NewServer:
//
//	rpc.NewServer(
//		rpc.WithScheme("bearer", security.NewBearer(v)),
//		security.ProvidePrincipal("bearer"),
//	)
func ProvidePrincipal(scheme string, more ...string) rpc.Option {
	schemes := append([]string{scheme}, more...)
	return rpc.Provide(func(ctx context.Context) (*Principal, error) {
		creds := rpc.CredentialsFrom(ctx)
		var first error
		for _, name := range schemes {
			cred, err := creds.Lookup(ctx, name)
			if p, ok := cred.(*Principal); ok && p != nil {
				return p, nil
			}
			if first == nil {
				first = err
			}
		}
		if first == nil {
			first = rpc.Unauthorized(rpc.ReasonMissing)
		}
		return nil, first
	})
}

// PrincipalFrom returns the caller's principal from the first of the named
// schemes that authenticated the caller, or nil. It is for interceptors and
// code that has a context but no injected argument.
func PrincipalFrom(ctx context.Context, scheme string, more ...string) *Principal {
	if p := principalFrom(ctx, []string{scheme}); p != nil || len(more) == 0 {
		return p
	}
	return principalFrom(ctx, more)
}

func principalFrom(ctx context.Context, schemes []string) *Principal {
	creds := rpc.CredentialsFrom(ctx)
	for _, name := range schemes {
		if p, ok := creds.Get(ctx, name).(*Principal); ok && p != nil {
			return p
		}
	}
	return nil
}
