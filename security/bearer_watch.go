package security

import (
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// CredentialExpiry implements [rpc.ExpiryScheme]: cred, a *[Principal]
// from a token, stops being accepted once its "exp" plus the verifier's
// leeway has passed, as [Bearer.Revalidate] decides. It is the zero time
// for anything else.
func (b *Bearer) CredentialExpiry(cred rpc.Credential) time.Time {
	p, ok := cred.(*Principal)
	if !ok || p == nil || p.Expires.IsZero() {
		return time.Time{}
	}
	return p.Expires.Add(b.v.leeway)
}

// WatchCredentials implements [rpc.CredentialWatcher]: when the
// verifier's revocations are a [RevocationCache], it passes on the
// cache's [RevocationCache.Watch], so that a revoked token ends the
// subscriptions it opened at once. With another store it watches nothing
// (nil changes), and a revocation takes effect at the next call.
func (b *Bearer) WatchCredentials() (changes <-chan struct{}, stop func()) {
	if c, ok := b.v.revocations.(*RevocationCache); ok {
		return c.Watch()
	}
	return nil, func() {}
}

var (
	_ rpc.ExpiryScheme       = (*Bearer)(nil)
	_ rpc.CredentialWatcher  = (*Bearer)(nil)
	_ rpc.SubjectCredential  = (*Principal)(nil)
	_ rpc.ExpiringCredential = (*Principal)(nil)
)
