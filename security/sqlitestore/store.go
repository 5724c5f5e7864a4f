package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite" // the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wardenrpc/warden/security"
)

// Store is Warden's shared security state in one SQLite file: a
// [security.RevocationLog], a [security.FamilyStore] and a
// [security.ThrottleStore], plus named settings. Create one with [Open];
// it is safe for concurrent use, and several Stores, in one process or
// many, may open the same file.
type Store struct {
	path   string
	now    func() time.Time
	writer *sql.DB // one connection; every write is one IMMEDIATE transaction on it
	reader *sql.DB // a fixed pool of query_only connections (writer itself in memory)

	// Statements prepared once, at Open, on the pool that runs them.
	isRevoked, since, lookupSetting, ping, familyState *sql.Stmt // reader
	revoke, startFamily, family, rotate, endFamily     *sql.Stmt
	strikes, putStrikes, deleteStrikes, sweepStrikes   *sql.Stmt
	insertSetting, setting                             *sql.Stmt
	sweepRevocations, sweepFamilies                    *sql.Stmt
}

// Interfaces the Store implements.
var (
	_ security.RevocationLog = (*Store)(nil)
	_ security.FamilyStore   = (*Store)(nil)
	_ security.ThrottleStore = (*Store)(nil)
)

// Option configures [Open].
type Option func(*config)

type config struct {
	readers     int
	now         func() time.Time
	busyTimeout time.Duration
	mustExist   bool
}

// WithReaders sets the number of connections in the reader pool. They
// are all opened once and kept: the pool never closes an idle one. The
// default is max(4, 2*GOMAXPROCS). It has no effect on ":memory:".
func WithReaders(n int) Option { return func(c *config) { c.readers = n } }

// WithClock sets the clock that IsRevoked and RotateFamily read to tell
// whether a revocation or a family has expired, and that dates a family's
// start and rotations. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithBusyTimeout sets how long a statement waits for a lock that another
// connection, or another process, holds, before it fails with
// SQLITE_BUSY. The default is 10 s.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithMustExist makes Open fail, with an error that wraps
// [io/fs.ErrNotExist], when the file does not exist, instead of creating
// it: for a tool that reads a server's database and must not make an
// empty one by mistake.
func WithMustExist() Option { return func(c *config) { c.mustExist = true } }

// Memory is the path that keeps the database in memory, in one connection
// that reads and writes: for tests and single-process servers. Each Open
// of it is a database of its own.
const Memory = ":memory:"

