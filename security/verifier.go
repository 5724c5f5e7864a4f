package security

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wardenrpc/warden/rpc"
)

// Defaults of a [Verifier] and an [Issuer].
const (
	DefaultLeeway        = 30 * time.Second
	DefaultAccessTTL     = 15 * time.Minute
	DefaultRefreshTTL    = 7 * 24 * time.Hour
	DefaultMaxTokenBytes = 8 << 10
	DefaultCacheSize     = 1024
)

// Verifier checks tokens: length, shape, algorithm, key, signature, the
// required claims, the token's use, and revocation. Create one with
// [NewVerifier]; it is safe for concurrent use.
type Verifier struct {
	keys        *KeyRing
	issuer      string
	audience    string
	leeway      time.Duration
	maxBytes    int
	revocations RevocationStore
	now         func() time.Time
	parser      *jwt.Parser
	keyfunc     jwt.Keyfunc
	cacheSize   int
	cacheMu     sync.RWMutex
	cache       map[string]*Principal // verified access tokens
}

// VerifierOption configures a [Verifier].
type VerifierOption func(*Verifier)

// WithTokenLeeway sets how far clocks may disagree (default 30 s): a token is
// accepted this long after "exp", and this long before "nbf" and "iat".
func WithTokenLeeway(d time.Duration) VerifierOption { return func(v *Verifier) { v.leeway = d } }

// WithRevocations sets the store of revoked token and family ids. The
// default is a new [MemoryStore].
func WithRevocations(s RevocationStore) VerifierOption {
	return func(v *Verifier) { v.revocations = s }
}

// WithClock sets the function that tells the time, for tests. The default
// is time.Now.
func WithClock(now func() time.Time) VerifierOption { return func(v *Verifier) { v.now = now } }

// WithMaxTokenBytes sets the longest token accepted (default 8 KiB). A
// longer one is invalid before any of it is parsed.
func WithMaxTokenBytes(n int) VerifierOption { return func(v *Verifier) { v.maxBytes = n } }

// WithCacheSize sets how many verified access tokens the verifier
// remembers (default 1024; 0 turns the cache off). A remembered token skips
// decoding and the signature check; its expiry (with leeway), its key
// still being in the ring, and revocation are checked on every use, as
// [Verifier.Revalidate] does. The cache holds at most n tokens of at most
// the length limit each, and is emptied when full.
func WithCacheSize(n int) VerifierOption { return func(v *Verifier) { v.cacheSize = n } }

// NewVerifier returns a Verifier for tokens signed by keys, issued by
// issuer ("iss") for audience (one of "aud"). Both must be non-empty.
func NewVerifier(keys *KeyRing, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	if keys == nil {
		return nil, errors.New("security: NewVerifier needs a key ring")
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("security: NewVerifier needs an issuer and an audience")
	}
	v := &Verifier{
		keys:      keys,
		issuer:    issuer,
		audience:  audience,
		leeway:    DefaultLeeway,
		maxBytes:  DefaultMaxTokenBytes,
		now:       time.Now,
		cacheSize: DefaultCacheSize,
	}
	for _, o := range opts {
		o(v)
	}
	if v.leeway < 0 || v.leeway > 5*time.Minute {
		return nil, fmt.Errorf("security: leeway %v is outside [0, 5m]", v.leeway)
	}
	if v.maxBytes <= 0 {
		return nil, errors.New("security: the token length limit must be positive")
	}
	if v.revocations == nil {
		v.revocations = NewMemoryStore()
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{keys.Algorithm()}),
		jwt.WithoutClaimsValidation(),
		jwt.WithStrictDecoding(),
	)
	v.keyfunc = v.key
	if v.cacheSize > 0 {
		v.cache = make(map[string]*Principal, v.cacheSize)
	}
	return v, nil
}

// Keys returns the verifier's key ring.
func (v *Verifier) Keys() *KeyRing { return v.keys }

// Revocations returns the verifier's revocation store.
func (v *Verifier) Revocations() RevocationStore { return v.revocations }

// key picks the verifying key by "kid". It reads nothing else from the
// header: "jku", "x5u" and "jwk" are ignored.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if k, ok := v.keys.lookup(kid); ok && kid != "" {
		return k, nil
	}
	return nil, errKid
}

