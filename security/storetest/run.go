package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
)

// Opener opens a fresh, empty database and returns two handles on it, as
// two server instances would hold them. A store that lives in one process
// returns itself twice. The opener closes what it opened with t.Cleanup,
// and fails t when it cannot open.
//
// Run calls it once per subtest, so subtests share nothing.
type Opener func(t *testing.T) (a, b Store)

// Run runs the conformance suite against the store that open opens, as
// subtests of t:
//
//   - Revocations: Revoke and IsRevoked through either handle; an Until in
//     the past revokes nothing; revoking twice keeps the later Until.
//   - RevocationLog: RevocationsSince from cursor 0 reads every revocation
//     in force and nothing expired, in commit order, through the handle that
//     did not write them; cursors grow; nothing is read twice.
//   - RevocationLogReRevoked: a re-revocation with a later Until is read
//     again, by a follower past it, with the later Until.
//   - RevocationLogConcurrent: goroutines revoke through both handles while
//     a follower polls; the follower must see every id. A store whose
//     cursors are not in commit order loses some.
//   - Families: StartFamily, RotateFamily, EndFamily and their errors.
//   - FamilyState: Family through the other handle reports the subject,
//     the live token, the token the last rotation spent, when it happened
//     and the expiry, after the start and after each rotation; a failed
//     rotation changes none of it; an ended family reports Ended; an
//     unknown one is [security.ErrUnknownFamily].
//   - FamiliesRace: goroutines on both handles rotate one token; exactly
//     one wins and the others get [security.ErrRefreshReused]; the state
//     that both handles read is the winner's.
//   - Strikes: UpdateStrikes sees what was stored, zero times survive the
//     round trip, and storing the zero Strikes forgets the key.
//   - StrikesRace: 2×50 goroutines increment one key; none is lost.
//   - SweepStrikes: old unlocked keys go, locked and recent ones stay.
//
// Times are whole seconds, so a store may keep them at any precision down
// to one second. A family's RotatedAt is the one time the store chooses:
// the kit expects it, within that second, between the wall-clock times
// before and after the call that set it, so the stores it opens must tell
// the time with time.Now (their default). Each store checks with a clock
// of its own that RotatedAt is exactly its clock's time.
func Run(t *testing.T, open Opener) {
	t.Run("Revocations", func(t *testing.T) { testRevocations(t, open) })
	t.Run("RevocationLog", func(t *testing.T) { testRevocationLog(t, open) })
	t.Run("RevocationLogReRevoked", func(t *testing.T) { testReRevoked(t, open) })
	t.Run("RevocationLogConcurrent", func(t *testing.T) { testLogConcurrent(t, open) })
	t.Run("Families", func(t *testing.T) { testFamilies(t, open) })
	t.Run("FamilyState", func(t *testing.T) { testFamilyState(t, open) })
	t.Run("FamiliesRace", func(t *testing.T) { testFamiliesRace(t, open) })
	t.Run("Strikes", func(t *testing.T) { testStrikes(t, open) })
	t.Run("StrikesRace", func(t *testing.T) { testStrikesRace(t, open) })
	t.Run("SweepStrikes", func(t *testing.T) { testSweepStrikes(t, open) })
}

// deadline bounds every subtest, so that a store that hangs fails with a
// message instead of running into go test's timeout. It is generous: it
// is never what decides an outcome.
const deadline = time.Minute

func setup(t *testing.T, open Opener) (ctx context.Context, a, b Store, now time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	t.Cleanup(cancel)
	a, b = open(t)
	if a == nil || b == nil {
		t.Fatal("the opener returned a nil store")
	}
	return ctx, a, b, time.Now().Truncate(time.Second)
}

func revoke(ctx context.Context, t *testing.T, s Store, id string, until time.Time) {
	t.Helper()
	if err := s.Revoke(ctx, id, until); err != nil {
		t.Fatalf("Revoke(%q): %v", id, err)
	}
}

