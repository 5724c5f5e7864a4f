package security

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a [RevocationCache].
const (
	// DefaultPollInterval is how often a cache reads new revocations from
	// a log that cannot push them.
	DefaultPollInterval = 100 * time.Millisecond
	// DefaultWatchedPollInterval is the safety poll of a cache whose log
	// pushes revocations ([RevocationWatcher]): pushes can be lost.
	DefaultWatchedPollInterval = time.Second
	// DefaultMaxStaleness is how long a cache may go without reading its
	// log before it stops answering.
	DefaultMaxStaleness = 5 * time.Second
)

// ErrRevocationsStale is returned by [RevocationCache.IsRevoked] when the
// cache has not heard from its log for longer than its staleness bound, or
// has not loaded it yet. A verifier then fails closed: a call that needs a
// token gets -32603, and public calls keep working.
var ErrRevocationsStale = errors.New("security: revocation state is stale")

// RevocationCache is a [RevocationStore] that answers from memory. It holds
// every id revoked in its [RevocationLog] and not yet expired, loads them
// when [RevocationCache.Run] starts, and follows the log: by polling, and at
// once when the log is also a [RevocationWatcher]. A check is a map lookup
// and never reads the store. A revocation made through the cache is
// written to the log and takes effect here at once; one made by another
// process sharing the log takes effect here at the next read, within the
// poll interval.
//
// Its freshness has a bound ([WithMaxStaleness]). Past it, or before the
// first load, IsRevoked returns [ErrRevocationsStale], so that a server
// whose revocation feed is down fails closed instead of accepting revoked
// tokens; [RevocationCache.Health] says so for a health check. It recovers
// by itself when the log answers again.
//
// Memory is bounded by the revocations in force: an entry is forgotten once
// its Until has passed, as no token it names can verify after that.
type RevocationCache struct {
	log      RevocationLog
	poll     time.Duration
	maxStale time.Duration
	now      func() time.Time
	logger   *slog.Logger

	mu       sync.RWMutex
	ids      map[string]time.Time
	subjects subjectIndex
	cursor   int64

	synced  atomic.Int64 // Unix nanoseconds of the last successful read; 0 before the first
	lastErr atomic.Pointer[error]
	wake    chan bool // a read is wanted; true means read everything again
	running atomic.Bool

	listeners revocationListeners // told of changes (revocations_watch.go)
}

// RevocationCacheOption configures a [RevocationCache].
type RevocationCacheOption func(*RevocationCache)

// WithPollInterval sets how often the cache reads new revocations
// (default [DefaultPollInterval], or [DefaultWatchedPollInterval] when the
// log pushes them, and never more than half the staleness bound). It
// bounds how late a revocation made by another process takes effect when
// pushes are lost.
func WithPollInterval(d time.Duration) RevocationCacheOption {
	return func(c *RevocationCache) { c.poll = d }
}

// WithMaxStaleness sets how long the cache may go without a successful
// read of its log before it fails closed (default [DefaultMaxStaleness]).
// It must be longer than the poll interval.
func WithMaxStaleness(d time.Duration) RevocationCacheOption {
	return func(c *RevocationCache) { c.maxStale = d }
}

// WithCacheClock sets the function that tells the time, for tests. The
// default is time.Now.
func WithCacheClock(now func() time.Time) RevocationCacheOption {
	return func(c *RevocationCache) { c.now = now }
}

// WithCacheLogger sets the logger that hears when the feed goes stale and
// recovers. The default discards everything.
func WithCacheLogger(l *slog.Logger) RevocationCacheOption {
	return func(c *RevocationCache) {
		if l != nil {
			c.logger = l
		}
	}
}

