package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// subscription is one open subscription: the state that a
// *Subscription[T] wraps. Its notifications wait in queue, encoded, until
// its session's pump writes them; end empties the queue, so that nothing
// more goes out for it but its last notification, when it has one.
type subscription struct {
	id      string
	sess    *Session
	info    *SubscriptionInfo
	method  *Method         // namespace_subscribe, for its requirement
	callCtx context.Context // the subscribe call's, until start
	prefix  []byte          // a notification up to its value
	opened  []openedCred    // the credentials it was opened with
	max     int             // the buffer's size in values

	ctx    context.Context // the producer's: canceled when it ends
	cancel context.CancelFunc

	mu     sync.Mutex
	queue  [][]byte // notifications not yet handed to the pump
	final  []byte   // the last notification, sent once queue is empty
	ended  bool
	active bool // its subscribe response is out: notifications may follow
	ready  bool // in the session's ready list, or being written by the pump
	timer  *time.Timer
}

// openedCred is a credential a subscription was opened with.
type openedCred struct {
	scheme string
	cred   Credential
}

// start opens the subscription on its session and runs fn, the producer,
// in a goroutine of its own. It fails when the session is closed or holds
// as many subscriptions as it may.
func (sub *subscription) start(m *Method, fn func(ctx context.Context) error) error {
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand's documentation)
	sub.id = "0x" + hex.EncodeToString(raw[:])
	sub.method = m
	idJSON, _ := json.Marshal(sub.id)
	sub.prefix = fmt.Appendf(nil, `{"jsonrpc":"2.0","method":%q,"params":{"subscription":%s,"result":`, sub.info.Notification, idJSON)
	srv := sub.sess.srv
	sub.max = srv.cfg.subBuffer
	if sub.max <= 0 {
		sub.max = DefaultSubscriptionBuffer
	}
	CredentialsFrom(sub.callCtx).Each(func(scheme string, cred Credential) {
		sub.opened = append(sub.opened, openedCred{scheme, cred})
	})
	callCtx := sub.callCtx
	sub.callCtx = nil
	sub.ctx, sub.cancel = context.WithCancel(context.WithoutCancel(callCtx))

	if err := sub.sess.subs.add(sub, srv.cfg.subLimit); err != nil {
		sub.cancel()
		return err
	}
	srv.live.add(srv, sub)
	if g, _ := callCtx.Value(gateKey{}).(*gate); g == nil || !g.hold(sub) {
		sub.activate()
	}
	go sub.produce(fn)
	// Credentials may have changed since the call checked them, before the
	// session knew of the subscription; this check also arms its timer.
	sub.recheck()
	return nil
}

// produce runs the producer and ends the subscription when it returns.
func (sub *subscription) produce(fn func(ctx context.Context) error) {
	defer sub.sess.subs.wg.Done()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				sub.sess.srv.faults.log(sub.ctx, "subscription producer panic", sub.method.Name, func() []slog.Attr {
					return []slog.Attr{slog.Any("panic", p), slog.String("stack", string(debug.Stack()))}
				})
				err = errInternal()
			}
		}()
		err = fn(sub.ctx)
	}()
	if err == nil {
		sub.end(nil)
		return
	}
	sub.end(sub.sess.srv.toError(sub.ctx, sub.method, err))
}

// queueMessage queues one notification, or ends the subscription when its
// buffer is full.
func (sub *subscription) queueMessage(msg []byte) error {
	sub.mu.Lock()
	if sub.ended {
		sub.mu.Unlock()
		return ErrSubscriptionEnded
	}
	if len(sub.queue) >= sub.max {
		sub.mu.Unlock()
		sub.end(NewError(CodeLimitExceeded, "Limit exceeded", CapData{Limit: LimitSubscriptionBuffer, Max: sub.max}))
		return ErrSubscriptionEnded
	}
	sub.queue = append(sub.queue, msg)
	schedule := sub.active && !sub.ready
	if schedule {
		sub.ready = true
	}
	sub.mu.Unlock()
	if schedule {
		sub.sess.subs.schedule(sub)
	}
	return nil
}

// activate lets the subscription's notifications go out.
func (sub *subscription) activate() {
	sub.mu.Lock()
	sub.active = true
	schedule := !sub.ready && (len(sub.queue) > 0 || sub.final != nil)
	if schedule {
		sub.ready = true
	}
	sub.mu.Unlock()
	if schedule {
		sub.sess.subs.schedule(sub)
	}
}

