package security

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claim names that Warden sets itself. [Grant.Claims] may not use them.
const (
	claimUse    = "token_use" // "access" or "refresh"
	claimFamily = "fid"       // the refresh family a token belongs to
	claimScope  = "scope"     // space-separated, as in RFC 8693 and RFC 9068
)

var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	claimUse: true, claimFamily: true, claimScope: true,
}

// TokenUse says what a token is for. An access token opens methods; a
// refresh token only buys a new pair from [Issuer.Refresh].
type TokenUse string

// The token uses Warden issues.
const (
	UseAccess  TokenUse = "access"
	UseRefresh TokenUse = "refresh"
)

// tokenClaims is what Warden reads from a token. Its dates accept JSON
// numbers only: golang-jwt's NumericDate also takes a quoted number, and a
// claim of the wrong type is a malformed token, not a lenient one.
type tokenClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.ClaimStrings `json:"aud"`
	ExpiresAt numericDate      `json:"exp"`
	NotBefore numericDate      `json:"nbf"`
	IssuedAt  numericDate      `json:"iat"`
	ID        string           `json:"jti"`
	Scope     string           `json:"scope"`
	Use       TokenUse         `json:"token_use"`
	Family    string           `json:"fid"`
}

// The parser runs with claims validation off: validate does it, so that
// each failure maps to exactly one reason. These methods only satisfy
// jwt.Claims.
func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *tokenClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *tokenClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

var (
	errNoExp      = errors.New("exp missing")
	errNoIat      = errors.New("iat missing")
	errNoSub      = errors.New("sub missing")
	errNoJti      = errors.New("jti missing")
	errExpired    = errors.New("expired beyond leeway")
	errNotYet     = errors.New("nbf in the future")
	errIatFuture  = errors.New("iat in the future")
	errIssuer     = errors.New("wrong issuer")
	errAudience   = errors.New("wrong audience")
	errUse        = errors.New("wrong token use")
	errNoFamily   = errors.New("refresh token without family")
	errTooLong    = errors.New("token longer than the limit")
	errSegments   = errors.New("token does not have three segments")
	errKid        = errors.New("unknown or missing kid")
	errKeyRemoved = errors.New("signing key left the ring")
)

// validate checks everything but the signature. It returns the reason and
// an error for logs.
func (c *tokenClaims) validate(now time.Time, leeway time.Duration, iss, aud string, use TokenUse) error {
	switch {
	case !c.ExpiresAt.set:
		return errNoExp
	case !c.IssuedAt.set:
		return errNoIat
	case c.Subject == "":
		return errNoSub
	case c.ID == "":
		return errNoJti
	case c.Issuer != iss:
		return errIssuer
	case !hasAudience(c.Audience, aud):
		return errAudience
	case c.Use != use:
		return errUse
	case use == UseRefresh && c.Family == "":
		return errNoFamily
	case c.NotBefore.set && now.Add(leeway).Before(c.NotBefore.t):
		return errNotYet
	case now.Add(leeway).Before(c.IssuedAt.t):
		return errIatFuture
	case now.After(c.ExpiresAt.t.Add(leeway)):
		return errExpired
	}
	return nil
}

func hasAudience(have jwt.ClaimStrings, want string) bool {
	for _, a := range have {
		if a == want {
			return true
		}
	}
	return false
}

// numericDate is a JWT NumericDate that must be a finite JSON number.
type numericDate struct {
	t   time.Time
	set bool
}

var errDate = errors.New("date claim is not a number")

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errDate
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1<<40 {
		return errDate
	}
	sec, frac := math.Modf(f)
	d.t = time.Unix(int64(sec), int64(frac*1e9))
	d.set = true
	return nil
}