func isRevoked(ctx context.Context, t *testing.T, s Store, id string) bool {
	t.Helper()
	ok, err := s.IsRevoked(ctx, id)
	if err != nil {
		t.Fatalf("IsRevoked(%q): %v", id, err)
	}
	return ok
}

// drain reads the log from cursor until nothing new is left, as a
// follower does, checking that cursors grow and that no read returns a
// revocation that the follower was not asked for.
func drain(ctx context.Context, t *testing.T, s Store, cursor int64, now time.Time) ([]security.Revocation, int64) {
	t.Helper()
	var all []security.Revocation
	for {
		got, next, err := s.RevocationsSince(ctx, cursor, now)
		if err != nil {
			t.Fatalf("RevocationsSince(%d): %v", cursor, err)
		}
		if len(got) == 0 {
			if next < cursor {
				t.Fatalf("RevocationsSince(%d) read nothing and moved the cursor back to %d", cursor, next)
			}
			return all, next
		}
		if next <= cursor {
			t.Fatalf("RevocationsSince(%d) read %d revocations but returned cursor %d", cursor, len(got), next)
		}
		all, cursor = append(all, got...), next
	}
}

func ids(rs []security.Revocation) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testRevocations(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)

	revoke(ctx, t, a, "live", now.Add(time.Hour))
	for name, s := range map[string]Store{"a": a, "b": b} {
		if !isRevoked(ctx, t, s, "live") {
			t.Errorf("IsRevoked(live) through %s = false after a revoked it until an hour from now", name)
		}
		if isRevoked(ctx, t, s, "never") {
			t.Errorf("IsRevoked(never) through %s = true, but nobody revoked it", name)
		}
	}

	revoke(ctx, t, a, "past", now.Add(-time.Hour))
	if isRevoked(ctx, t, b, "past") {
		t.Error("IsRevoked(past) = true for a revocation whose Until was an hour ago")
	}

	// Revoking twice keeps the later time, whichever order they come in.
	revoke(ctx, t, a, "later-first", now.Add(time.Hour))
	revoke(ctx, t, b, "later-first", now.Add(-time.Hour))
	if !isRevoked(ctx, t, a, "later-first") {
		t.Error("an earlier Until replaced a later one: IsRevoked = false")
	}
	revoke(ctx, t, a, "later-second", now.Add(-time.Hour))
	revoke(ctx, t, b, "later-second", now.Add(time.Hour))
	if !isRevoked(ctx, t, a, "later-second") {
		t.Error("revoking an expired id again until an hour from now: IsRevoked = false")
	}
	got, _ := drain(ctx, t, a, 0, now)
	for _, r := range got {
		if r.ID == "later-first" && !r.Until.Equal(now.Add(time.Hour)) {
			t.Errorf("later-first: RevocationsSince reports Until %v, want the later %v", r.Until, now.Add(time.Hour))
		}
	}
}