// pop takes the next notification for the pump, and reports whether more
// follow; when none does, the subscription leaves the ready list.
func (sub *subscription) pop() (msg []byte, more bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch {
	case len(sub.queue) > 0:
		msg = sub.queue[0]
		sub.queue[0] = nil
		sub.queue = sub.queue[1:]
		if len(sub.queue) == 0 {
			sub.queue = nil // let a burst's backing array go
		}
	case sub.final != nil:
		msg, sub.final = sub.final, nil
	}
	more = len(sub.queue) > 0 || sub.final != nil
	sub.ready = more
	return msg, more
}

// end ends the subscription, once: its producer's context is canceled,
// its queued values dropped, and, when e is not nil, a last notification
// carrying e is queued in their place.
func (sub *subscription) end(e *Error) {
	sub.mu.Lock()
	if sub.ended {
		sub.mu.Unlock()
		return
	}
	sub.ended = true
	sub.queue = nil
	if sub.timer != nil {
		sub.timer.Stop()
	}
	schedule := false
	if e != nil {
		sub.final = finalNotification(sub.info.Notification, sub.id, e)
		schedule = sub.active && !sub.ready
		if schedule {
			sub.ready = true
		}
	}
	sub.mu.Unlock()
	sub.cancel()
	sub.sess.subs.remove(sub)
	sub.sess.srv.live.remove(sub)
	if schedule {
		sub.sess.subs.schedule(sub)
	}
}

// finalNotification encodes the last notification of a subscription that
// ended because of e.
func finalNotification(method, id string, e *Error) []byte {
	b, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  struct {
			Subscription string `json:"subscription"`
			Error        *Error `json:"error"`
		} `json:"params"`
	}{JSONRPC: "2.0", Method: method, Params: struct {
		Subscription string `json:"subscription"`
		Error        *Error `json:"error"`
	}{id, e}})
	if err != nil {
		b, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method,
			"params": map[string]any{"subscription": id, "error": errInternal()}})
	}
	return b
}

func (sub *subscription) isEnded() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.ended
}

// expiryRetry is how soon a credential that outlived its announced expiry
// (the scheme's clock disagrees with this one) is checked again.
const expiryRetry = time.Second

