// Package pgstore keeps Warden's security state in PostgreSQL, so that
// every instance of a server sees the same revocations, refresh families,
// throttle strikes and settings (such as a generated JWT secret).
//
// # The model
//
// Each instance calls [Open] with the same URL and gets a [Store]: a pool
// of connections (pgxpool, from github.com/jackc/pgx/v5) and the methods
// of [security.RevocationLog], [security.RevocationWatcher],
// [security.FamilyStore] and [security.ThrottleStore]. The Store owns the
// tables whose names start with warden_; an application keeps its own
// tables in the same database, through [Store.Pool], and versions them
// with [Store.Migrate] under a component name of its own.
//
// Every write is one transaction, and most are one statement, so one
// round trip: Revoke, RotateFamily and the settings need no BEGIN or
// COMMIT. Reads on the request path (IsRevoked, LookupSetting) are one
// indexed point read on a prepared statement. Times are timestamptz,
// microseconds; the clock that decides expiry is the application's, not
// the database's.
//
// # Migrations
//
// The table warden_migrations holds one version per component. Open
// migrates the component "warden". A migration runs its pending steps and
// records the new version in one transaction, under a transaction-scoped
// advisory lock, so that instances starting together apply each step once
// and a failed step changes nothing. A start that finds its schema current
// reads one row and takes no lock. An older program refuses a database
// migrated by a newer one, with an error that matches [ErrNewerSchema]:
// it would not know what the new columns mean.
//
// # The revocation sequence
//
// A [security.RevocationCache] follows the log with RevocationsSince: it
// reads the revocations whose sequence number is above the last it read.
// That works only if numbers become visible in increasing order. A plain
// bigserial does not: transaction A takes 5, B takes 6, B commits first, a
// reader sees 6 and moves its cursor past 5, and when A commits, 5 is
// never read. So Revoke takes its number by incrementing the single row
// of warden_revocation_seq in the same statement that writes the
// revocation. The row lock it takes is held until commit, so the next
// Revoke cannot take a number before this one has committed and become
// visible: numbers are handed out in commit order. The price is that
// revocations are written one at a time, which they are rare enough to
// afford. A revocation renewed with a later expiry takes a new number, so
// that followers that read it before read it again.
//
// # Notifications
//
// Revoke also runs pg_notify('warden_revocations'), delivered when its
// transaction commits. WatchRevocations listens on a connection of its
// own, outside the pool, named "warden revocation watch" in
// pg_stat_activity. It calls changed(true) once it listens and
// changed(false) on each notification, and returns when the connection
// fails; the cache calls it again with a backoff and resyncs. LISTEN and
// NOTIFY are at most once: a notification sent while no one listens, or
// lost with a connection, is gone. That is why the cache also polls, and
// why a notification only says "read the log", never what was revoked.
//
// # When PostgreSQL goes away
//
// Open fails at once when the database cannot be reached (each connection
// attempt is bounded by connect_timeout, 10 s unless the URL says);
// starting before the database is up is the application's retry, with a
// backoff, as the example shows. Once open, calls fail with errors while
// the database is away, and the pool replaces its dead connections when
// it is back: nothing needs reopening. The revocation cache keeps
// answering from memory until its staleness bound, then fails closed, and
// recovers by itself with the database. Errors are returned, never
// logged, and never hold a password or a setting's value.
//
// Connections use prepared statements (pgx's default). Behind a pooler in
// transaction mode, such as PgBouncer, add default_query_exec_mode=exec to
// the URL; LISTEN needs a session, so the watch must reach PostgreSQL
// directly or through a session-mode pool.
package pgstore
