package main

// The audit feed: audit_subscribe pushes admins an event for every
// sign-up, sign-in (and failed one), refresh (and reuse of a spent refresh
// token) and sign-out, made on any instance sharing the database.
//
// Every event is written to an append-only table in the store, with a
// sequence number in commit order, and every instance follows that table
// as its RevocationCache follows the revocations: by polling rows past the
// last sequence number it read, every 100 ms on SQLite, and on PostgreSQL
// at once on LISTEN/NOTIFY with a poll each second as a safety net. The
// instance that wrote an event also wakes its own feed at once. One feed
// per instance fans what it reads out to that instance's subscriptions,
// with Subscription.Send, which never waits: an admin that does not read
// fast enough has its subscription ended with -32005 by the framework.
//
// Commit order matters: a follower moves its cursor past every number it
// has read, so a number that commits after a higher one would never be
// read. On SQLite, write transactions are serialized across processes and
// AUTOINCREMENT numbers rows inside them (and never reuses a number, even
// once the highest rows are swept). On PostgreSQL a bigserial is not
// enough: nextval is handed out outside transactions, so 6 can commit
// before 5. Events take their number from a counter row instead, as
// security/pgstore's revocations do: the UPDATE locks the row until the
// transaction commits, so the next writer gets the next number only after
// this one is visible.

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// The types of audit events.
const (
	EventSignUp        = "sign_up"        // a user was created
	EventSignIn        = "sign_in"        // a right password bought a pair
	EventSignInFailed  = "sign_in_failed" // a wrong password, or an unknown user
	EventRefresh       = "refresh"        // a refresh token was spent for a new pair
	EventRefreshReused = "refresh_reused" // a spent refresh token came back: its family was revoked
	EventSignOut       = "sign_out"       // a token and its family were revoked by their holder
)

// AuditEvent is what audit_subscribe sends. It never holds a password or
// a token.
type AuditEvent struct {
	Type     string    `json:"type" jsonschema:"enum=sign_up,enum=sign_in,enum=sign_in_failed,enum=refresh,enum=refresh_reused,enum=sign_out"`
	Username string    `json:"username" jsonschema:"description=The username as stored; for a failed sign_in of an unknown user, the name as typed, normalized."`
	At       time.Time `json:"at" jsonschema:"description=When the instance that served the call recorded it (RFC 3339, UTC)."`
}

// LoggedEvent is an event with its place in the log.
type LoggedEvent struct {
	Seq int64
	AuditEvent
}

// EventLog is the store's append-only table of audit events, which every
// instance sharing the database follows.
type EventLog interface {
	// AppendEvent adds e at the end of the log, with a sequence number
	// higher than that of every event committed before it.
	AppendEvent(ctx context.Context, e AuditEvent) error
	// EventsSince returns at most limit events whose sequence number is
	// greater than cursor, in order.
	EventsSince(ctx context.Context, cursor int64, limit int) ([]LoggedEvent, error)
	// LastEventSeq returns the highest sequence number committed, or 0.
	// Every event committed later has a higher one.
	LastEventSeq(ctx context.Context) (int64, error)
	// SweepEvents deletes the events recorded before t.
	SweepEvents(ctx context.Context, t time.Time) error
}

// EventWatcher is implemented by event logs that can push: WatchEvents
// calls changed once it listens and after each commit of an event, until
// its connection fails or ctx ends. Pushes may be lost; the feed polls too.
type EventWatcher interface {
	WatchEvents(ctx context.Context, changed func()) error
}

// Settings of the feed.
const (
	auditPoll        = 100 * time.Millisecond // the poll of a log that cannot push
	auditWatchedPoll = time.Second            // the safety poll of one that can
	auditBatch       = 500                    // events read per query
	auditRecent      = 256                    // events kept for subscriptions that are starting
	auditKeep        = time.Hour              // how long events stay in the log
	auditWriteWait   = 5 * time.Second        // how long recording an event may take
)

// auditFeed follows the event log and fans its events out to this
// instance's subscriptions.
type auditFeed struct {
	log    EventLog
	poll   time.Duration
	logger *slog.Logger
	wake   chan struct{} // one slot: read now

	mu     sync.Mutex
	loaded bool  // cursor has been read from the log
	cursor int64 // the last sequence number read
	recent []LoggedEvent
	subs   map[*auditSub]struct{}
}

// auditSub is one subscription: it takes the events numbered after from.
type auditSub struct {
	from int64
	send func(AuditEvent) error
}

func newAuditFeed(log EventLog, logger *slog.Logger) *auditFeed {
	f := &auditFeed{log: log, poll: auditPoll, logger: logger, wake: make(chan struct{}, 1), subs: map[*auditSub]struct{}{}}
	if _, ok := log.(EventWatcher); ok {
		f.poll = auditWatchedPoll
	}
	return f
}