// recheck checks the subscription's credentials as a new call would, and
// ends it when they no longer hold: each credential it was opened with
// must still be bound (or one of the same subject in its place) and pass
// its scheme's [Revalidator], and the method's requirement must still be
// met. It then arms the timer for the earliest expiry among them.
func (sub *subscription) recheck() {
	if sub.isEnded() {
		return
	}
	srv := sub.sess.srv
	creds := sub.sess.Credentials()
	now := time.Now()
	var deadline time.Time
	for _, o := range sub.opened {
		cur, err := creds.Lookup(sub.ctx, o.scheme)
		if err != nil {
			sub.end(err.(*Error))
			return
		}
		if cur != o.cred && !sameSubject(cur, o.cred) {
			sub.end(Unauthorized(ReasonRevoked))
			return
		}
		t := srv.credentialExpiry(o.scheme, cur)
		if t.IsZero() {
			continue
		}
		if !now.Before(t) {
			sc, _ := srv.Scheme(o.scheme)
			if _, ok := sc.(Revalidator); !ok {
				sub.end(Unauthorized(ReasonExpired))
				return
			}
			// Revalidate accepted it: the scheme's clock is behind.
			t = now.Add(expiryRetry)
		}
		if deadline.IsZero() || t.Before(deadline) {
			deadline = t
		}
	}
	if e := sub.method.Requirement.check(sub.ctx, creds); e != nil {
		sub.end(e)
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch {
	case sub.ended:
	case deadline.IsZero():
		if sub.timer != nil {
			sub.timer.Stop()
		}
	case sub.timer == nil:
		sub.timer = time.AfterFunc(time.Until(deadline), sub.recheck)
	default:
		sub.timer.Reset(time.Until(deadline))
	}
}

func sameSubject(a, b Credential) bool {
	sa, ok1 := a.(SubjectCredential)
	sb, ok2 := b.(SubjectCredential)
	return ok1 && ok2 && sa.CredentialSubject() != "" && sa.CredentialSubject() == sb.CredentialSubject()
}

// credentialExpiry is when cred, bound under scheme, stops being
// accepted, or the zero time.
func (s *Server) credentialExpiry(scheme string, cred Credential) time.Time {
	if sc, ok := s.Scheme(scheme); ok {
		if es, ok := sc.(ExpiryScheme); ok {
			return es.CredentialExpiry(cred)
		}
	}
	if ec, ok := cred.(ExpiringCredential); ok {
		return ec.ExpiresAt()
	}
	return time.Time{}
}

// sessionSubs is a session's subscriptions and the pump that writes their
// notifications: one goroutine, started when a notification is queued
// and none runs, that takes the subscriptions with something to send in
// turn, one notification each, so that a busy one cannot starve the
// others. Producers never wait on it; it waits on the transport.
type sessionSubs struct {
	mu      sync.Mutex
	byID    map[string]*subscription
	closed  bool
	ready   []*subscription
	pumping bool
	wg      sync.WaitGroup // producers and the pump; added to only while not closed

	ctx    context.Context // the pump's; canceled by close
	cancel context.CancelFunc
}

// add registers sub and counts its producer, or refuses it.
func (ss *sessionSubs) add(sub *subscription, limit int) error {
	if limit <= 0 {
		limit = DefaultSubscriptionLimit
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return NewError(CodeInvalidRequest, "Invalid Request", "the connection is closing")
	}
	if len(ss.byID) >= limit {
		return NewError(CodeLimitExceeded, "Limit exceeded", CapData{Limit: LimitSubscriptions, Max: limit})
	}
	if ss.byID == nil {
		ss.byID = map[string]*subscription{}
		ss.ctx, ss.cancel = context.WithCancel(context.Background())
	}
	ss.byID[sub.id] = sub
	ss.wg.Add(1)
	return nil
}

func (ss *sessionSubs) remove(sub *subscription) {
	ss.mu.Lock()
	if ss.byID[sub.id] == sub {
		delete(ss.byID, sub.id)
	}
	ss.mu.Unlock()
}

// unsubscribe ends the subscription id without a last notification.
func (ss *sessionSubs) unsubscribe(id string) bool {
	ss.mu.Lock()
	sub := ss.byID[id]
	ss.mu.Unlock()
	if sub == nil {
		return false
	}
	sub.end(nil)
	return true
}

// all returns the session's open subscriptions.
func (ss *sessionSubs) all() []*subscription {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*subscription, 0, len(ss.byID))
	for _, sub := range ss.byID {
		out = append(out, sub)
	}
	return out
}

// schedule puts sub, whose ready flag its caller has set, in the ready
// list, and starts the pump if it is not running.
func (ss *sessionSubs) schedule(sub *subscription) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.ready = append(ss.ready, sub)
	start := !ss.pumping
	if start {
		ss.pumping = true
		ss.wg.Add(1)
	}
	ss.mu.Unlock()
	if start {
		go ss.pump(sub.sess)
	}
}

// pumpTurn is how many notifications of one subscription the pump writes
// before it turns to the next: a few, to spare locking, and few enough
// that a busy subscription delays the others little.
const pumpTurn = 8

// pump writes notifications until no subscription has one.
func (ss *sessionSubs) pump(sess *Session) {
	defer ss.wg.Done()
	for {
		ss.mu.Lock()
		if len(ss.ready) == 0 || ss.closed {
			ss.pumping = false
			ss.ready = nil
			ss.mu.Unlock()
			return
		}
		sub := ss.ready[0]
		ss.ready[0] = nil
		ss.ready = ss.ready[1:]
		ctx := ss.ctx
		ss.mu.Unlock()

		var more bool
		for range pumpTurn {
			var msg []byte
			msg, more = sub.pop()
			if msg != nil {
				// A transport fails a send once its connection is closed;
				// the session is closed next, and this loop with it.
				_ = sess.send(ctx, msg)
			}
			if !more {
				break
			}
		}
		if more {
			ss.mu.Lock()
			ss.ready = append(ss.ready, sub)
			ss.mu.Unlock()
		}
	}
}

// close ends every subscription without a last notification and waits
// for their producers and the pump to return.
func (ss *sessionSubs) close() {
	ss.mu.Lock()
	ss.closed = true
	ss.ready = nil
	if ss.cancel != nil {
		ss.cancel()
	}
	ss.mu.Unlock()
	for _, sub := range ss.all() {
		sub.end(nil)
	}
	ss.wg.Wait()
}