// NewRevocationCache returns a cache over log. It answers nothing until
// [RevocationCache.Run] has loaded the log: run it in a goroutine.
func NewRevocationCache(log RevocationLog, opts ...RevocationCacheOption) (*RevocationCache, error) {
	if log == nil {
		return nil, errors.New("security: NewRevocationCache needs a log")
	}
	c := &RevocationCache{
		log:      log,
		maxStale: DefaultMaxStaleness,
		now:      time.Now,
		logger:   slog.New(slog.DiscardHandler),
		ids:      map[string]time.Time{},
		wake:     make(chan bool, 1),
	}
	if _, ok := log.(RevocationWatcher); ok {
		c.poll = DefaultWatchedPollInterval
	} else {
		c.poll = DefaultPollInterval
	}
	defaultPoll := c.poll
	for _, o := range opts {
		o(c)
	}
	if c.poll == defaultPoll && c.maxStale > 0 {
		// A default poll fits whatever bound was given.
		c.poll = min(c.poll, c.maxStale/2)
	}
	if c.poll <= 0 {
		return nil, errors.New("security: the poll interval must be positive")
	}
	if c.maxStale <= c.poll {
		return nil, fmt.Errorf("security: the staleness bound %v must be longer than the poll interval %v", c.maxStale, c.poll)
	}
	return c, nil
}

// Run loads the log and follows it until ctx ends, then returns ctx's
// error. It returns at once with an error when the cache already runs.
// Failures to read are logged and retried at the poll interval; the cache
// fails closed while they last longer than its staleness bound.
func (c *RevocationCache) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("security: RevocationCache.Run called twice")
	}
	defer c.running.Store(false)
	if w, ok := c.log.(RevocationWatcher); ok {
		watchCtx, stop := context.WithCancel(ctx)
		defer stop()
		go c.watch(watchCtx, w)
	}
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	resync := true // the first read loads everything
	healthy := true
	stale := false // listeners have been told that the cache went stale
	var nextSweep time.Time
	for {
		if now := c.now(); now.After(nextSweep) {
			c.sweep(now)
			nextSweep = now.Add(sweepEvery)
		}
		err := c.read(ctx, resync)
		switch {
		case err == nil:
			resync = false
			stale = false
			if !healthy {
				c.logger.LogAttrs(ctx, slog.LevelInfo, "revocation feed recovered")
			}
			healthy = true
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			if healthy {
				c.logger.LogAttrs(ctx, slog.LevelWarn, "revocation feed read failed; retrying",
					slog.String("error", err.Error()))
			}
			healthy = false
			if !stale && c.fresh(c.now()) != nil {
				stale = true
				c.changed() // checks now fail closed: rechecks must see it
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case all := <-c.wake:
			resync = resync || all
		}
	}
}

// watch follows a log that pushes, reconnecting with backoff from 100 ms
// to 30 s. The poll goes on meanwhile.
func (c *RevocationCache) watch(ctx context.Context, w RevocationWatcher) {
	const first, most = 100 * time.Millisecond, 30 * time.Second
	backoff := first
	for ctx.Err() == nil {
		start := time.Now()
		err := w.WatchRevocations(ctx, c.notify)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = first
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, "revocation watch ended; reconnecting",
			slog.Any("error", err), slog.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, most)
	}
}

// notify asks Run for a read; resync asks it to read everything again.
func (c *RevocationCache) notify(resync bool) {
	for {
		select {
		case c.wake <- resync:
			return
		default:
		}
		// A read is already pending; upgrade it to a resync if needed.
		select {
		case pending := <-c.wake:
			resync = resync || pending
		default:
		}
	}
}

// Sync reads the revocations committed since the last read, now. Run does
// this by itself; Sync is for a caller that needs a revocation made
// elsewhere to hold before it goes on, and for tests.
func (c *RevocationCache) Sync(ctx context.Context) error { return c.read(ctx, false) }