// run follows the log until ctx ends, from its end when run starts:
// events recorded before are not sent. Failures are logged once and
// retried at the poll interval.
func (f *auditFeed) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if w, ok := f.log.(EventWatcher); ok {
		wg.Go(func() { f.watch(ctx, w) })
	}
	tick := time.NewTicker(f.poll)
	defer tick.Stop()
	healthy := true
	for {
		err := f.read(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && healthy:
			f.logger.Warn("audit feed read failed; retrying", "error", err)
			healthy = false
		case err == nil && !healthy:
			f.logger.Info("audit feed recovered")
			healthy = true
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-f.wake:
		}
	}
}

// watch follows a log that pushes, reconnecting with a backoff from
// 100 ms to 30 s, as security.RevocationCache does. The poll goes on
// meanwhile.
func (f *auditFeed) watch(ctx context.Context, w EventWatcher) {
	const first, most = 100 * time.Millisecond, 30 * time.Second
	backoff := first
	for ctx.Err() == nil {
		began := time.Now()
		err := w.WatchEvents(ctx, f.notify)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			backoff = first
		}
		f.logger.Warn("audit watch ended; reconnecting", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, most)
	}
}

// notify asks run for a read now.
func (f *auditFeed) notify() {
	select {
	case f.wake <- struct{}{}:
	default: // a read is pending already
	}
}

// read reads the events committed since the last read and delivers them.
// Only run calls it.
func (f *auditFeed) read(ctx context.Context) error {
	f.mu.Lock()
	loaded, cursor := f.loaded, f.cursor
	f.mu.Unlock()
	if !loaded {
		end, err := f.log.LastEventSeq(ctx)
		if err != nil {
			return err
		}
		f.mu.Lock()
		// A subscription that opened while the log could not be read
		// still gets what was recorded after it opened.
		for s := range f.subs {
			end = min(end, s.from)
		}
		f.loaded, f.cursor = true, end
		f.mu.Unlock()
		cursor = end
	}
	for {
		evs, err := f.log.EventsSince(ctx, cursor, auditBatch)
		if err != nil {
			return err
		}
		f.deliver(evs)
		if len(evs) < auditBatch {
			return nil
		}
		cursor = evs[len(evs)-1].Seq
	}
}

// deliver sends evs to every subscription that wants them. Send never
// waits, so holding the lock is brief; a subscription that has ended is
// forgotten.
func (f *auditFeed) deliver(evs []LoggedEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range evs {
		f.cursor = e.Seq
		if len(f.recent) == auditRecent {
			copy(f.recent, f.recent[1:])
			f.recent = f.recent[:auditRecent-1]
		}
		f.recent = append(f.recent, e)
		for s := range f.subs {
			if e.Seq > s.from && s.send(e.AuditEvent) != nil {
				delete(f.subs, s)
			}
		}
	}
}

// subscribe sends send every event numbered after from, until stop is
// called or send fails. The events the feed has read already are taken
// from those it keeps, so that a subscription gets what was recorded
// after it opened even when its producer starts late.
func (f *auditFeed) subscribe(from int64, send func(AuditEvent) error) (stop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.recent {
		if e.Seq > from && send(e.AuditEvent) != nil {
			return func() {}
		}
	}
	s := &auditSub{from: from, send: send}
	f.subs[s] = struct{}{}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs, s)
	}
}

// subscribers returns how many subscriptions the feed serves.
func (f *auditFeed) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// record writes an event to the log, and has this instance's feed read it
// at once. It is best effort: a failure is logged, and the call that made
// the event goes on. The write outlives the call's context, so that an
// event is not lost because its client went away.
func (a *app) record(ctx context.Context, typ, username string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteWait)
	defer cancel()
	e := AuditEvent{Type: typ, Username: username, At: time.Now().UTC().Truncate(time.Millisecond)}
	if err := a.store.AppendEvent(ctx, e); err != nil {
		a.logger.Warn("audit event not recorded", "type", typ, "error", err)
		return
	}
	a.audit.notify()
}

// auditFrom is where a subscription starts in the event log: the last
// sequence number committed when it was asked for. It is injected into
// audit_subscribe, whose provider runs during the call, before the
// answer, whereas the producer runs after it: an event recorded right
// after the answer is numbered after auditFrom.
type auditFrom int64

// auditStart provides auditFrom.
func (a *app) auditStart(ctx context.Context) (auditFrom, error) {
	seq, err := a.store.LastEventSeq(ctx)
	return auditFrom(seq), err
}

// auditSubscribe is audit_subscribe: it sends the admin every event
// recorded from now on by any instance, until the subscription ends.
func (a *app) auditSubscribe(ctx context.Context, sub *rpc.Subscription[AuditEvent], from auditFrom) error {
	stop := a.audit.subscribe(int64(from), sub.Send)
	defer stop()
	<-ctx.Done()
	return nil
}
