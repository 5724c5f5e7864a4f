package security

import (
	"context"
	"testing"
	"time"
)

// The Verifier asks the store, through revokedSubject, whether a
// subject's revocation ends a token; the index behind it is fed by Revoke
// and forgotten by the sweep.
func TestMemoryStoreRevokedSubject(t *testing.T) {
	ctx := context.Background()
	cut := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := cut
	m := &MemoryStore{Now: func() time.Time { return now }}
	revoke := func(id string, until time.Time) {
		t.Helper()
		if err := m.Revoke(ctx, id, until); err != nil {
			t.Fatalf("Revoke(%q): %v", id, err)
		}
	}
	check := func(step, subject string, iat time.Time, want bool) {
		t.Helper()
		if got := m.revokedSubject(subject, iat); got != want {
			t.Errorf("%s: revokedSubject(%q, cutoff %v) = %v; want %v", step, subject, iat.Sub(cut), got, want)
		}
	}

	revoke("a-token-id", cut.Add(time.Hour))
	check("a token's revocation", "a-token-id", cut.Add(-time.Hour), false)

	revoke(subjectRevocationID("alice", cut), cut.Add(time.Hour))
	revoke(subjectRevocationID("tenant:bob", cut), cut.Add(time.Hour))
	check("issued before the cutoff", "alice", cut.Add(-time.Second), true)
	check("issued at the cutoff", "alice", cut, false)
	check("a subject holding a colon", "tenant:bob", cut.Add(-time.Second), true)
	check("another subject", "carol", cut.Add(-time.Second), false)
	if ok, _ := m.IsRevoked(ctx, subjectRevocationID("alice", cut)); !ok {
		t.Error("the subject's revocation id is not revoked: it must reach the log like any other")
	}

	// A later cutoff moves it; an earlier one, or a shorter until, does
	// not move it back.
	revoke(subjectRevocationID("alice", cut.Add(time.Minute)), cut.Add(30*time.Minute))
	revoke(subjectRevocationID("alice", cut.Add(-time.Hour)), cut.Add(time.Minute))
	check("after a later cutoff", "alice", cut.Add(30*time.Second), true)
	now = cut.Add(45 * time.Minute)
	check("past the later cutoff's until, before the first's", "alice", cut.Add(30*time.Second), true)

	now = cut.Add(2 * time.Hour)
	check("past every until", "alice", cut.Add(-time.Second), false)
	revoke("another-token-id", now.Add(time.Hour)) // a write sweeps
	if len(m.subjects) != 0 {
		t.Errorf("after a sweep past every until the index holds %v; want nothing", m.subjects)
	}
}