func testRevocationLog(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)

	got, cursor, err := b.RevocationsSince(ctx, 0, now)
	if err != nil {
		t.Fatalf("RevocationsSince(0) on an empty store: %v", err)
	}
	if len(got) != 0 || cursor != 0 {
		t.Fatalf("RevocationsSince(0) on an empty store = %v, %d; want nothing, 0", ids(got), cursor)
	}

	revoke(ctx, t, a, "r1", now.Add(time.Hour))
	revoke(ctx, t, b, "expired", now.Add(-time.Hour))
	revoke(ctx, t, a, "r2", now.Add(2*time.Hour))
	revoke(ctx, t, b, "r3", now.Add(3*time.Hour))

	// Read through the other handle: a revocation is shared as soon as
	// Revoke returns.
	got, c1 := drain(ctx, t, b, 0, now)
	if want := []string{"r1", "r2", "r3"}; !slices.Equal(ids(got), want) {
		t.Fatalf("RevocationsSince(0) read %v; want %v (in force, in commit order, nothing expired)", ids(got), want)
	}
	for i, r := range got {
		if want := now.Add(time.Duration(i+1) * time.Hour); !r.Until.Equal(want) {
			t.Errorf("%s: Until = %v, want %v", r.ID, r.Until, want)
		}
	}
	if c1 <= 0 {
		t.Errorf("cursor after reading three revocations = %d, want > 0", c1)
	}

	// now filters: at now+90min, r1 is no longer in force.
	got, _ = drain(ctx, t, a, 0, now.Add(90*time.Minute))
	if want := []string{"r2", "r3"}; !slices.Equal(ids(got), want) {
		t.Errorf("RevocationsSince(0, now+90min) read %v; want %v", ids(got), want)
	}

	// Nothing is read again after the returned cursor.
	got, c := drain(ctx, t, a, c1, now)
	if len(got) != 0 || c != c1 {
		t.Errorf("RevocationsSince(%d) with nothing new = %v, %d; want nothing, %d", c1, ids(got), c, c1)
	}

	revoke(ctx, t, b, "r4", now.Add(time.Hour))
	got, c2 := drain(ctx, t, a, c1, now)
	if want := []string{"r4"}; !slices.Equal(ids(got), want) {
		t.Errorf("RevocationsSince(%d) after one more revocation read %v; want %v", c1, ids(got), want)
	}
	if c2 <= c1 {
		t.Errorf("cursor did not grow: %d after %d", c2, c1)
	}
	if got, _ := drain(ctx, t, b, c2, now); len(got) != 0 {
		t.Errorf("RevocationsSince(%d) read %v again", c2, ids(got))
	}
}

func testReRevoked(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)

	revoke(ctx, t, a, "id", now.Add(time.Hour))
	revoke(ctx, t, a, "other", now.Add(time.Hour))
	_, c1 := drain(ctx, t, b, 0, now)

	// A later Until must reach followers that already read the first one:
	// they would otherwise forget the id too early.
	revoke(ctx, t, b, "id", now.Add(5*time.Hour))
	got, c2 := drain(ctx, t, a, c1, now)
	if len(got) != 1 || got[0].ID != "id" || !got[0].Until.Equal(now.Add(5*time.Hour)) {
		t.Fatalf("after revoking id again until now+5h, RevocationsSince(%d) read %v; want id until %v", c1, got, now.Add(5*time.Hour))
	}

	// From cursor 0 it is read once, with its later Until.
	got, _ = drain(ctx, t, a, 0, now)
	if want := []string{"other", "id"}; !slices.Equal(ids(got), want) {
		t.Errorf("RevocationsSince(0) read %v; want %v (a re-revocation moves to the end, once)", ids(got), want)
	}

	// An earlier Until changes nothing; a store may or may not log it,
	// but what it reports must still be the later Until.
	revoke(ctx, t, a, "id", now.Add(2*time.Hour))
	got, _ = drain(ctx, t, b, c2, now)
	for _, r := range got {
		if r.ID == "id" && !r.Until.Equal(now.Add(5*time.Hour)) {
			t.Errorf("an earlier re-revocation reported Until %v; want the later %v", r.Until, now.Add(5*time.Hour))
		}
	}
	if !isRevoked(ctx, t, b, "id") {
		t.Error("IsRevoked(id) = false")
	}
}

