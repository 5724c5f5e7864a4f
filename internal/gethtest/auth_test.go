package gethtest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	gethrpc "github.com/ethereum/go-ethereum/rpc"
)

// auditEvent is the auth example's audit event.
type auditEvent struct {
	Type     string    `json:"type"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startAuthExample builds the auth example from the main module, runs it on
// a free loopback port with a fresh database, and returns its address and
// database path. The test stops it.
func startAuthExample(t *testing.T) (addr, db, bin string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "auth")
	build := exec.Command("go", "build", "-o", bin, "./examples/auth")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db = filepath.Join(dir, "auth.db")
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", db)
	cmd.Env = append(os.Environ(), "AUTH_SCRYPT_LN=4")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // fails only if it has exited
		_ = cmd.Wait()                          // its exit status is not what this test checks
	})
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case addr = <-addrc:
	case <-time.After(60 * time.Second):
		t.Fatal("the auth example did not listen in 60 s")
	}
	return addr, db, bin
}

// TestGethClientAgainstAuthExample: go-ethereum's own rpc.Client, unchanged,
// subscribes to the auth example's audit feed with an admin token in its
// handshake, receives the event of a sign-in made elsewhere, and sees the
// subscription end with an error once that token is signed out.
func TestGethClientAgainstAuthExample(t *testing.T) {
	addr, db, bin := startAuthExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api := "http://" + addr + "/api/v1"
	plain, err := gethrpc.DialContext(ctx, api)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	var user map[string]any
	if err := plain.CallContext(ctx, &user, "sign_up", "auditor", "password"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "token", "-db", db, "-u", "auditor", "-scope", "admin").Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	admin := strings.TrimSpace(string(out))

	ws, err := gethrpc.DialOptions(ctx, "ws://"+addr+"/api/v1", gethrpc.WithHeader("Authorization", "Bearer "+admin))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	events := make(chan auditEvent, 16)
	sub, err := ws.Subscribe(ctx, "audit", events)
	if err != nil {
		t.Fatalf("audit_subscribe: %v", err)
	}
	var pair map[string]any
	if err := plain.CallContext(ctx, &pair, "sign_in", "auditor", "password"); err != nil {
		t.Fatal(err)
	}
	for got := false; !got; {
		select {
		case ev := <-events:
			got = ev.Type == "sign_in" && ev.Username == "auditor" && !ev.At.IsZero()
		case err := <-sub.Err():
			t.Fatalf("the subscription ended: %v", err)
		case <-ctx.Done():
			t.Fatal("no sign_in event")
		}
	}

	// Signing the admin token out ends the subscription it opened.
	authed, err := gethrpc.DialOptions(ctx, api, gethrpc.WithHeader("Authorization", "Bearer "+admin))
	if err != nil {
		t.Fatal(err)
	}
	defer authed.Close()
	if err := authed.CallContext(ctx, nil, "sign_out"); err != nil {
		t.Fatalf("sign_out: %v", err)
	}
	for {
		select {
		case <-events: // the sign_out event itself may come first
		case err := <-sub.Err():
			if err == nil {
				t.Fatal("the subscription ended without an error")
			}
			return
		case <-ctx.Done():
			t.Fatal("the subscription outlived its token")
		}
	}
}
