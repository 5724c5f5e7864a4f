// Package security provides Warden's security schemes and what they need:
// JWT issue and verification, key rings, principals, revocation and
// refresh-token families, API keys, and scrypt password hashing. It plugs
// into the engine through the types of package rpc and knows nothing of
// transports.
//
// # Tokens
//
// A [KeyRing] holds the current key, which signs, and earlier keys that
// still verify; a token's "kid" picks one, and nothing else in its header
// is read. A ring is all HS256 (secrets of at least 32 bytes) or all
// EdDSA, never both. A [Verifier] checks a token in this order, and each
// failure has exactly one reason:
//
//  1. length at most 8 KiB, and exactly three segments; nothing is
//     parsed before this (invalid);
//  2. the algorithm is the ring's, the kid is in the ring, the signature
//     holds, and the base64 is canonical (invalid);
//  3. the claims iss, aud, sub, exp, iat and jti are present with the
//     right types (dates are JSON numbers, never strings), iss and aud are
//     the verifier's, token_use is the one expected, and nbf and iat are
//     not in the future beyond the leeway (invalid);
//  4. exp has not passed beyond the leeway, 30 s by default (expired);
//  5. neither the token's jti nor its family's id is in the
//     [RevocationStore] (revoked); a store that fails, or a cache too
//     stale to trust, fails closed with an error that is not an
//     *rpc.AuthError.
//
// The result is a *[Principal]. Errors are *rpc.AuthError: the engine
// turns them into -32001 with data.reason, and the wrapped error, which
// may hold library text but never the token, goes only to logs.
//
// An [Issuer] signs pairs of an access token (15 min) and a refresh token
// (7 days) that share a family id ("fid"). [Issuer.Refresh] spends a
// refresh token and returns a new pair; the [FamilyStore] records which
// refresh token of each family is live, and a spent one presented again
// ends the family and revokes its id, so every token of the family, access
// tokens included, stops working. An access token of a family may not
// outlive its refresh token, so that ending the family revokes all of it.
// [Issuer.Revoke] signs a principal out: its token and its family.
//
// # Shared state
//
// [MemoryStore] keeps revocations, families and throttle counts in one
// process. Servers behind a load balancer keep them in a database that
// every instance shares: security/sqlitestore and security/pgstore hold
// them in SQLite or PostgreSQL, and security/storetest checks any other
// implementation of [RevocationLog], [FamilyStore] and [ThrottleStore].
//
// Revocation is checked on every authenticated call, so it must not read
// the database. A [RevocationCache] holds every revocation in force in
// memory: it loads them when it starts and follows the log, by polling
// and, for a [RevocationWatcher] such as PostgreSQL's LISTEN/NOTIFY, by
// push, reading everything again after each reconnect. A check is a map
// lookup. A revocation made through the cache holds here at once, and on
// other instances at their next read. Past its staleness bound the cache
// fails closed: its checks return [ErrRevocationsStale], which is not an
// authentication failure, so calls that need a token get -32603 while
// public calls go on, and [RevocationCache.Health] tells a health check.
//
// A [Throttle] counts attempts per key in a [ThrottleStore]: a caller
// charges one before the work it guards and refunds it when the attempt
// proves legitimate, so the budget is the cluster's, not the process's.
//
// # Schemes
//
// [Bearer] reads "Authorization: Bearer <token>" and verifies access
// tokens; it also implements rpc.Revalidator, so that a WebSocket
// connection that bound a principal re-checks expiry, the key and
// revocation before every call. [APIKeys] reads a named header and
// compares it in constant time with the keys the application holds. A
// header for another scheme, such as Basic, is no credential at all: the
// caller is anonymous, and a protected method answers -32001 "missing".
//
// [ProvidePrincipal] makes *Principal injectable into methods, from the
// named schemes; a method that takes one cannot be given one through its
// params.
//
// # Passwords
//
// A [Hasher] hashes with scrypt in passlib's format. Passwords over 1 KiB
// or not UTF-8 are refused before any work. Stored hashes are parsed with
// bounds and refused without computing when their cost is too high.
// [Hasher.VerifyDummy] costs what a real verification costs, for unknown
// users. At most a few hashes run at once; a caller that waits too long
// for a slot gets -32005 with retry_after_ms.
package security
