package rpc

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// Requirement is a method's security requirement, as in OpenAPI: a list of
// alternatives, any one of which suffices. An empty Requirement means the
// method is public.
type Requirement []Alternative

// Alternative maps scheme names to the scopes that each needs. Every scheme
// named must have authenticated the caller, with every scope listed.
type Alternative map[string][]string

// Require returns a Requirement with one alternative: the named scheme with
// the given scopes. Require("bearer", "admin") reads as "a bearer credential
// with the scope admin".
func Require(scheme string, scopes ...string) Requirement {
	if scopes == nil {
		scopes = []string{}
	}
	return Requirement{{scheme: scopes}}
}

// Or returns a Requirement satisfied by r or by any of others.
func (r Requirement) Or(others ...Requirement) Requirement {
	out := slices.Clone(r)
	for _, o := range others {
		out = append(out, o...)
	}
	return out
}

// check reports whether creds satisfy req, running the schemes it names.
// A failure is -32003 when some alternative had all its schemes
// authenticated but lacked scopes, -32603 when a scheme could not decide
// and no alternative was met, and -32001 otherwise, with the most telling
// reason.
func (r Requirement) check(ctx context.Context, creds *Credentials) *Error {
	if len(r) == 0 {
		return nil
	}
	var forbidden []string
	reason := ""
	fault := false
	for _, alt := range r {
		authed := true
		var missing []string
		for scheme, scopes := range alt {
			e := creds.resolved(ctx, scheme)
			if e == nil || e.cred == nil {
				authed = false
				r := ReasonMissing
				if e != nil {
					if e.fault != nil {
						fault = true
					}
					if e.reason != "" {
						r = e.reason
					}
				}
				if reasonRank(r) > reasonRank(reason) {
					reason = r
				}
				continue
			}
			for _, sc := range scopes {
				if !e.cred.HasScope(sc) {
					missing = append(missing, sc)
				}
			}
		}
		if !authed {
			continue
		}
		if len(missing) == 0 {
			return nil
		}
		if forbidden == nil {
			forbidden = alt.scopes()
		}
	}
	if fault {
		return errInternal()
	}
	if forbidden != nil {
		return Forbidden(forbidden)
	}
	if reason == "" {
		reason = ReasonMissing
	}
	return Unauthorized(reason)
}

// reasonRank orders failure reasons from least to most telling, so that
// the reason sent does not depend on the order in which schemes are
// checked: a revoked token says more than an expired one, which says more
// than a malformed one, which says more than none.
func reasonRank(r string) int {
	switch r {
	case ReasonMissing:
		return 1
	case ReasonInvalid:
		return 2
	case ReasonExpired:
		return 3
	case ReasonRevoked:
		return 4
	}
	return 0
}

// scopes lists every scope of the alternative, sorted and without repeats.
func (alt Alternative) scopes() []string {
	var out []string
	for _, scopes := range alt {
		out = append(out, scopes...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// validate checks r against the declared schemes at registration.
func (r Requirement) validate(schemes []namedScheme) error {
	for i, alt := range r {
		if len(alt) == 0 {
			return fmt.Errorf("security alternative %d names no scheme", i)
		}
		for name, scopes := range alt {
			var sc *namedScheme
			for j := range schemes {
				if schemes[j].name == name {
					sc = &schemes[j]
				}
			}
			if sc == nil {
				return fmt.Errorf("security names undeclared scheme %q", name)
			}
			declared := sc.info.Scopes
			for _, scope := range scopes {
				if !ValidScope(scope) {
					return fmt.Errorf("scheme %q: malformed scope %q", name, scope)
				}
				if len(declared) > 0 {
					if _, ok := declared[scope]; !ok {
						return fmt.Errorf("scheme %q: undeclared scope %q", name, scope)
					}
				}
			}
		}
	}
	return nil
}

// ValidScope reports whether s is an RFC 6749 scope-token (section 3.3):
// one or more printable ASCII characters other than space, '"' and '\'.
// Registration refuses a requirement naming any other scope, and a token
// issuer should refuse to grant one.
func ValidScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
