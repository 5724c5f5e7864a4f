package security

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/textproto"
	"slices"

	"github.com/wardenrpc/warden/rpc"
)

// MinAPIKeyBytes is the shortest API key [NewAPIKeys] accepts.
const MinAPIKeyBytes = 16

// maxAPIKeyBytes bounds a presented key; a longer value is invalid.
const maxAPIKeyBytes = 1 << 10

// APIKey is one key an application hands out, with the principal it
// stands for.
type APIKey struct {
	Key     string   // the secret the client sends; at least MinAPIKeyBytes
	Subject string   // the principal's subject
	Scopes  []string // the principal's scopes
}

// APIKeys reads a key from a named header and compares it in constant
// time with every key it holds. It implements [rpc.Scheme] and
// [rpc.TokenScheme] (a connection may present a key in-band); the
// credential is a *[Principal] with the key's subject and scopes and no
// expiry.
type APIKeys struct {
	header string
	keys   []apiKeyEntry
	info   rpc.SchemeInfo
}

type apiKeyEntry struct {
	sum       [sha256.Size]byte
	principal Principal
}

// NewAPIKeys returns a scheme that reads header (for example "X-API-Key")
// and accepts keys. It fails for an empty header name, no keys, a key
// shorter than MinAPIKeyBytes, a key given twice, or a malformed scope.
func NewAPIKeys(header string, keys []APIKey, opts ...SchemeOption) (*APIKeys, error) {
	if header == "" {
		return nil, errors.New("security: API key scheme needs a header name")
	}
	if len(keys) == 0 {
		return nil, errors.New("security: API key scheme needs at least one key")
	}
	s := &APIKeys{
		header: textproto.CanonicalMIMEHeaderKey(header),
		info: rpc.SchemeInfo{
			Type:        "apiKey",
			In:          "header",
			Name:        header,
			Description: "An API key in the " + header + " header.",
		},
	}
	seen := map[[sha256.Size]byte]bool{}
	for i, k := range keys {
		if len(k.Key) < MinAPIKeyBytes {
			return nil, fmt.Errorf("security: API key %d is shorter than %d bytes", i, MinAPIKeyBytes)
		}
		if len(k.Key) > maxAPIKeyBytes {
			return nil, fmt.Errorf("security: API key %d is longer than %d bytes", i, maxAPIKeyBytes)
		}
		if k.Subject == "" {
			return nil, fmt.Errorf("security: API key %d has no subject", i)
		}
		for _, sc := range k.Scopes {
			if !rpc.ValidScope(sc) {
				return nil, fmt.Errorf("security: API key %d: malformed scope %q", i, sc)
			}
		}
		sum := sha256.Sum256([]byte(k.Key))
		if seen[sum] {
			return nil, fmt.Errorf("security: API key %d is given twice", i)
		}
		seen[sum] = true
		s.keys = append(s.keys, apiKeyEntry{sum: sum, principal: Principal{
			Subject: k.Subject,
			Scopes:  append([]string(nil), k.Scopes...),
		}})
	}
	for _, o := range opts {
		o(&s.info)
	}
	return s, nil
}

// Info implements [rpc.Scheme].
func (s *APIKeys) Info() rpc.SchemeInfo { return s.info }

var errAPIKey = errors.New("no such API key")

// Authenticate implements [rpc.Scheme]. The presented key is hashed and
// compared with every held key's hash, without stopping at a match, so the
// time taken says nothing about which key, or how much of one, matched.
func (s *APIKeys) Authenticate(ctx context.Context, md rpc.Metadata) (rpc.Credential, error) {
	v := md.Get(s.header)
	if v == "" {
		return nil, nil
	}
	return s.AuthenticateToken(ctx, v)
}

// AuthenticateToken implements [rpc.TokenScheme]: it checks v, a key
// presented in-band, as Authenticate checks the one in the header. An
// empty key is invalid.
func (s *APIKeys) AuthenticateToken(_ context.Context, v string) (rpc.Credential, error) {
	if v == "" || len(v) > maxAPIKeyBytes {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errAPIKey}
	}
	sum := sha256.Sum256([]byte(v))
	found := -1
	for i := range s.keys {
		eq := subtle.ConstantTimeCompare(sum[:], s.keys[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errAPIKey}
	}
	p := s.keys[found].principal // a copy, so that callers cannot change the held one
	p.Scopes = slices.Clone(p.Scopes)
	return &p, nil
}
