package main

import (
	"context"
	"testing"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

// strikesOf reads key's strikes without changing them.
func strikesOf(t *testing.T, store Store, key string) security.Strikes {
	t.Helper()
	var got security.Strikes
	if err := store.UpdateStrikes(context.Background(), key, func(s security.Strikes) security.Strikes {
		got = s
		return s
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// Regression: a refusal for lack of a hashing slot counted as a failed
// guess and was never refunded, which once locked a real user out of
// their own account. An attempt without a verdict is refunded whole; a
// wrong password keeps its charges.
func TestNoVerdictIsNoGuess(t *testing.T) {
	ctx := context.Background()
	a, _ := newTestApp(t)
	keys := []string{"sign_in/pair/ada/192.0.2.1", "sign_in/account/ada", "sign_in/addr/192.0.2.1"}
	for _, verdict := range []struct {
		name  string
		ok    bool
		err   error
		count int
	}{
		{"no hashing slot", false, rpc.LimitExceeded(100), 0},
		{"a store failure", false, context.DeadlineExceeded, 0},
		{"a wrong password", false, nil, 1},
	} {
		g, err := a.beginGuess(ctx, "ada", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		g.settle(ctx, verdict.ok, verdict.err)
		for _, k := range keys {
			if n := strikesOf(t, a.store, k).N; n != verdict.count {
				t.Errorf("%s: %s has %d strikes, want %d", verdict.name, k, n, verdict.count)
			}
		}
	}
	// A success forgets the account's failures from this address and gives
	// back the others.
	g, err := a.beginGuess(ctx, "ada", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	g.settle(ctx, true, nil)
	for _, k := range []string{keys[0]} {
		if n := strikesOf(t, a.store, k).N; n != 0 {
			t.Errorf("after a success %s has %d strikes, want 0", k, n)
		}
	}
	if n := strikesOf(t, a.store, keys[2]).N; n != 1 {
		t.Errorf("after a success the address has %d strikes, want the wrong guess's 1", n)
	}
}
