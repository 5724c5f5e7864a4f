package security

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"
)

// Principal is an authenticated caller: who they are and what they may do.
// The bearer scheme makes one from a verified token, the API-key scheme
// from a matching key. It is the [rpc.Credential] that requirements are
// checked against, and the value [ProvidePrincipal] injects into methods.
//
// A Principal is shared by every call of a request (and, on a WebSocket, of
// a connection); treat it as read-only.
type Principal struct {
	// Subject identifies the caller: the token's "sub", or the API key's
	// subject.
	Subject string
	// Scopes are the scopes granted: the token's "scope", split on spaces.
	Scopes []string
	// TokenID is the token's "jti"; empty for an API key.
	TokenID string
	// Family is the refresh family the token belongs to ("fid"); empty for
	// a token issued without a refresh token, and for an API key.
	Family string
	// Use is UseAccess or UseRefresh; empty for an API key.
	Use TokenUse
	// IssuedAt and Expires are the token's "iat" and "exp"; zero for an API
	// key, which does not expire.
	IssuedAt, Expires time.Time

	kid     string // the key that signed the token
	keyFP   string // that key's fingerprint
	payload string // the token's payload segment, decoded only by Claim
}

// HasScope reports whether p was granted scope. It makes *Principal an
// [rpc.Credential].
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// ExpiresAt returns when the token expires, its "exp", or the zero time
// for an API key, which does not. It makes *Principal an
// [rpc.ExpiringCredential]; the bearer scheme adds its verifier's leeway
// ([Bearer.CredentialExpiry]).
func (p *Principal) ExpiresAt() time.Time { return p.Expires }

// CredentialSubject returns p.Subject. It makes *Principal an
// [rpc.SubjectCredential]: a subscription survives a rebinding of its
// connection to another credential of the same subject.
func (p *Principal) CredentialSubject() string { return p.Subject }

// Claim decodes the token claim called name into v and reports whether the
// token carried it. It reads the claims an application added with
// [Grant.Claims]; the standard ones are in p's fields. An API key's
// principal has no claims.
func (p *Principal) Claim(name string, v any) (bool, error) {
	claims, err := p.claims()
	if err != nil {
		return false, err
	}
	raw, ok := claims[name]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// claims decodes the payload. The payload was verified, so an error here
// is unexpected.
func (p *Principal) claims() (map[string]json.RawMessage, error) {
	if p == nil || p.payload == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.payload)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// extraClaims returns the claims not reserved by Warden, to carry them from
// a refresh token into the pair it buys.
func (p *Principal) extraClaims() (map[string]any, error) {
	m, err := p.claims()
	if err != nil {
		return nil, err
	}
	var out map[string]any
	for k, v := range m {
		if reservedClaims[k] {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	return out, nil
}
