package main

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1e9, 0)
	th := newThrottle(func() time.Time { return now })
	for i := range 5 {
		if w := th.attempt("ada", "10.0.0.1"); w != 0 {
			t.Fatalf("attempt %d waits %v", i+1, w)
		}
	}
	if w := th.attempt("ada", "10.0.0.1"); w != time.Second {
		t.Fatalf("6th attempt waits %v, want 1s", w)
	}
	now = now.Add(time.Second)
	if w := th.attempt("ada", "10.0.0.1"); w != 0 {
		t.Fatalf("after the wait: %v", w)
	}
	if w := th.attempt("ada", "10.0.0.1"); w != 2*time.Second {
		t.Fatalf("the delay doubles: %v", w)
	}
	// Another account from the same address is not locked yet.
	if w := th.attempt("bob", "10.0.0.1"); w != 0 {
		t.Fatalf("bob waits %v", w)
	}
	th.succeed("bob", "10.0.0.1")
	// A success clears its account.
	now = now.Add(2 * time.Second)
	th.attempt("ada", "10.0.0.1")
	th.succeed("ada", "10.0.0.1")
	if w := th.attempt("ada", "10.0.0.1"); w != 0 {
		t.Fatalf("after a success: %v", w)
	}
	// The address runs out after 20 charged attempts, whatever the names.
	for i := 0; ; i++ {
		if w := th.attempt(string(rune('a'+i%26))+"x", "10.0.0.2"); w > 0 {
			if i != 20 {
				t.Fatalf("address locked after %d attempts, want 20", i)
			}
			break
		}
	}
	// Idle keys are forgotten.
	now = now.Add(time.Hour)
	for i := range 5 {
		if w := th.attempt("ada", "10.0.0.2"); w != 0 {
			t.Fatalf("an hour later, attempt %d waits %v", i+1, w)
		}
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000":              "127.0.0.1",
		"[::ffff:10.1.2.3]:80":        "10.1.2.3",
		"[2001:db8:1:2:3:4:5:6]:443":  "2001:db8:1:2::/64",
		"[2001:db8:1:2:ff:4:5:6]:443": "2001:db8:1:2::/64",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}
