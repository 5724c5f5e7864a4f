package pgstore

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardenrpc/warden/security"
)

// Store keeps Warden's security state in a PostgreSQL database: a
// [security.RevocationLog] and [security.RevocationWatcher], a
// [security.FamilyStore], a [security.ThrottleStore], and named settings.
// Every instance of an application opens its own Store on the same
// database. A Store is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	cfg  *pgxpool.Config
	now  func() time.Time

	// closed ends watches when the Store is closed.
	closed context.Context
	close  context.CancelFunc
}

var (
	_ security.RevocationLog     = (*Store)(nil)
	_ security.RevocationWatcher = (*Store)(nil)
	_ security.FamilyStore       = (*Store)(nil)
	_ security.ThrottleStore     = (*Store)(nil)
)

// Option configures a [Store] at [Open].
type Option func(*options)

type options struct {
	maxConns, minConns int32
	now                func() time.Time
}

// WithMaxConns caps the pool at n connections. The default is the
// greater of 8 and 4×GOMAXPROCS, unless the URL sets pool_max_conns.
func WithMaxConns(n int32) Option { return func(o *options) { o.maxConns = n } }

// WithMinConns keeps at least n connections open, so that a burst after a
// quiet spell does not wait for new ones. The default is 2, unless the URL
// sets pool_min_conns.
func WithMinConns(n int32) Option { return func(o *options) { o.minConns = n } }

// WithClock sets the clock that IsRevoked and RotateFamily read to tell
// whether a revocation or a family has expired, and that dates a family's
// start and rotations. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// defaultConnectTimeout bounds each connection attempt when the URL does
// not say (connect_timeout), so that an unreachable host fails fast.
const defaultConnectTimeout = 10 * time.Second

// Component is the name under which the Store's own tables are migrated
// (see [Store.Migrate]).
const Component = "warden"

// Open connects to the database at url (a postgres:// URL or a key=value
// string, as libpq takes), checks that it answers, and brings the
// Store's tables up to date. It fails at once when the database cannot
// be reached; an application that starts before its database retries,
// with a backoff (see the example). It fails for good, with an error
// that matches [ErrNewerSchema], when the database was migrated by a
// newer program.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{
		maxConns: defaultMaxConns(),
		minConns: 2,
		now:      time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	// pgx redacts the password in its parse errors.
	raw, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if _, set := raw.RuntimeParams["pool_max_conns"]; !set {
		cfg.MaxConns = o.maxConns
	}
	if _, set := raw.RuntimeParams["pool_min_conns"]; !set {
		cfg.MinConns = min(o.minConns, cfg.MaxConns)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "warden"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: database unreachable: %w", err)
	}
	s := &Store{pool: pool, cfg: cfg, now: o.now}
	s.closed, s.close = context.WithCancel(context.Background())
	if err := s.Migrate(ctx, Component, schema); err != nil {
		_ = s.Close() // always nil; the migration's error is the one to report
		return nil, err
	}
	return s, nil
}

// defaultMaxConns is the greater of 8 and 4×GOMAXPROCS, within int32.
func defaultMaxConns() int32 {
	return int32(min(max(8, 4*runtime.GOMAXPROCS(0)), math.MaxInt32))
}

// Pool returns the Store's connection pool, for the application's own
// tables in the same database (migrated with [Store.Migrate] under a
// component of their own).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: database unreachable: %w", err)
	}
	return nil
}

// Close ends the Store's watches and closes its connections, waiting for
// those in use to be released. It returns nil; the error is there for
// io.Closer.
func (s *Store) Close() error {
	s.close()
	s.pool.Close()
	return nil
}

// Sweep deletes the revocations and refresh families whose tokens expired
// before now. Strikes are swept by [Store.SweepStrikes], whose caller
// knows how long a key is remembered.
func (s *Store) Sweep(ctx context.Context, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
		WITH r AS (DELETE FROM warden_revocations WHERE until < $1)
		DELETE FROM warden_refresh_families WHERE expires_at < $1`, now)
	if err != nil {
		return fmt.Errorf("pgstore: sweep: %w", err)
	}
	return nil
}

// fromDB turns PostgreSQL's reading of the zero time.Time (0001-01-01 in
// the local zone) back into the zero value.
func fromDB(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t
}
