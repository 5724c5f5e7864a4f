// Package storetest checks that a store of Warden's shared security state
// behaves as package security expects, in the manner of testing/fstest:
// a store's own tests call [Run] with a function that opens it, and every
// rule that the interfaces in package security write down becomes a
// subtest that can fail.
//
// A store shared by several server instances is opened twice, as two
// instances would open it, so that the kit can check that what one handle
// writes the other reads, that racing writes through both are serialized,
// and that the revocation log is read in commit order:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (a, b storetest.Store) {
//			path := filepath.Join(t.TempDir(), "warden.db")
//			a, b = open(t, path), open(t, path) // each closed by t.Cleanup
//			return a, b
//		})
//	}
//
// Run never looks at the wall clock's progress: times it writes are hours
// away from now, so a slow machine, or -race, cannot change an outcome.
// What stays out of the kit is what is not part of [Store]: settings,
// sweeping, migrations and [security.RevocationWatcher]; each store tests
// those itself.
package storetest

import (
	"github.com/wardenrpc/warden/security"
)

// Store is what Warden's shared-state stores implement: a revocation log
// that every instance follows, refresh families, and throttle strikes.
// [security.MemoryStore] is one, for a single process.
type Store interface {
	security.RevocationLog
	security.FamilyStore
	security.ThrottleStore
}