// Open opens the database in the file path, creating it unless
// [WithMustExist] is given, switches it to WAL, and brings the store's
// tables up to date with [Store.Migrate] (component "warden"). It fails
// with an error that says what to do when the file cannot be opened, and
// when the database was written by a newer program.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	c := config{
		readers:     max(4, 2*runtime.GOMAXPROCS(0)),
		now:         time.Now,
		busyTimeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case path == "":
		return nil, errors.New("sqlitestore: Open needs a path (or sqlitestore.Memory)")
	case c.readers < 1:
		return nil, fmt.Errorf("sqlitestore: %d readers: need at least one", c.readers)
	case c.now == nil:
		return nil, errors.New("sqlitestore: nil clock")
	case c.busyTimeout < 0:
		return nil, errors.New("sqlitestore: negative busy timeout")
	}
	s := &Store{path: path, now: c.now}
	if err := s.open(ctx, c); err != nil {
		_ = s.Close() // open's error is the one to report
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, c config) error {
	busy := fmt.Sprintf("busy_timeout(%d)", c.busyTimeout.Milliseconds())
	w := url.Values{"_pragma": {busy, "foreign_keys(1)"}}
	// BEGIN IMMEDIATE takes the write lock at once, so that a transaction
	// that reads before it writes waits for other writers (busy_timeout)
	// instead of failing when its snapshot turns out to be stale.
	w.Set("_txlock", "immediate")
	memory := s.path == Memory
	if !memory {
		w["_pragma"] = append(w["_pragma"], "synchronous(NORMAL)")
		if c.mustExist {
			if _, err := os.Stat(s.path); err != nil {
				return fmt.Errorf("sqlitestore: %w", err)
			}
			w.Set("mode", "rw")
		}
	}
	var err error
	if s.writer, err = sql.Open("sqlite", dsn(s.path, w)); err != nil {
		return err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := s.writer.PingContext(ctx); err != nil {
		return openError(s.path, err)
	}
	if !memory {
		if err := s.setWAL(ctx, c.busyTimeout); err != nil {
			return fmt.Errorf("open %s: setting WAL mode: %w", s.path, err)
		}
	}
	if err := s.Migrate(ctx, "warden", schema); err != nil {
		return err
	}

	if memory {
		s.reader = s.writer
	} else {
		r := url.Values{"_pragma": {busy, "query_only(1)"}}
		if s.reader, err = sql.Open("sqlite", dsn(s.path, r)); err != nil {
			return err
		}
		s.reader.SetMaxOpenConns(c.readers)
		s.reader.SetMaxIdleConns(c.readers)
		s.reader.SetConnMaxLifetime(0)
		s.reader.SetConnMaxIdleTime(0)
		if err := s.reader.PingContext(ctx); err != nil {
			return openError(s.path, err)
		}
	}
	return s.prepare(ctx)
}

// setWAL switches the file to WAL mode, which stays with the file. The
// switch needs the file to itself, and SQLite answers SQLITE_BUSY at
// once, without waiting for busy_timeout, when other connections (such
// as servers starting at the same moment) hold it; so setWAL retries for
// as long as a busy timeout would have waited.
func (s *Store) setWAL(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		var se *sqlite.Error
		switch {
		case err == nil && !strings.EqualFold(mode, "wal"):
			return fmt.Errorf("journal mode is %q", mode)
		case err == nil:
			return nil
		case !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline):
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// dsn is the driver's name for the file at path with the query q. SQLite
// reads "file:" names as URIs, so the characters that a URI gives meaning
// to are escaped.
func dsn(path string, q url.Values) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + esc.Replace(path) + "?" + q.Encode()
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		db   *sql.DB
		stmt **sql.Stmt
		sql  string
	}{
		{s.reader, &s.isRevoked, `SELECT 1 FROM warden_revocations WHERE id = ? AND until >= ?`},
		{s.reader, &s.since, `SELECT seq, id, until FROM warden_revocations WHERE seq > ? AND until >= ? ORDER BY seq`},
		{s.reader, &s.lookupSetting, `SELECT value FROM warden_settings WHERE name = ?`},
		{s.reader, &s.ping, `SELECT version FROM warden_migrations WHERE component = 'warden'`},
		{s.reader, &s.familyState, `SELECT subject, live_token, prev_token, rotated_at, expires_at, ended
			FROM warden_families WHERE family = ?`},

		// A revocation with a later until replaces the row, which takes a
		// new seq (AUTOINCREMENT never reuses one), so that followers that
		// read the first one read it again.
		{s.writer, &s.revoke, `REPLACE INTO warden_revocations (id, until) SELECT ?1, ?2
			WHERE NOT EXISTS (SELECT 1 FROM warden_revocations WHERE id = ?1 AND until >= ?2)`},
		{s.writer, &s.startFamily, `INSERT INTO warden_families (family, subject, live_token, rotated_at, expires_at) VALUES (?, ?, ?, ?, ?)`},
		{s.writer, &s.family, `SELECT live_token, ended, expires_at FROM warden_families WHERE family = ?`},
		{s.writer, &s.rotate, `UPDATE warden_families SET prev_token = ?, live_token = ?, rotated_at = ?, expires_at = ? WHERE family = ?`},
		{s.writer, &s.endFamily, `UPDATE warden_families SET ended = 1 WHERE family = ?`},
		{s.writer, &s.strikes, `SELECT n, last, until FROM warden_strikes WHERE key = ?`},
		{s.writer, &s.putStrikes, `INSERT INTO warden_strikes (key, n, last, until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET n = excluded.n, last = excluded.last, until = excluded.until`},
		{s.writer, &s.deleteStrikes, `DELETE FROM warden_strikes WHERE key = ?`},
		{s.writer, &s.sweepStrikes, `DELETE FROM warden_strikes
			WHERE (last IS NULL OR last < ?1) AND (until IS NULL OR until <= ?1)`},
		{s.writer, &s.insertSetting, `INSERT INTO warden_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`},
		{s.writer, &s.setting, `SELECT value FROM warden_settings WHERE name = ?`},
		{s.writer, &s.sweepRevocations, `DELETE FROM warden_revocations WHERE until < ?`},
		{s.writer, &s.sweepFamilies, `DELETE FROM warden_families WHERE expires_at < ?`},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("sqlitestore: %s: preparing %q: %w", s.path, strings.Join(strings.Fields(p.sql), " "), err)
		}
		*p.stmt = stmt
	}
	return nil
}

// Reader returns the pool of read-only connections, for an application
// that keeps its own tables in the same file. Its connections refuse to
// write (PRAGMA query_only), except with [Memory], where Reader and
// Writer are one connection. Do not close it; [Store.Close] does.
func (s *Store) Reader() *sql.DB { return s.reader }

// Writer returns the pool of the one connection that writes. Its
// transactions are IMMEDIATE: they take SQLite's write lock when they
// begin. Keep them short: every write of the store waits for them. Do not
// close it; [Store.Close] does.
func (s *Store) Writer() *sql.DB { return s.writer }

// Write runs fn in one IMMEDIATE transaction on the writer, committed when
// fn returns nil and rolled back otherwise: the way an application that
// keeps its own tables in the store's file writes them, serialized with
// the store's own writes.
func (s *Store) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error is the one to report
		return err
	}
	return tx.Commit()
}

// Ping reports whether the store can read its database.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.ping.QueryRowContext(ctx).Scan(&v); err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", s.path, err)
	}
	return nil
}

// Sweep deletes the revocations and the families that expired before now:
// no token they name can verify any more. Strikes are swept by
// [Store.SweepStrikes], whose caller knows how long it remembers a key.
func (s *Store) Sweep(ctx context.Context, now time.Time) error {
	return s.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, s.sweepRevocations).ExecContext(ctx, millis(now)); err != nil {
			return err
		}
		_, err := tx.StmtContext(ctx, s.sweepFamilies).ExecContext(ctx, millis(now))
		return err
	})
}

// Close closes the statements and both pools.
func (s *Store) Close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{
		s.isRevoked, s.since, s.lookupSetting, s.ping, s.familyState,
		s.revoke, s.startFamily, s.family, s.rotate, s.endFamily,
		s.strikes, s.putStrikes, s.deleteStrikes, s.sweepStrikes,
		s.insertSetting, s.setting, s.sweepRevocations, s.sweepFamilies,
	} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	if s.reader != nil && s.reader != s.writer {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// millis is how times are stored: Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }

// untilMillis rounds up, so that a revocation or a family never ends
// before the time it was given.
func untilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
