package security

import (
	"cmp"
	"context"
	"errors"
	"slices"
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
// means that it was copied, so the [Issuer] ends the whole family, unless
// it is the token that the last rotation spent, presented again within a
// short grace window: two tabs refreshing at once. The store remembers
// that token and when it was spent ([FamilyState]) so that the Issuer can
// tell.
//
// Implementations must make RotateFamily atomic: of two concurrent
// rotations of one token, one succeeds and the other gets
// [ErrRefreshReused], and the state that Family reads afterwards is the
// winner's whole: its spent token, its next one, its time.
type FamilyStore interface {
	// StartFamily records a new family of subject whose live refresh token
	// is tokenID, expiring at expires. Its state has no Previous token and
	// a RotatedAt of now, by the store's clock.
	StartFamily(ctx context.Context, family, subject, tokenID string, expires time.Time) error
	// RotateFamily replaces the live token spent by next, now expiring at
	// expires, and records spent as the Previous token and now, by the
	// store's clock, as RotatedAt. It returns ErrRefreshReused when spent
	// is not the live token, and ErrUnknownFamily when the family does not
	// exist, has ended or has expired; either way it changes nothing.
	RotateFamily(ctx context.Context, family, spent, next string, expires time.Time) error
	// EndFamily ends the family: its refresh tokens buy nothing more. Ending
	// an unknown family is not an error.
	EndFamily(ctx context.Context, family string) error
	// Family returns the state of family, or ErrUnknownFamily when the store
	// holds no such family (one that expired may already be forgotten).
	Family(ctx context.Context, family string) (FamilyState, error)
}

// FamilyState is what a FamilyStore knows of one refresh family.
type FamilyState struct {
	Subject   string
	Live      string    // the id of the family's live refresh token
	Previous  string    // the id the last rotation spent; "" before any rotation
	RotatedAt time.Time // when the last rotation happened (or the family started), by the store's clock
	Expires   time.Time // when the live refresh token expires
	Ended     bool
}

// Errors a [FamilyStore] returns from RotateFamily and Family.
var (
	ErrRefreshReused = errors.New("security: refresh token already spent")
	ErrUnknownFamily = errors.New("security: unknown or ended refresh family")
)

// MemoryStore is a [RevocationLog], a [FamilyStore] and a
// [ThrottleStore] held in memory, for tests and single-process servers. It
// forgets revocations once they expire and families once their last token
// does. The zero value is ready to use.
type MemoryStore struct {
	// Now tells the time; nil means time.Now. Set it before first use.
	Now func() time.Time

	mu        sync.RWMutex
	revoked   map[string]memRevocation
	log       []memLogEntry // revocations by seq; stale entries skipped
	seq       int64         // the last revocation's sequence number
	subjects  subjectIndex  // the subject revocations among revoked
	families  map[string]*memFamily
	strikes   map[string]Strikes
	nextSweep time.Time
}

// memRevocation is one revoked id. seq orders it in the log: a revocation
// whose Until moves later takes a new seq, so that followers read it again.
type memRevocation struct {
	until time.Time
	seq   int64
}

// memLogEntry is one line of the log. It is stale, and skipped, when the
// id has since been revoked again or forgotten.
type memLogEntry struct {
	seq int64
	id  string
}

type memFamily struct {
	subject  string
	live     string
	previous string
	rotated  time.Time
	expires  time.Time
	ended    bool
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
		m.revoked = map[string]memRevocation{}
	}
	if old, ok := m.revoked[id]; !ok || until.After(old.until) {
		m.seq++
		m.revoked[id] = memRevocation{until: until, seq: m.seq}
		m.log = append(m.log, memLogEntry{seq: m.seq, id: id})
	}
	m.subjects.add(id, until)
	return nil
}

// IsRevoked implements [RevocationStore].
func (m *MemoryStore) IsRevoked(_ context.Context, id string) (bool, error) {
	m.mu.RLock()
	r, ok := m.revoked[id]
	m.mu.RUnlock()
	return ok && !m.now().After(r.until), nil
}

// revokedSubject reports whether a token of subject issued at iat is revoked by a subject revocation.
func (m *MemoryStore) revokedSubject(subject string, iat time.Time) bool {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.subjects.revoked(subject, iat, now)
}

// RevocationsSince implements [RevocationLog]. Sequence numbers are
// handed out under the store's lock, so their order is commit order.
func (m *MemoryStore) RevocationsSince(_ context.Context, cursor int64, now time.Time) ([]Revocation, int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(m.log, cursor+1, func(e memLogEntry, seq int64) int {
		return cmp.Compare(e.seq, seq)
	})
	var out []Revocation
	for _, e := range m.log[i:] {
		r, ok := m.revoked[e.id]
		if !ok || r.seq != e.seq || r.until.Before(now) {
			continue
		}
		out = append(out, Revocation{ID: e.id, Until: r.until})
		cursor = e.seq
	}
	return out, cursor, nil
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
	m.families[family] = &memFamily{subject: subject, live: tokenID, rotated: now, expires: expires}
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
	f.previous, f.live, f.rotated, f.expires = spent, next, now, expires
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

// Family implements [FamilyStore]. An ended family is kept until it
// expires; an expired one until the next sweep.
func (m *MemoryStore) Family(_ context.Context, family string) (FamilyState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.families[family]
	if !ok {
		return FamilyState{}, ErrUnknownFamily
	}
	return FamilyState{
		Subject:   f.subject,
		Live:      f.live,
		Previous:  f.previous,
		RotatedAt: f.rotated,
		Expires:   f.expires,
		Ended:     f.ended,
	}, nil
}

// UpdateStrikes implements [ThrottleStore]. update runs under the
// store's lock, once.
func (m *MemoryStore) UpdateStrikes(_ context.Context, key string, update func(Strikes) Strikes) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	s := update(m.strikes[key])
	if s.N == 0 && s.Last.IsZero() && s.Until.IsZero() {
		delete(m.strikes, key)
		return nil
	}
	if m.strikes == nil {
		m.strikes = map[string]Strikes{}
	}
	m.strikes[key] = s
	return nil
}

// SweepStrikes implements [ThrottleStore].
func (m *MemoryStore) SweepStrikes(_ context.Context, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.strikes {
		if s.Last.Before(t) && !s.Until.After(t) {
			delete(m.strikes, k)
		}
	}
	return nil
}

// Revocations returns how many revocations the store holds, expired ones
// included until they are swept.
func (m *MemoryStore) Revocations() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.revoked)
}

// Families returns how many refresh families the store holds, expired ones
// included until they are swept.
func (m *MemoryStore) Families() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.families)
}

// sweep forgets expired entries, at most once per sweepEvery, and drops
// the log's stale lines. An ended family is kept until it expires so that
// its reuse is still recognised. Strikes are left to SweepStrikes, whose
// caller knows how long a key should be remembered.
func (m *MemoryStore) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for id, r := range m.revoked {
		if now.After(r.until) {
			delete(m.revoked, id)
		}
	}
	m.log = slices.DeleteFunc(m.log, func(e memLogEntry) bool {
		r, ok := m.revoked[e.id]
		return !ok || r.seq != e.seq
	})
	m.subjects.sweep(now)
	for id, f := range m.families {
		if now.After(f.expires) {
			delete(m.families, id)
		}
	}
}
