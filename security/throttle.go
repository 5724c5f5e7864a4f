package security

import (
	"context"
	"errors"
	"time"
)

// ThrottleLimit is a throttling policy for one kind of key: Free attempts,
// then each further attempt locks the key for a delay that starts at Base
// and doubles up to Max. A key idle for Forget, and not locked, starts
// afresh.
type ThrottleLimit struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

func (l ThrottleLimit) valid() bool {
	return l.Free >= 0 && l.Base > 0 && l.Max >= l.Base && l.Forget > 0
}

// Throttle slows down what an attacker would repeat: password guesses,
// sign-ups. It counts attempts per key in a [ThrottleStore], so that every
// instance sharing the store shares the budget: five bad passwords are
// five, whichever instance they reach. Create one with [NewThrottle]; it is
// safe for concurrent use.
//
// A caller charges an attempt before doing the work it guards (a password
// hash, say), so that concurrent attempts cannot slip past the limit while
// the first ones are still running, and refunds it when the attempt turns
// out to be legitimate.
type Throttle struct {
	store ThrottleStore
	now   func() time.Time
}

// NewThrottle returns a throttle keeping its counts in store. now tells the
// time; nil means time.Now.
func NewThrottle(store ThrottleStore, now func() time.Time) (*Throttle, error) {
	if store == nil {
		return nil, errors.New("security: NewThrottle needs a store")
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{store: store, now: now}, nil
}

// Charge charges one attempt to key under limit and returns 0, or, when
// the key is locked, charges nothing and returns how long the caller must
// wait.
func (t *Throttle) Charge(ctx context.Context, key string, limit ThrottleLimit) (wait time.Duration, err error) {
	if !limit.valid() {
		return 0, errors.New("security: invalid ThrottleLimit")
	}
	now := t.now()
	err = t.store.UpdateStrikes(ctx, key, func(s Strikes) Strikes {
		wait = 0
		if s.N > 0 && now.Sub(s.Last) > limit.Forget && !now.Before(s.Until) {
			s = Strikes{} // idle long enough: forgotten
		}
		if now.Before(s.Until) {
			wait = s.Until.Sub(now)
			return s
		}
		s.N++
		s.Last = now
		if over := s.N - limit.Free; over > 0 {
			d := limit.Max
			if over <= 30 {
				d = min(limit.Base<<(over-1), limit.Max)
			}
			s.Until = now.Add(d)
		}
		return s
	})
	if err != nil {
		return 0, err
	}
	return wait, nil
}

// Refund takes back one attempt charged to key, and lifts its lock when
// the attempts left are within the free ones.
func (t *Throttle) Refund(ctx context.Context, key string, limit ThrottleLimit) error {
	return t.store.UpdateStrikes(ctx, key, func(s Strikes) Strikes {
		if s.N == 0 {
			return s
		}
		s.N--
		if s.N <= limit.Free {
			s.Until = time.Time{}
		}
		if s.N == 0 {
			return Strikes{}
		}
		return s
	})
}

// Reset forgets key: its next attempt starts afresh.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.store.UpdateStrikes(ctx, key, func(Strikes) Strikes { return Strikes{} })
}

// Mark remembers key for d: a fact a policy keys on, such as an address
// an account has signed in from. It is kept in the store, as strikes are,
// so every instance sees it.
func (t *Throttle) Mark(ctx context.Context, key string, d time.Duration) error {
	now := t.now()
	return t.store.UpdateStrikes(ctx, key, func(Strikes) Strikes {
		return Strikes{N: 1, Last: now, Until: now.Add(d)}
	})
}

// Marked reports whether key was marked less than the mark's d ago.
func (t *Throttle) Marked(ctx context.Context, key string) (bool, error) {
	now := t.now()
	marked := false
	err := t.store.UpdateStrikes(ctx, key, func(s Strikes) Strikes {
		marked = now.Before(s.Until)
		if !marked {
			return Strikes{}
		}
		return s
	})
	return marked, err
}