func testLogConcurrent(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)
	const writers, each = 4, 25 // per handle

	var wg sync.WaitGroup
	done := make(chan struct{})
	for h, s := range []Store{a, b} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					id := fmt.Sprintf("h%d-w%d-%d", h, w, i)
					if err := s.Revoke(ctx, id, now.Add(time.Hour)); err != nil {
						t.Errorf("Revoke(%s): %v", id, err)
						return
					}
				}
			}()
		}
	}
	go func() { wg.Wait(); close(done) }()

	// The follower reads through b, and only after the writers are done
	// reads once more: an id committed under a cursor that it already
	// passed is lost for good, as it would be for a real follower.
	seen := map[string]bool{}
	var cursor int64
	follow := func() {
		got, next, err := b.RevocationsSince(ctx, cursor, now)
		if err != nil {
			t.Fatalf("RevocationsSince(%d): %v", cursor, err)
		}
		if next < cursor || (len(got) > 0 && next == cursor) {
			t.Fatalf("RevocationsSince(%d) read %d and returned cursor %d", cursor, len(got), next)
		}
		for _, r := range got {
			if seen[r.ID] {
				t.Errorf("%s read twice; the second time after cursor %d", r.ID, cursor)
			}
			seen[r.ID] = true
		}
		cursor = next
	}
	for polling := true; polling; {
		select {
		case <-done:
			polling = false
		default:
		}
		follow()
	}
	for before := -1; before != len(seen); {
		before = len(seen)
		follow()
	}

	var missed []string
	for h := range 2 {
		for w := range writers {
			for i := range each {
				if id := fmt.Sprintf("h%d-w%d-%d", h, w, i); !seen[id] {
					missed = append(missed, id)
				}
			}
		}
	}
	if len(missed) > 0 {
		t.Errorf("the follower never read %d of %d revocations (cursors not in commit order?): %v",
			len(missed), 2*writers*each, missed[:min(len(missed), 10)])
	}
}

func rotate(ctx context.Context, s Store, family, spent, next string, expires time.Time) error {
	return s.RotateFamily(ctx, family, spent, next, expires)
}

func testFamilies(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)
	exp := now.Add(time.Hour)

	if err := a.StartFamily(ctx, "f", "alice", "t1", exp); err != nil {
		t.Fatalf("StartFamily: %v", err)
	}
	if err := rotate(ctx, b, "f", "t1", "t2", exp); err != nil {
		t.Fatalf("RotateFamily(t1→t2) through the other handle: %v", err)
	}
	if err := rotate(ctx, a, "f", "t2", "t3", exp); err != nil {
		t.Fatalf("RotateFamily(t2→t3): %v", err)
	}
	for _, spent := range []string{"t1", "t2", "never-issued"} {
		if err := rotate(ctx, b, "f", spent, "t4", exp); !errors.Is(err, security.ErrRefreshReused) {
			t.Errorf("RotateFamily(%s) after it was spent = %v; want ErrRefreshReused", spent, err)
		}
	}
	// A failed rotation changes nothing: t3 is still live.
	if err := rotate(ctx, a, "f", "t3", "t5", exp); err != nil {
		t.Fatalf("RotateFamily(t3→t5) after failed reuses: %v", err)
	}

	if err := rotate(ctx, a, "nope", "t1", "t2", exp); !errors.Is(err, security.ErrUnknownFamily) {
		t.Errorf("RotateFamily of an unknown family = %v; want ErrUnknownFamily", err)
	}

	if err := b.EndFamily(ctx, "f"); err != nil {
		t.Fatalf("EndFamily: %v", err)
	}
	for _, spent := range []string{"t5", "t1"} {
		if err := rotate(ctx, a, "f", spent, "t6", exp); !errors.Is(err, security.ErrUnknownFamily) {
			t.Errorf("RotateFamily(%s) of an ended family = %v; want ErrUnknownFamily", spent, err)
		}
	}
	if err := a.EndFamily(ctx, "f"); err != nil {
		t.Errorf("EndFamily of an ended family: %v", err)
	}
	if err := a.EndFamily(ctx, "nope"); err != nil {
		t.Errorf("EndFamily of an unknown family: %v; want nil", err)
	}

	if err := a.StartFamily(ctx, "old", "bob", "o1", now.Add(-time.Hour)); err != nil {
		t.Fatalf("StartFamily(expired an hour ago): %v", err)
	}
	if err := rotate(ctx, b, "old", "o1", "o2", exp); !errors.Is(err, security.ErrUnknownFamily) {
		t.Errorf("RotateFamily of an expired family = %v; want ErrUnknownFamily", err)
	}

	// Families are independent.
	if err := b.StartFamily(ctx, "g", "alice", "g1", exp); err != nil {
		t.Fatalf("StartFamily(g): %v", err)
	}
	if err := rotate(ctx, a, "g", "g1", "g2", exp); err != nil {
		t.Errorf("RotateFamily(g) after f ended: %v", err)
	}
}

