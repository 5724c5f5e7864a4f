package security

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest HS256 secret a [KeyRing] accepts.
const MinSecretBytes = 32

// Key is one signing or verifying key with its key id ("kid"). Make one
// with [HS256], [EdDSA] or [EdDSAPublic]; the zero Key is not usable.
type Key struct {
	id     string
	method jwt.SigningMethod
	sign   any // nil for a verify-only key
	verify any
	fp     string // a fingerprint of the key material, to tell two keys with one id apart
	err    error  // reported by NewKeyRing and Rotate
}

// ID returns the key's id, the "kid" its tokens carry.
func (k Key) ID() string { return k.id }

// HS256 returns an HMAC-SHA256 key. A secret shorter than [MinSecretBytes]
// makes [NewKeyRing] fail. An empty id is derived from the secret (a
// truncated SHA-256, which reveals nothing a signature does not).
func HS256(id string, secret []byte) Key {
	k := Key{id: id, method: jwt.SigningMethodHS256}
	if len(secret) < MinSecretBytes {
		k.err = fmt.Errorf("security: HS256 secret is %d bytes; it must be at least %d", len(secret), MinSecretBytes)
		return k
	}
	s := append([]byte(nil), secret...)
	k.sign, k.verify = s, s
	k.fp = fingerprint(s)
	if k.id == "" {
		k.id = deriveID(s)
	}
	return k
}

// EdDSA returns an Ed25519 key that signs and verifies. An empty id is
// derived from the public key.
func EdDSA(id string, priv ed25519.PrivateKey) Key {
	k := Key{id: id, method: jwt.SigningMethodEdDSA}
	if len(priv) != ed25519.PrivateKeySize {
		k.err = errors.New("security: EdDSA private key has the wrong size")
		return k
	}
	pub := priv.Public().(ed25519.PublicKey)
	k.sign, k.verify = priv, pub
	k.fp = fingerprint(pub)
	if k.id == "" {
		k.id = deriveID(pub)
	}
	return k
}

// EdDSAPublic returns an Ed25519 key that only verifies, for a service that
// accepts tokens another one issues.
func EdDSAPublic(id string, pub ed25519.PublicKey) Key {
	k := Key{id: id, method: jwt.SigningMethodEdDSA}
	if len(pub) != ed25519.PublicKeySize {
		k.err = errors.New("security: EdDSA public key has the wrong size")
		return k
	}
	k.verify = pub
	k.fp = fingerprint(pub)
	if k.id == "" {
		k.id = deriveID(pub)
	}
	return k
}

// fingerprint identifies key material without revealing it.
func fingerprint(material []byte) string {
	sum := sha256.Sum256(append([]byte("warden key fingerprint\x00"), material...))
	return string(sum[:])
}

func deriveID(material []byte) string {
	sum := sha256.Sum256(material)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// KeyRing holds the current key, which signs, and earlier keys that still
// verify. A token names its key by "kid"; a kid the ring does not hold is
// invalid. Keys are never taken from a token's "jku", "x5u" or "jwk"
// headers. Every key of a ring uses one algorithm, so that one verifier
// never accepts both HMAC and asymmetric signatures.
//
// A KeyRing is safe for concurrent use; [KeyRing.Rotate] and
// [KeyRing.Remove] take effect for the next token verified.
type KeyRing struct {
	mu     sync.Mutex // serializes changes
	method jwt.SigningMethod
	state  atomic.Pointer[ringState]
}

type ringState struct {
	current Key
	byID    map[string]Key
	order   []string // current first
}

// NewKeyRing returns a ring whose current key is current and which also
// verifies with previous. It fails for an invalid key, a repeated id, or
// keys of different algorithms.
func NewKeyRing(current Key, previous ...Key) (*KeyRing, error) {
	if current.method == nil {
		return nil, errors.New("security: zero Key")
	}
	r := &KeyRing{method: current.method}
	st := &ringState{byID: map[string]Key{}}
	for _, k := range append([]Key{current}, previous...) {
		if err := r.check(k); err != nil {
			return nil, err
		}
		if _, dup := st.byID[k.id]; dup {
			return nil, fmt.Errorf("security: key id %q appears twice", k.id)
		}
		st.byID[k.id] = k
		st.order = append(st.order, k.id)
	}
	st.current = current
	r.state.Store(st)
	return r, nil
}

func (r *KeyRing) check(k Key) error {
	if k.err != nil {
		return k.err
	}
	if k.method == nil {
		return errors.New("security: zero Key")
	}
	if k.method != r.method {
		return fmt.Errorf("security: key %q is %s; the ring holds %s keys", k.id, k.method.Alg(), r.method.Alg())
	}
	return nil
}

// Algorithm returns the JWT "alg" of the ring's keys: "HS256" or "EdDSA".
func (r *KeyRing) Algorithm() string { return r.method.Alg() }

// IDs returns the ids of the keys in the ring, the current one first.
func (r *KeyRing) IDs() []string {
	return append([]string(nil), r.state.Load().order...)
}

// Rotate makes next the current key. The key it replaces stays in the ring
// and keeps verifying until it is removed.
func (r *KeyRing) Rotate(next Key) error {
	if err := r.check(next); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state.Load()
	if _, dup := old.byID[next.id]; dup {
		return fmt.Errorf("security: key id %q is already in the ring", next.id)
	}
	st := &ringState{current: next, byID: make(map[string]Key, len(old.byID)+1)}
	for id, k := range old.byID {
		st.byID[id] = k
	}
	st.byID[next.id] = next
	st.order = append([]string{next.id}, old.order...)
	r.state.Store(st)
	return nil
}

// Remove takes the key id out of the ring: tokens it signed stop verifying.
// The current key cannot be removed; rotate first.
func (r *KeyRing) Remove(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state.Load()
	if id == old.current.id {
		return fmt.Errorf("security: key %q is current; rotate before removing it", id)
	}
	if _, ok := old.byID[id]; !ok {
		return fmt.Errorf("security: no key %q in the ring", id)
	}
	st := &ringState{current: old.current, byID: make(map[string]Key, len(old.byID))}
	for kid, k := range old.byID {
		if kid != id {
			st.byID[kid] = k
		}
	}
	for _, kid := range old.order {
		if kid != id {
			st.order = append(st.order, kid)
		}
	}
	r.state.Store(st)
	return nil
}

// signer returns the current key, or an error when it cannot sign.
func (r *KeyRing) signer() (Key, error) {
	k := r.state.Load().current
	if k.sign == nil {
		return Key{}, fmt.Errorf("security: current key %q cannot sign", k.id)
	}
	return k, nil
}

// lookup returns the verifying key for kid.
func (r *KeyRing) lookup(kid string) (any, bool) {
	k, ok := r.state.Load().byID[kid]
	return k.verify, ok
}

// lookupKey returns the key whose id is kid.
func (r *KeyRing) lookupKey(kid string) (Key, bool) {
	k, ok := r.state.Load().byID[kid]
	return k, ok
}
