package security

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wardenrpc/warden/rpc"
)

// Issuer signs access and refresh tokens with the current key of its
// verifier's ring, rotates refresh tokens, and revokes. Create one with
// [NewIssuer]; it is safe for concurrent use.
type Issuer struct {
	v          *Verifier
	accessTTL  time.Duration
	refreshTTL time.Duration
	maxTTL     time.Duration // the longest IssueAccess grants
	grace      time.Duration // how long a spent refresh token still buys the same rotation
	families   FamilyStore
	logger     *slog.Logger
}

// IssuerOption configures an [Issuer].
type IssuerOption func(*Issuer)

// WithAccessTTL sets how long access tokens live (default 15 min).
func WithAccessTTL(d time.Duration) IssuerOption { return func(i *Issuer) { i.accessTTL = d } }

// WithRefreshTTL sets how long a refresh token lives (default 7 days).
// Each refresh issues a new one with a full lifetime.
func WithRefreshTTL(d time.Duration) IssuerOption { return func(i *Issuer) { i.refreshTTL = d } }

// DefaultRefreshGrace is how long, by default, a refresh token that was
// just spent still buys a pair of the same rotation.
const DefaultRefreshGrace = 10 * time.Second

// WithRefreshGrace sets how long a refresh token presented again after it
// was spent still counts as the same rotation rather than as reuse
// (default 10 s; 0 turns it off). Two browser tabs refreshing one token at
// once would otherwise sign the user out, the loser's request looking like
// theft. Within the window the second presenter gets a new access token
// and the family's live refresh token, so the family still has exactly
// one: RFC 9700 (section 4.14.2) allows such a tolerance. A thief who
// replays a token within the window gets the same, so keep it short.
func WithRefreshGrace(d time.Duration) IssuerOption { return func(i *Issuer) { i.grace = d } }

// DefaultMaxAccessTTL is the longest lifetime [Issuer.IssueAccess] grants
// by default.
const DefaultMaxAccessTTL = 30 * 24 * time.Hour

// WithMaxAccessTTL sets the longest lifetime [Issuer.IssueAccess] grants
// (default 30 days). A subject's revocation is kept that long, so that no
// token issued before it can outlive it.
func WithMaxAccessTTL(d time.Duration) IssuerOption { return func(i *Issuer) { i.maxTTL = d } }

// WithFamilies sets the refresh family store. The default is the
// verifier's revocation store when it is also a [FamilyStore] (a
// [MemoryStore] is), and a new MemoryStore otherwise.
func WithFamilies(s FamilyStore) IssuerOption { return func(i *Issuer) { i.families = s } }

// WithIssuerLogger sets the logger that hears of refresh-token reuse. It
// receives the subject and family id, never a token.
func WithIssuerLogger(l *slog.Logger) IssuerOption {
	return func(i *Issuer) {
		if l != nil {
			i.logger = l
		}
	}
}

// NewIssuer returns an Issuer that signs tokens v accepts. v's key ring
// must hold a current key that can sign.
func NewIssuer(v *Verifier, opts ...IssuerOption) (*Issuer, error) {
	if v == nil {
		return nil, errors.New("security: NewIssuer needs a verifier")
	}
	if _, err := v.keys.signer(); err != nil {
		return nil, err
	}
	i := &Issuer{
		v:          v,
		accessTTL:  DefaultAccessTTL,
		refreshTTL: DefaultRefreshTTL,
		maxTTL:     DefaultMaxAccessTTL,
		grace:      DefaultRefreshGrace,
		logger:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(i)
	}
	if i.grace < 0 || i.grace > time.Minute {
		return nil, fmt.Errorf("security: refresh grace %v is outside [0, 1m]", i.grace)
	}
	if i.accessTTL <= 0 || i.refreshTTL <= 0 || i.maxTTL <= 0 {
		return nil, errors.New("security: token lifetimes must be positive")
	}
	if i.accessTTL > i.refreshTTL {
		return nil, fmt.Errorf("security: access tokens (%v) may not outlive refresh tokens (%v)", i.accessTTL, i.refreshTTL)
	}
	if i.families == nil {
		if fs, ok := v.revocations.(FamilyStore); ok {
			i.families = fs
		} else {
			i.families = NewMemoryStore()
		}
	}
	return i, nil
}

// Verifier returns the verifier whose keys, issuer and audience i uses.
func (i *Issuer) Verifier() *Verifier { return i.v }

// Grant is what a token says about its holder.
type Grant struct {
	// Subject is the "sub": who the holder is. Required.
	Subject string
	// Scopes are what the holder may do. Each must be an RFC 6749 scope
	// token (printable ASCII, no space, quote or backslash).
	Scopes []string
	// Claims are extra claims, readable with [Principal.Claim]. They may
	// not use the names Warden sets (iss, sub, aud, exp, nbf, iat, jti,
	// scope, token_use, fid).
	Claims map[string]any
	// TTL overrides the access token's lifetime; zero means the issuer's.
	// With [Issuer.Issue] it may not exceed the refresh TTL, so that ending
	// the family revokes every access token it issued; [Issuer.IssueAccess]
	// takes any.
	TTL time.Duration
}