func testFamiliesRace(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)
	const rounds, racers = 10, 4 // racers per handle

	for round := range rounds {
		family := fmt.Sprintf("f%d", round)
		if err := a.StartFamily(ctx, family, "alice", "t0", now.Add(time.Hour)); err != nil {
			t.Fatalf("StartFamily: %v", err)
		}
		errs := make([]error, 2*racers)
		var wg sync.WaitGroup
		for i := range errs {
			s := [2]Store{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = rotate(ctx, s, family, "t0", fmt.Sprintf("next%d", i), now.Add(time.Hour))
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: rotations %d and %d of one token both succeeded", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, security.ErrRefreshReused):
				t.Fatalf("round %d: a losing rotation returned %v; want ErrRefreshReused", round, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no rotation of the live token succeeded", round)
		}
		// Both handles read the winner's rotation, whole: what a loser
		// reads to tell a racing tab from a copied token.
		won := fmt.Sprintf("next%d", winner)
		for name, s := range map[string]Store{"a": a, "b": b} {
			st := familyState(ctx, t, s, family)
			if st.Live != won || st.Previous != "t0" || st.Ended {
				t.Errorf("round %d: Family through %s after the race = Live %q, Previous %q, Ended %v; want Live %q (the winner's), Previous t0, not ended",
					round, name, st.Live, st.Previous, st.Ended, won)
			}
		}
		// The winner's token is the live one.
		if err := rotate(ctx, b, family, won, "after", now.Add(time.Hour)); err != nil {
			t.Fatalf("round %d: the winner's token %s is not live: %v", round, won, err)
		}
		if st := familyState(ctx, t, a, family); st.Live != "after" || st.Previous != won {
			t.Errorf("round %d: after rotating %s→after, Family = Live %q, Previous %q; want after, %s",
				round, won, st.Live, st.Previous, won)
		}
	}
}

func familyState(ctx context.Context, t *testing.T, s Store, family string) security.FamilyState {
	t.Helper()
	st, err := s.Family(ctx, family)
	if err != nil {
		t.Fatalf("Family(%q): %v", family, err)
	}
	return st
}

// stamped calls fn and returns the wall-clock bounds, widened by the one
// second of precision that a store may keep, between which a RotatedAt
// that fn sets must lie.
func stamped(t *testing.T, what string, fn func() error) (from, to time.Time) {
	t.Helper()
	from = time.Now()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	// Round(0) drops the monotonic reading, which a store's time lacks.
	return from.Round(0).Add(-time.Second), time.Now().Round(0).Add(time.Second)
}

func testFamilyState(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)
	exp := now.Add(time.Hour)

	type want struct {
		live, previous string
		expires        time.Time
		ended          bool
		from, to       time.Time // RotatedAt's bounds
	}
	check := func(step string, s Store, w want) security.FamilyState {
		t.Helper()
		st := familyState(ctx, t, s, "f")
		if st.Subject != "alice" || st.Live != w.live || st.Previous != w.previous || !st.Expires.Equal(w.expires) || st.Ended != w.ended {
			t.Errorf("%s: Family = Subject %q, Live %q, Previous %q, Expires %v, Ended %v; want alice, %q, %q, %v, %v",
				step, st.Subject, st.Live, st.Previous, st.Expires, st.Ended, w.live, w.previous, w.expires, w.ended)
		}
		if st.RotatedAt.Before(w.from) || st.RotatedAt.After(w.to) {
			t.Errorf("%s: RotatedAt = %v; want the store's time of it, between %v and %v", step, st.RotatedAt, w.from, w.to)
		}
		return st
	}

	from, to := stamped(t, "StartFamily", func() error { return a.StartFamily(ctx, "f", "alice", "t1", exp) })
	started := check("after StartFamily, through the other handle", b, want{live: "t1", expires: exp, from: from, to: to})

	from, to = stamped(t, "RotateFamily(t1→t2)", func() error { return rotate(ctx, b, "f", "t1", "t2", exp.Add(time.Hour)) })
	first := check("after t1→t2", a, want{live: "t2", previous: "t1", expires: exp.Add(time.Hour), from: from, to: to})
	if first.RotatedAt.Before(started.RotatedAt) {
		t.Errorf("RotatedAt went back from %v at the start to %v at the first rotation", started.RotatedAt, first.RotatedAt)
	}

	from, to = stamped(t, "RotateFamily(t2→t3)", func() error { return rotate(ctx, a, "f", "t2", "t3", exp.Add(2*time.Hour)) })
	w := want{live: "t3", previous: "t2", expires: exp.Add(2 * time.Hour), from: from, to: to}
	second := check("after t2→t3", b, w)
	if second.RotatedAt.Before(first.RotatedAt) {
		t.Errorf("RotatedAt went back from %v at the first rotation to %v at the second", first.RotatedAt, second.RotatedAt)
	}

	// A reuse, of the previous token or an older one, changes nothing.
	for _, spent := range []string{"t2", "t1"} {
		if err := rotate(ctx, b, "f", spent, "t9", exp.Add(5*time.Hour)); !errors.Is(err, security.ErrRefreshReused) {
			t.Fatalf("RotateFamily(%s) after it was spent = %v; want ErrRefreshReused", spent, err)
		}
		if st := check("after a reuse of "+spent, a, w); !st.RotatedAt.Equal(second.RotatedAt) {
			t.Errorf("a reuse of %s moved RotatedAt from %v to %v", spent, second.RotatedAt, st.RotatedAt)
		}
	}

	// An ended family keeps its tokens, for the Issuer to recognise them.
	if err := a.EndFamily(ctx, "f"); err != nil {
		t.Fatalf("EndFamily: %v", err)
	}
	w.ended = true
	check("after EndFamily, through the other handle", b, w)
	if err := rotate(ctx, a, "f", "t3", "t4", exp); !errors.Is(err, security.ErrUnknownFamily) {
		t.Fatalf("RotateFamily of an ended family = %v; want ErrUnknownFamily", err)
	}
	check("after a rotation of the ended family", b, w)

	for name, s := range map[string]Store{"a": a, "b": b} {
		if st, err := s.Family(ctx, "nope"); !errors.Is(err, security.ErrUnknownFamily) {
			t.Errorf("Family of an unknown family through %s = %+v, %v; want ErrUnknownFamily", name, st, err)
		}
	}

	// An expired family may be forgotten; if it is not, it is reported as
	// it was.
	if err := b.StartFamily(ctx, "old", "bob", "o1", now.Add(-time.Hour)); err != nil {
		t.Fatalf("StartFamily(expired an hour ago): %v", err)
	}
	switch st, err := a.Family(ctx, "old"); {
	case errors.Is(err, security.ErrUnknownFamily):
	case err != nil:
		t.Errorf("Family of an expired family: %v; want its state or ErrUnknownFamily", err)
	case st.Subject != "bob" || st.Live != "o1" || !st.Expires.Equal(now.Add(-time.Hour)):
		t.Errorf("Family of an expired family = %+v; want bob's, live o1, expired at %v", st, now.Add(-time.Hour))
	}
}

