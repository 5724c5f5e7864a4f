package security

import (
	"context"
	"time"
)

// Revocation is one revoked id, a token's "jti" or a refresh family's
// "fid", with the time after which no token it names can verify anyway, so
// that it may be forgotten.
type Revocation struct {
	ID    string
	Until time.Time
}

// RevocationLog is a [RevocationStore] whose revocations can be read back
// in the order they were committed, so that a [RevocationCache] in every
// process sharing the store can follow it. The stores under security/
// (sqlitestore, pgstore) implement it.
type RevocationLog interface {
	RevocationStore
	// RevocationsSince returns, in commit order, the revocations committed
	// after cursor whose Until is not before now, and the cursor of the
	// last revocation read (cursor itself when there is nothing new).
	// Cursor 0 reads every revocation in force. Cursors only grow, in the
	// order revocations are committed: a revocation committed after a read
	// never gets a cursor at or below the one that read returned.
	RevocationsSince(ctx context.Context, cursor int64, now time.Time) ([]Revocation, int64, error)
}

// RevocationWatcher is implemented by a [RevocationLog] that can tell a
// [RevocationCache] when revocations are committed (PostgreSQL's
// LISTEN/NOTIFY), so that the cache reads them at once instead of at its
// next poll.
type RevocationWatcher interface {
	// WatchRevocations blocks until ctx ends or the watch fails, and
	// returns why. It calls changed(true) each time it has connected or
	// reconnected, after which anything may have been missed, and
	// changed(false) each time a revocation may have been committed.
	// Notifications may be lost; the cache polls as well.
	WatchRevocations(ctx context.Context, changed func(resync bool)) error
}

// Strikes is what a [Throttle] remembers of one key: how many attempts it
// was charged, when the last one was, and until when the key is locked.
type Strikes struct {
	N     int
	Last  time.Time
	Until time.Time
}

// ThrottleStore keeps a [Throttle]'s strikes where every process that
// shares it sees them, so that five bad passwords are five whichever
// instance they reach. [MemoryStore] keeps them in one process.
type ThrottleStore interface {
	// UpdateStrikes reads key's strikes (the zero Strikes when it has
	// none), calls update with them, and stores what update returns, as
	// one atomic step: concurrent updates of one key, from any process,
	// are serialized. Storing the zero Strikes deletes the key. update may
	// be called more than once (a store retries a conflicting
	// transaction), so it must not have side effects.
	UpdateStrikes(ctx context.Context, key string, update func(Strikes) Strikes) error
	// SweepStrikes deletes the keys whose last strike is before t and
	// which are not locked at t.
	SweepStrikes(ctx context.Context, t time.Time) error
}