// read reads the log after the cursor, or from the start when all is set,
// and merges what it finds. Nothing is ever removed by a read: an entry
// leaves only when it expires, so that a revocation made here concurrently
// with a read is never lost.
func (c *RevocationCache) read(ctx context.Context, all bool) error {
	c.mu.RLock()
	cursor := c.cursor
	c.mu.RUnlock()
	if all {
		cursor = 0
	}
	start := c.now()
	revs, next, err := c.log.RevocationsSince(ctx, cursor, start)
	if err != nil {
		c.lastErr.Store(&err)
		return err
	}
	c.mu.Lock()
	for _, r := range revs {
		c.hold(r.ID, r.Until)
	}
	if next > c.cursor {
		c.cursor = next
	}
	c.mu.Unlock()
	if len(revs) > 0 {
		c.changed()
	}
	// Fresh as of when the read began: what was committed after that may
	// not be in it.
	c.synced.Store(start.UnixNano())
	return nil
}

// hold records a revocation; the caller holds c.mu.
func (c *RevocationCache) hold(id string, until time.Time) {
	if old, ok := c.ids[id]; !ok || until.After(old) {
		c.ids[id] = until
	}
	c.subjects.add(id, until)
}

// sweep forgets revocations whose tokens can no longer verify.
func (c *RevocationCache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, until := range c.ids {
		if now.After(until) {
			delete(c.ids, id)
		}
	}
	c.subjects.sweep(now)
}

// Revoke writes the revocation to the log and holds it here at once.
func (c *RevocationCache) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := c.log.Revoke(ctx, id, until); err != nil {
		return err
	}
	c.mu.Lock()
	c.hold(id, until)
	c.mu.Unlock()
	c.changed()
	return nil
}

// IsRevoked reports whether id is revoked, from memory. It returns
// [ErrRevocationsStale] when the cache is not fresh.
func (c *RevocationCache) IsRevoked(_ context.Context, id string) (bool, error) {
	now := c.now()
	if err := c.fresh(now); err != nil {
		return false, err
	}
	c.mu.RLock()
	until, ok := c.ids[id]
	c.mu.RUnlock()
	return ok && !now.After(until), nil
}

// revokedToken reports, under one lock, whether a token is revoked: its
// id, its family's (when it has one), or its subject's tokens issued
// before iat.
func (c *RevocationCache) revokedToken(jti, family, subject string, iat time.Time) (bool, error) {
	now := c.now()
	if err := c.fresh(now); err != nil {
		return false, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range [2]string{jti, family} {
		if until, ok := c.ids[id]; ok && id != "" && !now.After(until) {
			return true, nil
		}
	}
	return c.subjects.revoked(subject, iat, now), nil
}

func (c *RevocationCache) fresh(now time.Time) error {
	synced := c.synced.Load()
	if synced == 0 {
		return fmt.Errorf("%w: not loaded yet", ErrRevocationsStale)
	}
	if age := now.Sub(time.Unix(0, synced)); age > c.maxStale {
		if p := c.lastErr.Load(); p != nil {
			return fmt.Errorf("%w: last read %v ago: %w", ErrRevocationsStale, age.Round(time.Millisecond), *p)
		}
		return fmt.Errorf("%w: last read %v ago", ErrRevocationsStale, age.Round(time.Millisecond))
	}
	return nil
}

// Health returns nil while the cache is fresh, and why not otherwise: a
// health endpoint answers 503 with it so that a load balancer takes the
// instance out.
func (c *RevocationCache) Health() error { return c.fresh(c.now()) }

// Lag returns how long ago the cache last read its log successfully, or a
// negative duration before its first read.
func (c *RevocationCache) Lag() time.Duration {
	synced := c.synced.Load()
	if synced == 0 {
		return -1
	}
	return c.now().Sub(time.Unix(0, synced))
}

// Len returns how many revocations the cache holds.
func (c *RevocationCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.ids)
}

// revokedSubject reports whether a token of subject issued at iat is
// revoked by a revocation of the subject. It does not check freshness;
// revokedToken does.
func (c *RevocationCache) revokedSubject(subject string, iat time.Time) bool {
	now := c.now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.subjects.revoked(subject, iat, now)
}