func (g *Grant) check() error {
	if g.Subject == "" {
		return errors.New("security: grant without a subject")
	}
	for _, s := range g.Scopes {
		if !rpc.ValidScope(s) {
			return fmt.Errorf("security: malformed scope %q", s)
		}
	}
	for k := range g.Claims {
		if reservedClaims[k] {
			return fmt.Errorf("security: claim %q is set by Warden", k)
		}
	}
	if g.TTL < 0 {
		return errors.New("security: negative TTL")
	}
	return nil
}

// Pair is an access token with the refresh token that renews it. Its JSON
// form is the OAuth 2.0 token response: access_token, token_type,
// expires_in, refresh_token.
type Pair struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"` // always "bearer"
	ExpiresIn    int64  `json:"expires_in"` // seconds until the access token expires
	RefreshToken string `json:"refresh_token"`

	// AccessExpires and RefreshExpires are the tokens' "exp".
	AccessExpires  time.Time `json:"-"`
	RefreshExpires time.Time `json:"-"`
}

// Issue starts a refresh family for g and returns its first pair. g.TTL
// may not exceed the refresh TTL.
func (i *Issuer) Issue(ctx context.Context, g Grant) (*Pair, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	if g.TTL > i.refreshTTL {
		return nil, fmt.Errorf("security: an access token of a refresh family may not outlive its refresh token (TTL %v > %v); use IssueAccess", g.TTL, i.refreshTTL)
	}
	family := newID()
	refreshID := newID()
	now := i.v.now()
	refreshExp := now.Add(i.refreshTTL)
	if err := i.families.StartFamily(ctx, family, g.Subject, refreshID, refreshExp); err != nil {
		return nil, fmt.Errorf("security: starting refresh family: %w", err)
	}
	return i.pair(now, g, family, refreshID, refreshExp)
}

// IssueAccess returns an access token for g that belongs to no family and
// cannot be refreshed, as a command-line token generator wants. g.TTL may
// not exceed the issuer's maximum ([WithMaxAccessTTL]).
func (i *Issuer) IssueAccess(ctx context.Context, g Grant) (token string, expires time.Time, err error) {
	if err := g.check(); err != nil {
		return "", time.Time{}, err
	}
	if g.TTL > i.maxTTL {
		return "", time.Time{}, fmt.Errorf("security: TTL %v is longer than the issuer's maximum %v", g.TTL, i.maxTTL)
	}
	now := i.v.now()
	expires = now.Add(i.ttl(g))
	token, err = i.sign(now, expires, g, UseAccess, newID(), "")
	return token, expires, err
}

func (i *Issuer) ttl(g Grant) time.Duration {
	if g.TTL > 0 {
		return g.TTL
	}
	return i.accessTTL
}

func (i *Issuer) pair(now time.Time, g Grant, family, refreshID string, refreshExp time.Time) (*Pair, error) {
	accessExp := now.Add(i.ttl(g))
	access, err := i.sign(now, accessExp, g, UseAccess, newID(), family)
	if err != nil {
		return nil, err
	}
	refresh, err := i.sign(now, refreshExp, g, UseRefresh, refreshID, family)
	if err != nil {
		return nil, err
	}
	return &Pair{
		AccessToken:    access,
		TokenType:      "bearer",
		ExpiresIn:      int64(accessExp.Sub(now) / time.Second),
		RefreshToken:   refresh,
		AccessExpires:  accessExp,
		RefreshExpires: refreshExp,
	}, nil
}

func (i *Issuer) sign(now, exp time.Time, g Grant, use TokenUse, jti, family string) (string, error) {
	key, err := i.v.keys.signer()
	if err != nil {
		return "", err
	}
	claims := jwt.MapClaims{}
	for k, v := range g.Claims {
		claims[k] = v
	}
	claims["iss"] = i.v.issuer
	claims["sub"] = g.Subject
	claims["aud"] = i.v.audience
	// Milliseconds, so that a subject's revocation and a token issued just
	// after it (a password change signs the session in again) are ordered.
	claims["iat"] = float64(now.UnixMilli()) / 1000
	claims["exp"] = exp.Unix()
	claims["jti"] = jti
	claims[claimUse] = string(use)
	claims[claimScope] = strings.Join(g.Scopes, " ")
	if family != "" {
		claims[claimFamily] = family
	}
	t := jwt.NewWithClaims(key.method, claims)
	t.Header["kid"] = key.id
	s, err := t.SignedString(key.sign)
	if err != nil {
		return "", fmt.Errorf("security: signing token: %w", err)
	}
	return s, nil
}

