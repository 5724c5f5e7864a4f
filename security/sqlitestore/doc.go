// Package sqlitestore keeps Warden's shared security state in one SQLite
// file, through the pure-Go driver modernc.org/sqlite: revoked token and
// family ids (a [security.RevocationLog]), refresh-token families (a
// [security.FamilyStore]), throttle strikes (a [security.ThrottleStore]),
// and named settings such as a generated JWT secret. Server instances on
// one machine that open the same file share all of it.
//
// # Pools
//
// [Open] opens two database/sql pools on the file. The writer has one
// connection, and every write is one transaction on it, begun IMMEDIATE:
// it takes SQLite's write lock at once, so that a read-modify-write such
// as RotateFamily or UpdateStrikes holds the lock from its read to its
// commit, and writers from other processes wait for it (busy_timeout,
// [WithBusyTimeout]) instead of failing. SQLite allows one writer per
// file at a time anyway; a pool of one makes the wait happen in Go,
// without spinning on the lock.
//
// The reader has a fixed number of connections ([WithReaders], by default
// max(4, 2*GOMAXPROCS)), all kept open: idle connections equal open ones,
// and none has a lifetime, so a burst of requests never opens, sets up
// and closes connections. Reader connections are query_only. The hot
// statements (IsRevoked, RevocationsSince, and every write) are prepared
// once, at Open, on the pool that runs them.
//
// The file is in WAL mode with synchronous=NORMAL: readers read a
// snapshot and are not serialized behind the writer, and a commit does
// not wait for fsync (a power cut may lose the last commits, never
// corrupt the file). The path [Memory] keeps the database in memory, in
// one connection that both reads and writes.
//
// # Migrations
//
// [Store.Migrate] applies numbered steps per component and records the
// version reached in warden_migrations. Each step runs in one IMMEDIATE
// transaction with its version bump, so processes that open a fresh file
// at once apply each step once, and a failed step changes nothing. The
// store migrates its own tables, all prefixed warden_, as component
// "warden". An application keeps its own tables in the same file under
// its own component, with [Store.Writer] and [Store.Reader]. A database
// that a newer program migrated further is refused with [ErrNewerSchema].
//
// # Sharing revocations
//
// Each revocation is a row of warden_revocations whose seq is an
// AUTOINCREMENT key: taken inside the write transaction, and SQLite
// commits one write transaction at a time, so seqs are in commit order
// and never reused, even after a sweep. Revoking an id again with a later
// Until replaces its row, which takes a new seq. RevocationsSince(cursor)
// reads the rows after seq cursor; a [security.RevocationCache] in each
// process calls it on every poll with the cursor it last got, and so
// learns, within one poll interval, every revocation that any process
// committed. IsRevoked, for a process that does not cache, is one indexed
// query.
//
// # Housekeeping
//
// Nothing runs in the background. [Store.Sweep] deletes expired
// revocations and families; [Store.SweepStrikes] deletes the strikes a
// throttle no longer needs. A server calls them now and then.
package sqlitestore
