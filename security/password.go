package security

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/scrypt"

	"github.com/wardenrpc/warden/rpc"
)

// Password hashing defaults: passlib's scrypt format at a cost of 2^17
// (128 MiB, about half a second per hash on a current core).
const (
	DefaultScryptLn = 17 // N = 2^17
	DefaultScryptR  = 8
	DefaultScryptP  = 1
	// MaxPasswordBytes is the longest password hashed or verified.
	MaxPasswordBytes = 1 << 10

	saltBytes       = 16
	keyBytes        = 32
	maxEncodedBytes = 256
)

// PasswordError is a password refused before any hashing: too long, or not
// UTF-8. It is a -32602 error whose data names the param "password", so a
// method can return it as it is.
type PasswordError struct {
	Problem string
}

// Error returns the message callers see, as [rpc.Coder] asks.
func (e *PasswordError) Error() string { return "Invalid params" }

// ErrorCode makes PasswordError an [rpc.Coder].
func (e *PasswordError) ErrorCode() int { return rpc.CodeInvalidParams }

// ErrorData is the data of the -32602 error.
func (e *PasswordError) ErrorData() any {
	return rpc.ParamError{Param: "password", Problem: e.Problem}
}

// Is makes errors.Is match any PasswordError with the same problem.
func (e *PasswordError) Is(target error) bool {
	t, ok := target.(*PasswordError)
	return ok && t.Problem == e.Problem
}

// Errors of [Hasher].
var (
	ErrPasswordTooLong = &PasswordError{Problem: "longer than 1024 bytes"}
	ErrPasswordNotUTF8 = &PasswordError{Problem: "not valid UTF-8"}
	// ErrMalformedHash is a stored hash that is not passlib's scrypt format.
	ErrMalformedHash = errors.New("security: malformed scrypt hash")
	// ErrHashTooCostly is a stored hash whose parameters exceed the
	// hasher's bounds. It is refused without computing anything.
	ErrHashTooCostly = errors.New("security: scrypt parameters exceed the bounds")
)

// Hasher hashes and verifies passwords with scrypt, in passlib's format
//
//	$scrypt$ln=17,r=8,p=1$<salt>$<key>
//
// with a 16-byte salt and a 32-byte key, both in standard base64 without
// padding, so that hashes made by Python's passlib verify here and the
// other way round. At most a fixed number of hashes run at once (each
// takes 128·r·2^ln bytes: 128 MiB at the default cost); a caller that
// waits longer than the bound for a slot gets -32005 with retry_after_ms.
// Create one with [NewHasher]; it is safe for concurrent use.
type Hasher struct {
	ln, r, p int
	maxMem   int64 // bytes: 128·r·N
	maxWork  int64 // N·r·p
	sem      chan struct{}
	wait     time.Duration
	lastNs   atomic.Int64 // the last hash's duration, for retry_after_ms
	dummy    params
}

type params struct {
	ln, r, p  int
	salt, key []byte
}

// HasherOption configures a [Hasher].
type HasherOption func(*Hasher)

// WithScryptCost sets the scrypt cost of new hashes: N = 2^ln, r and p. Lower it
// only in tests: [Hasher.NeedsRehash] then reports default-cost hashes
// as needing a rehash, and the other way round.
func WithScryptCost(ln, r, p int) HasherOption {
	return func(h *Hasher) { h.ln, h.r, h.p = ln, r, p }
}

// WithHashConcurrency sets how many hashes may run at once (default
// GOMAXPROCS, at most 4) and how long a caller waits for a slot (default
// 1 s) before it gets -32005.
func WithHashConcurrency(n int, wait time.Duration) HasherOption {
	return func(h *Hasher) { h.sem, h.wait = make(chan struct{}, max(n, 1)), wait }
}

// NewHasher returns a Hasher. It fails for a cost out of bounds: ln from 1
// to 24, r from 1 to 64, p from 1 to 16, memory at most 1 GiB.
func NewHasher(opts ...HasherOption) (*Hasher, error) {
	h := &Hasher{ln: DefaultScryptLn, r: DefaultScryptR, p: DefaultScryptP, wait: time.Second}
	for _, o := range opts {
		o(h)
	}
	if h.ln < 1 || h.ln > 24 || h.r < 1 || h.r > 64 || h.p < 1 || h.p > 16 || memory(h.ln, h.r) > 1<<30 {
		return nil, fmt.Errorf("security: scrypt cost ln=%d,r=%d,p=%d is out of bounds", h.ln, h.r, h.p)
	}
	if h.sem == nil {
		h.sem = make(chan struct{}, min(runtime.GOMAXPROCS(0), 4))
	}
	if h.wait < 0 {
		h.wait = 0
	}
	// Stored hashes are accepted up to twice the memory and four times the
	// work of the default cost, or of the configured one if larger.
	h.maxMem = max(2*memory(DefaultScryptLn, DefaultScryptR), 2*memory(h.ln, h.r))
	h.maxWork = max(4*work(DefaultScryptLn, DefaultScryptR, DefaultScryptP), 4*work(h.ln, h.r, h.p))
	h.dummy = params{ln: h.ln, r: h.r, p: h.p, salt: randomBytes(saltBytes), key: randomBytes(keyBytes)}
	return h, nil
}

