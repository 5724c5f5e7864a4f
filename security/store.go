package security

import (
	"context"
	"errors"
	"sync"
	"time"
)

// RevocationStore remembers revoked token ids ("jti") and refresh family ids
// ("fid") until the tokens they name could no longer be valid anyway.
// Applications put it in their database; [MemoryStore] is the default.
type RevocationStore interface {
	// Revoke records id as revoked until the time given, after which the
	// store may forget it. Revoking an id twice keeps the later time.
	Revoke(ctx context.Context, id string, until time.Time) error
	// IsRevoked reports whether id is revoked. It is called on every
	// authenticated request, so it should be fast.
	IsRevoked(ctx context.Context, id string) (bool, error)
}

// FamilyStore tracks refresh-token families. A family starts when a pair is
// issued and holds one live refresh token at a time: each refresh spends
// the current token and names its successor. Presenting a spent token
// means that it was copied, so the [Issuer] ends the whole family.
//
// Implementations must make RotateFamily atomic: of two concurrent
// rotations of one token, one succeeds and the other gets
// [ErrRefreshReused].
type FamilyStore interface {
	// StartFamily records a new family of subject whose live refresh token
	// is tokenID, expiring at expires.
	StartFamily(ctx context.Context, family, subject, tokenID string, expires time.Time) error
	// RotateFamily replaces the live token spent by next, now expiring at
	// expires. It returns ErrRefreshReused when spent is not the live token,
	// and ErrUnknownFamily when the family does not exist, has ended or has
	// expired.
	RotateFamily(ctx context.Context, family, spent, next string, expires time.Time) error
	// EndFamily ends the family: its refresh tokens buy nothing more. Ending
	// an unknown family is not an error.
	EndFamily(ctx context.Context, family string) error
}

// Errors a [FamilyStore] returns from RotateFamily.
var (
	ErrRefreshReused = errors.New("security: refresh token already spent")
	ErrUnknownFamily = errors.New("security: unknown or ended refresh family")
)

// MemoryStore is a [RevocationStore] and a [FamilyStore] held in memory, for
// tests and single-process servers. It forgets revocations once they expire
// and families once their last token does. The zero value is ready to use.
type MemoryStore struct {
	// Now tells the time; nil means time.Now. Set it before first use.
	Now func() time.Time

	mu        sync.RWMutex
	revoked   map[string]time.Time
	families  map[string]*memFamily
	nextSweep time.Time
}

type memFamily struct {
	subject string
	live    string
	expires time.Time
	ended   bool
}

// sweepEvery bounds how often a write scans for expired entries, so that
// the cost of forgetting is spread over many writes.
const sweepEvery = time.Minute

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

func (m *MemoryStore) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Revoke implements [RevocationStore].
func (m *MemoryStore) Revoke(_ context.Context, id string, until time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if m.revoked == nil {
		m.revoked = map[string]time.Time{}
	}
	if old, ok := m.revoked[id]; !ok || until.After(old) {
		m.revoked[id] = until
	}
	return nil
}

// IsRevoked implements [RevocationStore].
func (m *MemoryStore) IsRevoked(_ context.Context, id string) (bool, error) {
	m.mu.RLock()
	until, ok := m.revoked[id]
	m.mu.RUnlock()
	return ok && !m.now().After(until), nil
}

// StartFamily implements [FamilyStore].
func (m *MemoryStore) StartFamily(_ context.Context, family, subject, tokenID string, expires time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if m.families == nil {
		m.families = map[string]*memFamily{}
	}
	if _, dup := m.families[family]; dup {
		return errors.New("security: family id already in use")
	}
	m.families[family] = &memFamily{subject: subject, live: tokenID, expires: expires}
	return nil
}

// RotateFamily implements [FamilyStore].
func (m *MemoryStore) RotateFamily(_ context.Context, family, spent, next string, expires time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.families[family]
	if !ok || f.ended || now.After(f.expires) {
		return ErrUnknownFamily
	}
	if f.live != spent {
		return ErrRefreshReused
	}
	f.live, f.expires = next, expires
	return nil
}

// EndFamily implements [FamilyStore].
func (m *MemoryStore) EndFamily(_ context.Context, family string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.families[family]; ok {
		f.ended = true
	}
	return nil
}

// Len returns how many revocations and families the store holds, expired
// ones included until they are swept.
func (m *MemoryStore) Len() (revocations, families int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.revoked), len(m.families)
}

// sweep forgets expired entries, at most once per sweepEvery. An ended
// family is kept until it expires so that its reuse is still recognised.
func (m *MemoryStore) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for id, until := range m.revoked {
		if now.After(until) {
			delete(m.revoked, id)
		}
	}
	for id, f := range m.families {
		if now.After(f.expires) {
			delete(m.families, id)
		}
	}
}