// strikes reads key's strikes through UpdateStrikes, storing them back
// unchanged. update may run more than once; the last run saw the value.
func strikes(ctx context.Context, t *testing.T, s Store, key string) security.Strikes {
	t.Helper()
	var got security.Strikes
	if err := s.UpdateStrikes(ctx, key, func(old security.Strikes) security.Strikes { got = old; return old }); err != nil {
		t.Fatalf("UpdateStrikes(%q): %v", key, err)
	}
	return got
}

func setStrikes(ctx context.Context, t *testing.T, s Store, key string, v security.Strikes) {
	t.Helper()
	if err := s.UpdateStrikes(ctx, key, func(security.Strikes) security.Strikes { return v }); err != nil {
		t.Fatalf("UpdateStrikes(%q): %v", key, err)
	}
}

func sameStrikes(x, y security.Strikes) bool {
	return x.N == y.N && x.Last.Equal(y.Last) && x.Until.Equal(y.Until)
}

func testStrikes(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)

	if got := strikes(ctx, t, a, "k"); !sameStrikes(got, security.Strikes{}) || !got.Last.IsZero() || !got.Until.IsZero() {
		t.Errorf("an unknown key's strikes = %+v; want the zero Strikes", got)
	}

	locked := security.Strikes{N: 6, Last: now, Until: now.Add(time.Minute)}
	setStrikes(ctx, t, a, "k", locked)
	if got := strikes(ctx, t, b, "k"); !sameStrikes(got, locked) {
		t.Errorf("strikes read through the other handle = %+v; want %+v", got, locked)
	}

	// An unlocked key keeps a zero Until: a store must not turn it into
	// 1970 or any other real time.
	unlocked := security.Strikes{N: 1, Last: now}
	setStrikes(ctx, t, b, "k", unlocked)
	if got := strikes(ctx, t, a, "k"); !sameStrikes(got, unlocked) || !got.Until.IsZero() {
		t.Errorf("strikes = %+v; want %+v with a zero Until", got, unlocked)
	}

	// Keys are independent.
	setStrikes(ctx, t, a, "other", security.Strikes{N: 9, Last: now})
	if got := strikes(ctx, t, b, "k"); got.N != 1 {
		t.Errorf("k's N = %d after another key was set; want 1", got.N)
	}

	// Storing the zero Strikes forgets the key.
	setStrikes(ctx, t, a, "k", security.Strikes{})
	if got := strikes(ctx, t, b, "k"); !sameStrikes(got, security.Strikes{}) || !got.Last.IsZero() {
		t.Errorf("strikes after storing zero = %+v; want the zero Strikes", got)
	}
	if got := strikes(ctx, t, b, "other"); got.N != 9 {
		t.Errorf("other's N = %d after k was deleted; want 9", got.N)
	}
}