func memory(ln, r int) int64  { return 128 * int64(r) << ln }
func work(ln, r, p int) int64 { return int64(r) * int64(p) << ln }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// checkPassword refuses what must never reach scrypt.
func checkPassword(pw string) error {
	if len(pw) > MaxPasswordBytes {
		return ErrPasswordTooLong
	}
	if !utf8.ValidString(pw) {
		return ErrPasswordNotUTF8
	}
	return nil
}

// Hash returns password's hash in passlib's format, with a new random
// salt. Errors: a *[PasswordError], the -32005 *[rpc.Error] when no slot
// frees in time, or ctx's error.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	p := params{ln: h.ln, r: h.r, p: h.p, salt: randomBytes(saltBytes)}
	key, err := h.derive(ctx, password, p, keyBytes)
	if err != nil {
		return "", err
	}
	p.key = key
	return p.encode(), nil
}

// Verify reports whether password matches encoded, comparing in constant
// time. A mismatch is (false, nil). Errors: a *[PasswordError],
// [ErrMalformedHash], [ErrHashTooCostly] (nothing computed), the -32005
// *[rpc.Error], or ctx's error.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := checkPassword(password); err != nil {
		return false, err
	}
	p, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if p.r > 64 || p.p > 16 || memory(p.ln, p.r) > h.maxMem || work(p.ln, p.r, p.p) > h.maxWork {
		return false, ErrHashTooCostly
	}
	return h.compare(ctx, password, p)
}

// VerifyDummy does the work of Verify against a hash of the configured
// cost that matches nothing, and returns (false, nil) or Verify's errors.
// Call it when the user does not exist, so that "no such user" takes as
// long as "wrong password".
func (h *Hasher) VerifyDummy(ctx context.Context, password string) (bool, error) {
	if err := checkPassword(password); err != nil {
		return false, err
	}
	_, err := h.compare(ctx, password, h.dummy) // the key is random: it never matches
	return false, err
}

func (h *Hasher) compare(ctx context.Context, password string, p params) (bool, error) {
	key, err := h.derive(ctx, password, p, len(p.key))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// NeedsRehash reports whether encoded should be replaced by a new hash
// of the password, made after a successful Verify: it is malformed, or its
// cost, salt or key length differ from what Hash makes now.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, err := parseHash(encoded)
	if err != nil {
		return true
	}
	return p.ln != h.ln || p.r != h.r || p.p != h.p || len(p.salt) != saltBytes || len(p.key) != keyBytes
}

// derive runs scrypt in one of the hasher's slots.
func (h *Hasher) derive(ctx context.Context, password string, p params, n int) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.sem }()
	start := time.Now()
	key, err := scrypt.Key([]byte(password), p.salt, 1<<p.ln, p.r, p.p, n)
	h.lastNs.Store(int64(time.Since(start)))
	if err != nil {
		return nil, ErrMalformedHash // parameters scrypt refuses
	}
	return key, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	if h.wait > 0 {
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case h.sem <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	// A slot frees when a running hash ends; one hash's time is the hint.
	retry := max(time.Duration(h.lastNs.Load()), time.Millisecond)
	return rpc.LimitExceeded(int64((retry + time.Millisecond - 1) / time.Millisecond))
}

func (p params) encode() string {
	enc := base64.RawStdEncoding
	return "$scrypt$ln=" + strconv.Itoa(p.ln) + ",r=" + strconv.Itoa(p.r) + ",p=" + strconv.Itoa(p.p) +
		"$" + enc.EncodeToString(p.salt) + "$" + enc.EncodeToString(p.key)
}

// parseHash reads passlib's scrypt format. Everything is bounded before it
// is decoded; costs are checked by the caller.
func parseHash(s string) (params, error) {
	var p params
	if len(s) > maxEncodedBytes {
		return p, ErrMalformedHash
	}
	rest, ok := strings.CutPrefix(s, "$scrypt$")
	if !ok {
		return p, ErrMalformedHash
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return p, ErrMalformedHash
	}
	kv := strings.Split(fields[0], ",")
	if len(kv) != 3 {
		return p, ErrMalformedHash
	}
	var err1, err2, err3 error
	p.ln, err1 = param(kv[0], "ln=", 31)
	p.r, err2 = param(kv[1], "r=", 1<<10)
	p.p, err3 = param(kv[2], "p=", 1<<10)
	if err1 != nil || err2 != nil || err3 != nil {
		return p, ErrMalformedHash
	}
	enc := base64.RawStdEncoding.Strict()
	var err error
	if p.salt, err = enc.DecodeString(fields[1]); err != nil || len(p.salt) == 0 || len(p.salt) > 64 {
		return p, ErrMalformedHash
	}
	if p.key, err = enc.DecodeString(fields[2]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, ErrMalformedHash
	}
	return p, nil
}

// param reads "name=digits" with 1 <= value <= limit.
func param(s, name string, limit int) (int, error) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || v == "" || len(v) > 4 || (len(v) > 1 && v[0] == '0') {
		return 0, ErrMalformedHash
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, ErrMalformedHash
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < 1 || n > limit {
		return 0, ErrMalformedHash
	}
	return n, nil
}
