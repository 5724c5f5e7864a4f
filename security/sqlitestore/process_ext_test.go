package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/security/sqlitestore"
)

// childEnv names the database that the test binary, run again as a child
// process by TestTwoProcesses, opens.
const childEnv = "SQLITESTORE_TEST_CHILD_DB"

// TestTwoProcesses runs a second process on the same file: each revokes
// ids while the other does, and each then reads all of them, through
// IsRevoked and through the log.
func TestTwoProcesses(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		child(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	s := open(t, path)
	must(t, s.Revoke(ctx, "before", farFuture))

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestTwoProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	var out []byte
	var err error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); out, err = cmd.CombinedOutput() }()
	revokeMany(t, s, "parent")
	wg.Wait()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}

	got, _, err := s.RevocationsSince(ctx, 0, time.Now())
	must(t, err)
	seen := map[string]bool{}
	for _, r := range got {
		seen[r.ID] = true
	}
	for _, id := range append(ids("parent"), ids("child")...) {
		if !seen[id] {
			t.Errorf("%s is not in the log", id)
		}
		if ok, err := s.IsRevoked(ctx, id); err != nil || !ok {
			t.Errorf("IsRevoked(%s) = %v, %v", id, ok, err)
		}
	}
}

func ids(prefix string) []string {
	var out []string
	for i := range 50 {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

func revokeMany(t *testing.T, s *sqlitestore.Store, prefix string) {
	for _, id := range ids(prefix) {
		must(t, s.Revoke(context.Background(), id, farFuture))
	}
}

// child is the second process: it sees what the parent revoked before it
// started, and revokes its own ids.
func child(t *testing.T, path string) {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, path, sqlitestore.WithMustExist())
	must(t, err)
	defer s.Close()
	if ok, err := s.IsRevoked(ctx, "before"); err != nil || !ok {
		t.Fatalf("child: IsRevoked(before) = %v, %v", ok, err)
	}
	var c security.RevocationLog = s
	if got, _, err := c.RevocationsSince(ctx, 0, time.Now()); err != nil || len(got) == 0 || got[0].ID != "before" {
		t.Fatalf("child: RevocationsSince(0) = %v, %v; want before first", got, err)
	}
	revokeMany(t, s, "child")
}