func testStrikesRace(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)
	const each = 50 // goroutines per handle

	var wg sync.WaitGroup
	for _, s := range []Store{a, b} {
		for range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.UpdateStrikes(ctx, "k", func(old security.Strikes) security.Strikes {
					return security.Strikes{N: old.N + 1, Last: now}
				})
				if err != nil {
					t.Errorf("UpdateStrikes: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if got := strikes(ctx, t, a, "k"); got.N != 2*each {
		t.Errorf("after %d concurrent increments through two handles, N = %d: %d lost", 2*each, got.N, 2*each-got.N)
	}
}

func testSweepStrikes(t *testing.T, open Opener) {
	ctx, a, b, now := setup(t, open)

	keys := map[string]struct {
		s    security.Strikes
		kept bool
	}{
		"old":            {security.Strikes{N: 3, Last: now.Add(-2 * time.Hour)}, false},
		"old-lock-ended": {security.Strikes{N: 9, Last: now.Add(-2 * time.Hour), Until: now.Add(-90 * time.Minute)}, false},
		"old-locked":     {security.Strikes{N: 9, Last: now.Add(-2 * time.Hour), Until: now.Add(time.Hour)}, true},
		"recent":         {security.Strikes{N: 1, Last: now}, true},
	}
	for k, v := range keys {
		setStrikes(ctx, t, a, k, v.s)
	}
	if err := b.SweepStrikes(ctx, now.Add(-time.Hour)); err != nil {
		t.Fatalf("SweepStrikes: %v", err)
	}
	for k, v := range keys {
		got := strikes(ctx, t, a, k)
		switch {
		case v.kept && !sameStrikes(got, v.s):
			t.Errorf("%s: after SweepStrikes(now-1h) strikes = %+v; want it kept as %+v", k, got, v.s)
		case !v.kept && got.N != 0:
			t.Errorf("%s: after SweepStrikes(now-1h) strikes = %+v; want it swept", k, got)
		}
	}
}