// Refresh spends refreshToken and returns a new pair with the same
// subject, scopes and claims. A token that was already spent ends its
// whole family, whose tokens, access tokens included, are revoked: one of
// the two presenters stole it, and the issuer cannot tell which. Failures
// are *[rpc.AuthError].
func (i *Issuer) Refresh(ctx context.Context, refreshToken string) (*Pair, error) {
	p, err := i.v.VerifyRefresh(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	claims, err := p.extraClaims()
	if err != nil {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid, Err: err}
	}
	g := Grant{Subject: p.Subject, Scopes: p.Scopes, Claims: claims}
	next := newID()
	now := i.v.now()
	refreshExp := now.Add(i.refreshTTL)
	switch err := i.families.RotateFamily(ctx, p.Family, p.TokenID, next, refreshExp); {
	case errors.Is(err, ErrRefreshReused):
		if pair, ok := i.sameRotation(ctx, p, g, now); ok {
			return pair, nil
		}
		i.logger.LogAttrs(ctx, slog.LevelWarn, "refresh token reused; family revoked",
			slog.String("subject", p.Subject), slog.String("family", p.Family))
		if err := i.RevokeFamily(ctx, p.Family); err != nil {
			return nil, err
		}
		return nil, &rpc.AuthError{Reason: rpc.ReasonRevoked, Err: err}
	case errors.Is(err, ErrUnknownFamily):
		return nil, &rpc.AuthError{Reason: rpc.ReasonRevoked, Err: err}
	case err != nil:
		return nil, fmt.Errorf("security: rotating refresh family: %w", err)
	}
	return i.pair(now, g, p.Family, next, refreshExp)
}

// sameRotation answers a refresh token that the family's last rotation
// spent less than the grace window ago: a new access token, with the
// family's live refresh token. Anything else is reuse.
func (i *Issuer) sameRotation(ctx context.Context, p *Principal, g Grant, now time.Time) (*Pair, bool) {
	if i.grace == 0 {
		return nil, false
	}
	st, err := i.families.Family(ctx, p.Family)
	// RotatedAt is the store's clock: one ahead of ours must not stretch
	// the window.
	since := now.Sub(st.RotatedAt)
	if err != nil || st.Ended || st.Previous != p.TokenID || st.Live == "" ||
		since > i.grace || since < -i.grace || !now.Before(st.Expires) {
		return nil, false
	}
	pair, err := i.pair(now, g, p.Family, st.Live, st.Expires)
	if err != nil {
		return nil, false
	}
	i.logger.LogAttrs(ctx, slog.LevelInfo, "refresh token presented again within the grace window",
		slog.String("subject", p.Subject), slog.String("family", p.Family))
	return pair, true
}

// Revoke signs p out: its token, and its refresh family if it has one, so
// that neither the access token nor any refresh token of the family works
// again.
func (i *Issuer) Revoke(ctx context.Context, p *Principal) error {
	if p == nil || p.TokenID == "" {
		return errors.New("security: Revoke needs a token's principal")
	}
	if err := i.v.revocations.Revoke(ctx, p.TokenID, p.Expires.Add(i.v.leeway)); err != nil {
		return fmt.Errorf("security: revoking token: %w", err)
	}
	if p.Family != "" {
		return i.RevokeFamily(ctx, p.Family)
	}
	return nil
}

// RevokeFamily ends a refresh family and revokes every token it issued.
// The revocation is kept for the refresh TTL and the leeway: every token of
// the family was issued before now and lives no longer than that, as
// Issue refuses access tokens that would outlive their refresh token.
func (i *Issuer) RevokeFamily(ctx context.Context, family string) error {
	until := i.v.now().Add(i.refreshTTL + i.v.leeway)
	if err := i.v.revocations.Revoke(ctx, family, until); err != nil {
		return fmt.Errorf("security: revoking family: %w", err)
	}
	if err := i.families.EndFamily(ctx, family); err != nil {
		return fmt.Errorf("security: ending family: %w", err)
	}
	return nil
}

// RevokeSubject revokes every token issued to subject until now, access
// and refresh alike, on every instance that follows the revocation store:
// for a user who is deleted or disabled, or who changed their password.
// Tokens issued afterwards are not affected. The store must be a
// [MemoryStore] or a [RevocationCache], which know subjects' revocations.
func (i *Issuer) RevokeSubject(ctx context.Context, subject string) error {
	if subject == "" {
		return errors.New("security: RevokeSubject needs a subject")
	}
	if _, ok := i.v.revocations.(subjectChecker); !ok {
		return errors.New("security: the verifier's revocation store cannot revoke subjects; use a MemoryStore or a RevocationCache")
	}
	now := i.v.now()
	until := now.Add(max(i.refreshTTL, i.maxTTL) + i.v.leeway)
	if err := i.v.revocations.Revoke(ctx, subjectRevocationID(subject, now), until); err != nil {
		return fmt.Errorf("security: revoking subject: %w", err)
	}
	return nil
}

// newID returns 128 random bits, URL-safe.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails; it panics instead if the OS fails it
	return base64.RawURLEncoding.EncodeToString(b[:])
}
