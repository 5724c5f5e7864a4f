package main

import (
	"sync"
	"time"
)

// throttle slows down password guessing. Every sign-in attempt is charged
// to its account (the username key, whether or not the user exists) and to
// the client's address before any hashing; a success refunds it. Once a
// key has been charged free times, each further attempt locks it for a
// delay that doubles from base up to max. An attempt on a locked key is
// refused without any work, with how long to wait.
//
// Charging before the outcome is known means that concurrent guesses
// cannot slip past the limit while the first ones are still hashing.
// The counts live in this process only; servers behind a load balancer
// would keep them in a shared store.
type throttle struct {
	now    func() time.Time
	forget time.Duration // an idle key is forgotten after this long

	mu       sync.Mutex
	accounts throttleTable
	addrs    throttleTable
	swept    time.Time
}

type throttleTable struct {
	free      int
	base, max time.Duration
	keys      map[string]*strikes
}

type strikes struct {
	n     int
	last  time.Time
	until time.Time
}

// newThrottle returns the example's policy: 5 free attempts per account and
// 20 per address, then 1 s doubling up to 15 min; forgotten after 15 min.
func newThrottle(now func() time.Time) *throttle {
	return &throttle{
		now:      now,
		forget:   15 * time.Minute,
		accounts: throttleTable{free: 5, base: time.Second, max: 15 * time.Minute, keys: map[string]*strikes{}},
		addrs:    throttleTable{free: 20, base: time.Second, max: 15 * time.Minute, keys: map[string]*strikes{}},
	}
}

// attempt charges one attempt to account and addr, or returns how long
// the caller must wait when either is locked (and charges nothing).
func (t *throttle) attempt(account, addr string) (wait time.Duration) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.swept) > time.Minute {
		t.accounts.sweep(now, t.forget)
		t.addrs.sweep(now, t.forget)
		t.swept = now
	}
	wait = max(t.accounts.wait(account, now, t.forget), t.addrs.wait(addr, now, t.forget))
	if wait > 0 {
		return wait
	}
	t.accounts.charge(account, now)
	t.addrs.charge(addr, now)
	return 0
}

// succeed refunds an attempt that found the right password: the account
// starts afresh, and the address gets its attempt back.
func (t *throttle) succeed(account, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts.keys, account)
	if s := t.addrs.keys[addr]; s != nil && s.n > 0 {
		s.n--
		if s.n < t.addrs.free {
			s.until = time.Time{}
		}
	}
}

func (tt *throttleTable) wait(key string, now time.Time, forget time.Duration) time.Duration {
	s := tt.keys[key]
	if s == nil {
		return 0
	}
	if now.Sub(s.last) > forget && !now.Before(s.until) {
		delete(tt.keys, key)
		return 0
	}
	return max(s.until.Sub(now), 0)
}

func (tt *throttleTable) charge(key string, now time.Time) {
	s := tt.keys[key]
	if s == nil {
		s = &strikes{}
		tt.keys[key] = s
	}
	s.n++
	s.last = now
	if over := s.n - tt.free; over >= 0 {
		d := tt.max
		if over < 30 {
			d = min(tt.base<<over, tt.max)
		}
		s.until = now.Add(d)
	}
}

func (tt *throttleTable) sweep(now time.Time, forget time.Duration) {
	for k, s := range tt.keys {
		if now.Sub(s.last) > forget && !now.Before(s.until) {
			delete(tt.keys, k)
		}
	}
}
