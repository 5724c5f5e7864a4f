package security

import "sync"

// revocationListeners are the channels that [RevocationCache.Watch] gave
// out. Telling them never waits: each has one slot, and a value already
// in it stands for every change since.
type revocationListeners struct {
	mu    sync.Mutex
	chans map[chan struct{}]struct{}
}

// Watch returns a channel that receives a value soon after the cache's
// revocations change: a revocation read from the log (one made by another
// instance, say), one made through [RevocationCache.Revoke], and the feed
// going stale, after which [RevocationCache.IsRevoked] fails closed.
// Values are coalesced: one may stand for many changes, and a listener
// that is slow to take them never holds up the cache. stop ends the watch;
// the channel is then never written to again.
//
// A server uses it to end the subscriptions of a revoked token at once,
// without waiting for their next call: [Bearer] passes it on as an
// rpc.CredentialWatcher when its verifier's revocations are a cache.
func (c *RevocationCache) Watch() (changes <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	l := &c.listeners
	l.mu.Lock()
	if l.chans == nil {
		l.chans = map[chan struct{}]struct{}{}
	}
	l.chans[ch] = struct{}{}
	l.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.chans, ch)
			l.mu.Unlock()
		})
	}
}

// changed tells every listener that the revocations changed.
func (c *RevocationCache) changed() {
	l := &c.listeners
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.chans {
		select {
		case ch <- struct{}{}:
		default: // a value waits already
		}
	}
}