// recheck rechecks every subscription of the session: its bound
// credentials changed.
func (ss *sessionSubs) recheck() {
	ss.mu.Lock()
	n := len(ss.byID)
	ss.mu.Unlock()
	if n == 0 {
		return
	}
	for _, sub := range ss.all() {
		sub.recheck()
	}
}

// Close ends every subscription of the session, without a last
// notification, and waits for their producers to return. A transport
// calls it once the connection has closed and its calls have returned;
// subscribing on a closed session fails.
func (s *Session) Close() { s.subs.close() }

// Subscriptions returns how many subscriptions are open on the session.
func (s *Session) Subscriptions() int {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	return len(s.subs.byID)
}

// gate holds the notifications of the subscriptions that one message's
// calls open until the message's response is written.
type gate struct {
	mu       sync.Mutex
	released bool
	held     []*subscription
}

type gateKey struct{}

// HoldNotifications returns a context for the calls of one message under
// which a subscription opened holds its notifications until release is
// called. A transport calls release once it has written the message's
// response (or dropped it), so that a client always reads a subscription's
// id before its first value, as go-ethereum's client needs. Without it, a
// subscription's notifications may go out as soon as it opens.
func HoldNotifications(ctx context.Context) (_ context.Context, release func()) {
	g := &gate{}
	return context.WithValue(ctx, gateKey{}, g), g.release
}

// CancelHeld ends, without a notification, every subscription that
// ctx's [HoldNotifications] holds, and holds no more. A transport calls it
// when it does not send a message's response, having replaced it (by a
// -32005, say): the client never learned those subscriptions' ids, so it
// could neither read their values nor unsubscribe. Release after it does
// nothing.
func CancelHeld(ctx context.Context) {
	g, _ := ctx.Value(gateKey{}).(*gate)
	if g == nil {
		return
	}
	g.mu.Lock()
	held := g.held
	g.released, g.held = true, nil
	g.mu.Unlock()
	for _, sub := range held {
		sub.end(nil)
	}
}

// hold keeps sub inactive until release, unless release has happened.
func (g *gate) hold(sub *subscription) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released {
		return false
	}
	g.held = append(g.held, sub)
	return true
}

func (g *gate) release() {
	g.mu.Lock()
	held := g.held
	g.released, g.held = true, nil
	g.mu.Unlock()
	for _, sub := range held {
		sub.activate()
	}
}

// liveSubs is a server's open subscriptions, for the schemes that report
// credential changes ([CredentialWatcher]): while any is open, one
// goroutine per such scheme waits for changes and rechecks them all.
type liveSubs struct {
	registered atomic.Bool // RegisterSubscription has run

	mu   sync.Mutex
	subs map[*subscription]struct{}
	stop func() // stops the watchers; nil while none runs
}

func (l *liveSubs) add(srv *Server, sub *subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs == nil {
		l.subs = map[*subscription]struct{}{}
	}
	l.subs[sub] = struct{}{}
	if l.stop == nil {
		l.stop = srv.watchCredentials()
	}
}

func (l *liveSubs) remove(sub *subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.subs, sub)
	if len(l.subs) == 0 && l.stop != nil {
		l.stop()
		l.stop = nil
	}
}

func (l *liveSubs) all() []*subscription {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*subscription, 0, len(l.subs))
	for sub := range l.subs {
		out = append(out, sub)
	}
	return out
}

// watchCredentials starts a goroutine for each declared scheme that
// reports credential changes, and returns the function that stops them.
func (s *Server) watchCredentials() func() {
	var stops []func()
	for _, sc := range s.cfg.schemes {
		w, ok := sc.scheme.(CredentialWatcher)
		if !ok {
			continue
		}
		changes, stop := w.WatchCredentials()
		if changes == nil {
			if stop != nil {
				stop()
			}
			continue
		}
		quit := make(chan struct{})
		go func() {
			for {
				select {
				case <-changes:
					for _, sub := range s.live.all() {
						sub.recheck()
					}
				case <-quit:
					return
				}
			}
		}()
		stops = append(stops, func() {
			close(quit)
			if stop != nil {
				stop()
			}
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
