package security_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
)

func newThrottle(t *testing.T, store security.ThrottleStore, now func() time.Time) *security.Throttle {
	t.Helper()
	th, err := security.NewThrottle(store, now)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func charge(t *testing.T, th *security.Throttle, key string, l security.ThrottleLimit) time.Duration {
	t.Helper()
	wait, err := th.Charge(context.Background(), key, l)
	if err != nil {
		t.Fatal(err)
	}
	return wait
}

func TestThrottlePolicy(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := security.NewMemoryStore()
	// Two instances sharing one store share the budget.
	a, b := newThrottle(t, store, clk.Now), newThrottle(t, store, clk.Now)
	limit := security.ThrottleLimit{Free: 3, Base: time.Second, Max: 4 * time.Second, Forget: time.Hour}

	for i, th := range []*security.Throttle{a, b, a} {
		if w := charge(t, th, "k", limit); w != 0 {
			t.Fatalf("free attempt %d waits %v", i+1, w)
		}
	}
	// The fourth is charged and locks the key for Base; the next waits.
	if w := charge(t, b, "k", limit); w != 0 {
		t.Fatalf("fourth attempt waits %v", w)
	}
	if w := charge(t, a, "k", limit); w != time.Second {
		t.Fatalf("attempt while locked: wait %v, want 1s", w)
	}
	// Waiting was not charged: after the lock the next attempt locks for 2 s, then 4 s, capped at 4 s.
	for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 4 * time.Second} {
		clk.Add(time.Minute)
		if w := charge(t, b, "k", limit); w != 0 {
			t.Fatalf("attempt after the lock waits %v", w)
		}
		if w := charge(t, a, "k", limit); w != want {
			t.Fatalf("lock = %v, want %v", w, want)
		}
	}
	// Other keys are untouched.
	if w := charge(t, a, "other", limit); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	// Refunds bring the key back within its free attempts and lift the lock.
	for range 4 {
		if err := a.Refund(ctx, "k", limit); err != nil {
			t.Fatal(err)
		}
	}
	if w := charge(t, b, "k", limit); w != 0 {
		t.Fatalf("after refunds: wait %v", w)
	}
	// Reset forgets the key; an idle key is forgotten after Forget.
	if err := a.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		charge(t, a, "idle", limit)
	}
	clk.Add(2 * time.Hour)
	for i := range 3 {
		if w := charge(t, b, "idle", limit); w != 0 {
			t.Fatalf("attempt %d after Forget waits %v", i+1, w)
		}
	}
	if _, err := a.Charge(ctx, "k", security.ThrottleLimit{}); err == nil {
		t.Fatal("a zero limit was accepted")
	}
}

// Concurrent attempts cannot slip past the limit: of many at once, exactly
// Free+1 are let through.
func TestThrottleConcurrentAttempts(t *testing.T) {
	store := security.NewMemoryStore()
	limit := security.ThrottleLimit{Free: 5, Base: time.Hour, Max: time.Hour, Forget: time.Hour}
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for range 50 {
		th := newThrottle(t, store, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w, err := th.Charge(context.Background(), "k", limit); err == nil && w == 0 {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != limit.Free+1 {
		t.Fatalf("%d attempts passed, want %d", passed, limit.Free+1)
	}
}