// Verify checks an access token and returns its principal. A failure is an
// *[rpc.AuthError] whose Reason is [rpc.ReasonInvalid], [rpc.ReasonExpired]
// or [rpc.ReasonRevoked]; its Err is for logs only and never holds the
// token.
//
// The principal may be shared with other calls that present the same
// token; treat it as read-only.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	if v.cache == nil {
		return v.verify(ctx, token, UseAccess)
	}
	// The map's hash is seeded per process, so lookups reveal nothing
	// about the tokens held.
	v.cacheMu.RLock()
	p := v.cache[token]
	v.cacheMu.RUnlock()
	if p != nil {
		if err := v.Revalidate(ctx, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	p, err := v.verify(ctx, token, UseAccess)
	if err != nil {
		return nil, err
	}
	v.cacheMu.Lock()
	if len(v.cache) >= v.cacheSize {
		clear(v.cache)
	}
	v.cache[token] = p
	v.cacheMu.Unlock()
	return p, nil
}

// VerifyRefresh is Verify for a refresh token. It does not spend the
// token; [Issuer.Refresh] does.
func (v *Verifier) VerifyRefresh(ctx context.Context, token string) (*Principal, error) {
	return v.verify(ctx, token, UseRefresh)
}

func (v *Verifier) verify(ctx context.Context, token string, use TokenUse) (*Principal, error) {
	// Cheap checks first: a huge or oddly shaped token costs no parsing.
	if len(token) > v.maxBytes {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errTooLong}
	}
	if strings.Count(token, ".") != 2 {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errSegments}
	}
	var c tokenClaims
	t, err := v.parser.ParseWithClaims(token, &c, v.keyfunc)
	if err != nil {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: err}
	}
	if err := c.validate(v.now(), v.leeway, v.issuer, v.audience, use); err != nil {
		reason := rpc.ReasonInvalid
		if err == errExpired {
			reason = rpc.ReasonExpired
		}
		return nil, &rpc.AuthError{Reason: reason, Err: err}
	}
	if err := v.checkRevoked(ctx, c.ID, c.Family, c.Subject, c.IssuedAt.t); err != nil {
		return nil, err
	}
	kid, _ := t.Header["kid"].(string)
	k, _ := v.keys.lookupKey(kid)
	p := &Principal{
		Subject:  c.Subject,
		TokenID:  c.ID,
		Family:   c.Family,
		Use:      c.Use,
		IssuedAt: c.IssuedAt.t,
		Expires:  c.ExpiresAt.t,
		kid:      kid,
		keyFP:    k.fp,
	}
	if c.Scope != "" {
		p.Scopes = strings.Fields(c.Scope)
	}
	// The payload is the middle segment; Claim decodes it on demand.
	i := strings.IndexByte(token, '.')
	j := strings.LastIndexByte(token, '.')
	p.payload = token[i+1 : j]
	return p, nil
}

// subjectChecker is a revocation store that also answers for subjects'
// revocations: MemoryStore and RevocationCache.
type subjectChecker interface {
	revokedSubject(subject string, iat time.Time) bool
}

// checkRevoked fails when the token, its family or its subject's tokens
// issued before iat were revoked. A store error, or revocation state too
// stale to trust, fails closed: it is not an *rpc.AuthError, so the call
// gets -32603 and the cause is logged.
func (v *Verifier) checkRevoked(ctx context.Context, jti, family, subject string, iat time.Time) error {
	var revoked bool
	var err error
	if c, ok := v.revocations.(*RevocationCache); ok {
		revoked, err = c.revokedToken(jti, family, subject, iat)
	} else {
		revoked, err = v.revocations.IsRevoked(ctx, jti)
		if err == nil && !revoked && family != "" {
			revoked, err = v.revocations.IsRevoked(ctx, family)
		}
		if sc, ok := v.revocations.(subjectChecker); ok && err == nil && !revoked {
			revoked = sc.revokedSubject(subject, iat)
		}
	}
	if err != nil {
		return fmt.Errorf("security: revocation check: %w", err)
	}
	if revoked {
		return &rpc.AuthError{Reason: rpc.ReasonRevoked, Err: errors.New("token or family revoked")}
	}
	return nil
}

// Revalidate re-checks a principal this verifier produced, for a
// connection that keeps it: expiry (with leeway), the signing key still
// being in the ring, and revocation.
func (v *Verifier) Revalidate(ctx context.Context, p *Principal) error {
	if p == nil || p.Use != UseAccess || p.TokenID == "" {
		return &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errors.New("not an access token principal")}
	}
	if v.now().After(p.Expires.Add(v.leeway)) {
		return &rpc.AuthError{Reason: rpc.ReasonExpired, Err: errExpired}
	}
	// The key must be the one that verified the token, not merely one
	// with the same id: a key removed and replaced under its old id must
	// not vouch for tokens it never signed.
	if k, ok := v.keys.lookupKey(p.kid); !ok || k.fp != p.keyFP {
		return &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: errKeyRemoved}
	}
	return v.checkRevoked(ctx, p.TokenID, p.Family, p.Subject, p.IssuedAt)
}
