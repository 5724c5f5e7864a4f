package main

import (
	"context"
	"sync"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

// The throttling policy. Every sign-in attempt is charged before any
// password is hashed, in the store that every instance shares, to:
//
//   - the account from this address: 5 free failures, then a lock that
//     doubles from 1 s to 15 min. It locks this address out of this
//     account, and nothing else.
//   - the account from any address it has never been signed into from: 20
//     free failures, then the same doubling lock. Brute force on one
//     account from many addresses is slowed, while its owner still signs
//     in from an address they used before: attackers elsewhere cannot lock
//     them out.
//   - the address, across accounts: 20 free failures, then the same lock,
//     against one address trying many accounts.
//
// A success forgets the failures of the account from this address, gives
// back its other charges, and remembers the address for the account for
// 30 days. An attempt that proves nothing (the server had no hashing slot
// free, or failed) is refunded: it never counts as a guess. Sign-ups are
// charged to the address (10 free), as each costs a hash. And one address
// holds at most two hashing slots at once, so that it cannot take every
// slot from other clients.
var (
	signInPairLimit    = security.ThrottleLimit{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: 15 * time.Minute}
	signInAccountLimit = security.ThrottleLimit{Free: 20, Base: time.Second, Max: 15 * time.Minute, Forget: 15 * time.Minute}
	signInAddrLimit    = security.ThrottleLimit{Free: 20, Base: time.Second, Max: 15 * time.Minute, Forget: 15 * time.Minute}
	signUpAddrLimit    = security.ThrottleLimit{Free: 10, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

// knownAddressTTL is how long an address an account signed in from counts
// as the owner's.
const knownAddressTTL = 30 * 24 * time.Hour

// maxForget is the longest Forget of the limits above: strikes idle for
// longer are swept.
const maxForget = time.Hour

// hashSlotsPerAddress is how many password hashes one address may have
// running at once.
const hashSlotsPerAddress = 2

// guess is one password attempt on an account, charged to its throttle
// keys until it is settled.
type guess struct {
	a       *app
	pair    string // the account from this address
	known   string // the mark of this address for this account
	charged []charged
}

type charged struct {
	key   string
	limit security.ThrottleLimit
}

// beginGuess charges an attempt on the account whose username key is
// account, from addr, or returns -32005 with how long to wait.
func (a *app) beginGuess(ctx context.Context, account, addr string) (*guess, error) {
	g := &guess{a: a, pair: "sign_in/pair/" + account + "/" + addr, known: "sign_in/known/" + account + "/" + addr}
	if err := g.charge(ctx, g.pair, signInPairLimit); err != nil {
		return nil, err
	}
	known, err := a.throttle.Marked(ctx, g.known)
	if err == nil && !known {
		err = g.charge(ctx, "sign_in/account/"+account, signInAccountLimit)
	}
	if err == nil {
		err = g.charge(ctx, "sign_in/addr/"+addr, signInAddrLimit)
	}
	if err != nil {
		g.refund(ctx)
		return nil, err
	}
	return g, nil
}

func (g *guess) charge(ctx context.Context, key string, limit security.ThrottleLimit) error {
	if err := g.a.charge(ctx, key, limit); err != nil {
		return err
	}
	g.charged = append(g.charged, charged{key, limit})
	return nil
}

// refund gives back every charge: the attempt proved nothing.
func (g *guess) refund(ctx context.Context) {
	for _, c := range g.charged {
		g.a.refund(ctx, c.key, c.limit)
	}
	g.charged = nil
}

// succeeded settles a right password: the account starts afresh from this
// address, which is remembered as the owner's.
func (g *guess) succeeded(ctx context.Context) {
	g.refund(ctx)
	if err := g.a.throttle.Reset(ctx, g.pair); err != nil {
		g.a.logger.Warn("throttle reset failed", "error", err)
	}
	if err := g.a.throttle.Mark(ctx, g.known, knownAddressTTL); err != nil {
		g.a.logger.Warn("throttle mark failed", "error", err)
	}
}

// settle settles an attempt that ended in err: a wrong password keeps its
// charges; anything that is not a verdict on the password is refunded.
func (g *guess) settle(ctx context.Context, ok bool, err error) {
	switch {
	case err != nil:
		g.refund(ctx)
	case ok:
		g.succeeded(ctx)
	}
}

// charge charges one attempt to key, or returns -32005 with how long to
// wait when key is locked.
func (a *app) charge(ctx context.Context, key string, limit security.ThrottleLimit) error {
	wait, err := a.throttle.Charge(ctx, key, limit)
	if err != nil {
		return err
	}
	if wait > 0 {
		return rpc.LimitExceeded((wait + time.Millisecond - 1).Milliseconds())
	}
	return nil
}

// refund gives back an attempt charged to key.
func (a *app) refund(ctx context.Context, key string, limit security.ThrottleLimit) {
	if err := a.throttle.Refund(ctx, key, limit); err != nil {
		a.logger.Warn("throttle refund failed", "error", err)
	}
}

// hashSlots caps the password hashes one address runs at once, so that
// the hasher's slots are shared between clients.
type hashSlots struct {
	max  int
	mu   sync.Mutex
	busy map[string]int
}

func newHashSlots(max int) *hashSlots { return &hashSlots{max: max, busy: map[string]int{}} }

// acquire takes a slot for addr, or returns -32005 when addr holds every
// slot it may. The caller must call release.
func (h *hashSlots) acquire(addr string) (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy[addr] >= h.max {
		return nil, rpc.LimitExceeded(100)
	}
	h.busy[addr]++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.busy[addr]--; h.busy[addr] <= 0 {
			delete(h.busy, addr)
		}
	}, nil
}
