package main

// End-to-end tests: each one builds nothing itself but runs the binary that
// TestMain built, on a free loopback port, with a lowered scrypt cost, and
// talks to it as the tutorial's client does, through transport.Dial.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// binary is the server TestMain builds, with -race when the tests run
// with it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-auth-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "auth")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		_ = os.RemoveAll(dir) // best effort: a temporary directory
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir) // best effort: a temporary directory
	os.Exit(code)
}

// server is one running instance of the binary.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	db   string
	done chan struct{}
	err  error // the process's exit, once done is closed

	mu  sync.Mutex
	log bytes.Buffer
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// start runs the server on the database file db (a new one in a temporary
// directory when empty) and waits until it listens. The test stops it.
func start(t *testing.T, db string, env ...string) *server {
	t.Helper()
	return startWith(t, db, nil, env...)
}

// startWith is start with more flags.
func startWith(t *testing.T, db string, flags []string, env ...string) *server {
	t.Helper()
	if db == "" {
		db = filepath.Join(t.TempDir(), "auth.db")
	}
	s, wait := launch(t, db, flags, env...)
	wait()
	return s
}

// launch starts the server like startWith, but returns at once: wait
// waits for it to listen. For a server that cannot listen yet (its
// PostgreSQL is down), and for servers started at the same moment.
func launch(t *testing.T, db string, flags []string, env ...string) (s *server, wait func()) {
	t.Helper()
	s = &server{t: t, db: db, done: make(chan struct{})}
	s.cmd = exec.Command(binary, append([]string{"-addr", "127.0.0.1:0", "-db", db}, flags...)...)
	s.cmd.Env = append(testEnv(), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				addrc <- m[1]
			}
		}
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.stop)
	return s, func() {
		t.Helper()
		select {
		case s.addr = <-addrc:
		case <-s.done:
			t.Fatalf("server exited before listening: %v\n%s", s.err, s.logText())
		case <-time.After(60 * time.Second):
			t.Fatalf("server did not listen in 60 s:\n%s", s.logText())
		}
	}
}

// testEnv is the environment of the server and the token command: the
// test's, without a JWT secret, with scrypt at ln=4.
func testEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTH_") {
			env = append(env, kv)
		}
	}
	return append(env, "AUTH_SCRYPT_LN=4")
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM and expects a clean exit within 15 s.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	// Signal and Kill fail only when the server has exited, which s.done shows.
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			s.t.Errorf("server exited with %v after SIGTERM:\n%s", s.err, s.logText())
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("server did not stop within 15 s of SIGTERM:\n%s", s.logText())
	}
}

// checkLog fails the test if the server's log holds any of secrets.
func (s *server) checkLog(secrets ...string) {
	s.t.Helper()
	log := s.logText()
	for _, secret := range secrets {
		if secret != "" && strings.Contains(log, secret) {
			s.t.Errorf("the server's log holds a secret %.12q…", secret)
		}
	}
	for _, bad := range []string{"$scrypt$", "eyJ"} {
		if strings.Contains(log, bad) {
			s.t.Errorf("the server's log holds %q:\n%s", bad, log)
		}
	}
}

func (s *server) url(scheme string) string { return scheme + "://" + s.addr + APIPath }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial returns a client for url that the test closes.
func dial(t *testing.T, url string, opts ...transport.ClientOption) *transport.Client {
	t.Helper()
	c, err := transport.Dial(ctxT(t), url, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rpcErr returns err as an *rpc.Error, failing the test for anything else.
func rpcErr(t *testing.T, err error) *rpc.Error {
	t.Helper()
	var re *rpc.Error
	if !errors.As(err, &re) {
		t.Fatalf("want a JSON-RPC error, got %v", err)
	}
	return re
}

// wantCode checks that err is a JSON-RPC error with code, and returns its
// data.
func wantCode(t *testing.T, err error, code int) map[string]any {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d, got success", code)
	}
	re := rpcErr(t, err)
	if re.Code != code {
		t.Fatalf("want error %d, got %d %q %s", code, re.Code, re.Message, re.Data)
	}
	var data map[string]any
	if raw, ok := re.Data.(json.RawMessage); ok && len(raw) > 0 {
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatalf("error data %s: %v", raw, err)
		}
	}
	return data
}

func signUp(t *testing.T, c *transport.Client, name, password string) User {
	t.Helper()
	var u User
	if err := c.Call(ctxT(t), "sign_up", []string{name, password}, &u); err != nil {
		t.Fatalf("sign_up %q: %v", name, err)
	}
	return u
}

func signIn(t *testing.T, c *transport.Client, name, password string) security.Pair {
	t.Helper()
	var p security.Pair
	if err := c.Call(ctxT(t), "sign_in", map[string]string{"username": name, "password": password}, &p); err != nil {
		t.Fatalf("sign_in %q: %v", name, err)
	}
	if p.AccessToken == "" || p.RefreshToken == "" || p.TokenType != "bearer" || p.ExpiresIn <= 0 {
		t.Fatalf("sign_in %q: pair %+v", name, p)
	}
	return p
}

func requireToken(t *testing.T, c *transport.Client) (User, error) {
	t.Helper()
	var u User
	err := c.Call(ctxT(t), "require_token", nil, &u)
	return u, err
}

func wantUser(t *testing.T, c *transport.Client, name string) {
	t.Helper()
	u, err := requireToken(t, c)
	if err != nil {
		t.Fatalf("require_token: %v", err)
	}
	if u.Username != name {
		t.Fatalf("require_token: username %q, want %q", u.Username, name)
	}
}

// mintToken runs the token command against db.
func mintToken(t *testing.T, db string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"token", "-db", db}, args...)...)
	cmd.Env = testEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token %v: %v\n%s", args, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// 1. The tutorial's client over HTTP: sign_up, sign_in, require_token.
func TestHTTPSignUpSignInRequireToken(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	u := signUp(t, c, "email@test.com", "password")
	if u.Username != "email@test.com" || u.CreatedAt.IsZero() {
		t.Fatalf("sign_up returned %+v", u)
	}
	// The result is the user, never the hash.
	var raw json.RawMessage
	if err := c.Call(ctxT(t), "sign_up", map[string]string{"username": "other", "password": "password"}, &raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "scrypt") || strings.Contains(string(raw), "password") {
		t.Errorf("sign_up result leaks: %s", raw)
	}
	p := signIn(t, c, "email@test.com", "password")
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(p.AccessToken)), "email@test.com")
	// The trailing slash serves the same API.
	wantUser(t, dial(t, s.url("http")+"/", transport.WithBearer(p.AccessToken)), "email@test.com")
	// Without a token, -32001 "missing".
	_, err := requireToken(t, c)
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != "missing" {
		t.Errorf("reason %v, want missing", d["reason"])
	}
	resp, err := http.Get("http://" + s.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /healthz: %s %q", resp.Status, body)
	}
	s.stop()
	s.checkLog("password", p.AccessToken, p.RefreshToken)
}

// 2. A WebSocket that presents the token in its handshake.
func TestWebSocketWithHeader(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	signUp(t, c, "ada", "correct horse")
	p := signIn(t, c, "ada", "correct horse")
	ws := dial(t, s.url("ws"), transport.WithBearer(p.AccessToken))
	wantUser(t, ws, "ada")
	// A bad token is refused before the upgrade.
	_, err := transport.Dial(ctxT(t), s.url("ws"), transport.WithBearer(p.AccessToken+"x"))
	var he *transport.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Errorf("dial with a bad token: %v, want a 401 handshake error", err)
	}
}

// 3. A WebSocket without a header that signs in on the connection, which
// the tutorial could not do.
func TestWebSocketSignInOnConnection(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	ws := dial(t, s.url("ws"))
	signUp(t, ws, "grace", "hopper1906")
	_, err := requireToken(t, ws)
	wantCode(t, err, rpc.CodeUnauthorized)
	signIn(t, ws, "GRACE ", "hopper1906")
	wantUser(t, ws, "grace")
	// sign_out on the connection signs it out.
	if err := ws.Call(ctxT(t), "sign_out", nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = requireToken(t, ws)
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != "missing" {
		t.Errorf("after sign_out on the connection: reason %v, want missing", d["reason"])
	}
}

// 4. Refresh rotates the pair; a spent refresh token presented again
// revokes its whole family.
func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	s := startWith(t, "", []string{"-refresh-grace", "0"}) // reuse at once, not a second tab
	c := dial(t, s.url("http"))
	signUp(t, c, "linus", "penguins!")
	p1 := signIn(t, c, "linus", "penguins!")
	var p2 security.Pair
	if err := c.Call(ctxT(t), "refresh", []string{p1.RefreshToken}, &p2); err != nil {
		t.Fatal(err)
	}
	if p2.AccessToken == p1.AccessToken || p2.RefreshToken == p1.RefreshToken {
		t.Fatal("refresh returned the same tokens")
	}
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(p2.AccessToken)), "linus")
	// An access token is no refresh token.
	wantCode(t, c.Call(ctxT(t), "refresh", map[string]string{"refresh_token": p2.AccessToken}, nil), rpc.CodeUnauthorized)
	// The spent token again: refused, and the family ends.
	wantCode(t, c.Call(ctxT(t), "refresh", map[string]string{"refresh_token": p1.RefreshToken}, nil), rpc.CodeUnauthorized)
	_, err := requireToken(t, dial(t, s.url("http"), transport.WithBearer(p2.AccessToken)))
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != "revoked" {
		t.Errorf("access token of a reused family: reason %v, want revoked", d["reason"])
	}
	wantCode(t, c.Call(ctxT(t), "refresh", []string{p2.RefreshToken}, nil), rpc.CodeUnauthorized)
	// Signing in again starts a new family.
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(signIn(t, c, "linus", "penguins!").AccessToken)), "linus")
	s.stop()
	s.checkLog("penguins!", p1.AccessToken, p1.RefreshToken, p2.AccessToken, p2.RefreshToken)
}

// Two tabs refresh one token at once: within the grace window (10 s by
// default) both get a pair, of one family with one live refresh token, and
// the user stays signed in.
func TestRefreshTwoTabs(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	signUp(t, c, "tabs", "password")
	p := signIn(t, c, "tabs", "password")
	var a, b security.Pair
	if err := c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, &a); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, &b); err != nil {
		t.Fatalf("the second tab: %v", err)
	}
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(a.AccessToken)), "tabs")
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(b.AccessToken)), "tabs")
	// Either tab's refresh token carries the family on; the other's is then spent.
	var next security.Pair
	if err := c.Call(ctxT(t), "refresh", []string{b.RefreshToken}, &next); err != nil {
		t.Fatal(err)
	}
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(next.AccessToken)), "tabs")
}

// 5. sign_out revokes the access token over HTTP and on a WebSocket that
// is already open with it, and the refresh family with it.
func TestSignOut(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	signUp(t, c, "margaret", "apollo-11")
	p := signIn(t, c, "margaret", "apollo-11")
	authed := dial(t, s.url("http"), transport.WithBearer(p.AccessToken))
	ws := dial(t, s.url("ws"), transport.WithBearer(p.AccessToken))
	wantUser(t, ws, "margaret")
	if err := authed.Call(ctxT(t), "sign_out", nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err := requireToken(t, authed)
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != "revoked" {
		t.Errorf("HTTP after sign_out: reason %v, want revoked", d["reason"])
	}
	_, err = requireToken(t, ws)
	wantCode(t, err, rpc.CodeUnauthorized)
	wantCode(t, c.Call(ctxT(t), "refresh", []string{p.RefreshToken}, nil), rpc.CodeUnauthorized)
	// sign_out itself needs a token.
	wantCode(t, c.Call(ctxT(t), "sign_out", nil, nil), rpc.CodeUnauthorized)
}

// 6. A restart keeps users, the secret and revocations.
func TestRestartKeepsUsersAndRevocations(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "auth.db")
	s := start(t, db)
	c := dial(t, s.url("http"))
	signUp(t, c, "ken", "unix-1969")
	out := signIn(t, c, "ken", "unix-1969")
	kept := signIn(t, c, "ken", "unix-1969")
	if err := dial(t, s.url("http"), transport.WithBearer(out.AccessToken)).Call(ctxT(t), "sign_out", nil, nil); err != nil {
		t.Fatal(err)
	}
	s.stop()

	s = start(t, db)
	c = dial(t, s.url("http"))
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(kept.AccessToken)), "ken")
	_, err := requireToken(t, dial(t, s.url("http"), transport.WithBearer(out.AccessToken)))
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != "revoked" {
		t.Errorf("signed-out token after restart: reason %v, want revoked", d["reason"])
	}
	wantCode(t, c.Call(ctxT(t), "refresh", []string{out.RefreshToken}, nil), rpc.CodeUnauthorized)
	var p security.Pair
	if err := c.Call(ctxT(t), "refresh", []string{kept.RefreshToken}, &p); err != nil {
		t.Fatalf("refresh of a live family after restart: %v", err)
	}
	signIn(t, c, "ken", "unix-1969")
	wantCode(t, c.Call(ctxT(t), "sign_up", []string{"KEN", "another-password"}, nil), CodeSignUpFailed)
}

// 7. The token command's tokens work; its admin scope opens list_users,
// which a normal token cannot.
func TestTokenCommand(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	signUp(t, c, "root", "toor-toor")
	signUp(t, c, "user", "resu-resu")

	admin := dial(t, s.url("http"), transport.WithBearer(mintToken(t, s.db, "-u", "root", "-scope", "admin", "-d", "5m")))
	var users []User
	if err := admin.Call(ctxT(t), "list_users", nil, &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Username != "root" || users[1].Username != "user" {
		t.Errorf("list_users: %+v", users)
	}
	wantUser(t, admin, "root")

	plain := dial(t, s.url("http"), transport.WithBearer(mintToken(t, s.db, "-u", "user")))
	wantUser(t, plain, "user")
	if d := wantCode(t, plain.Call(ctxT(t), "list_users", nil, nil), rpc.CodeForbidden); fmt.Sprint(d["required"]) != "[admin]" {
		t.Errorf("-32003 data: %v", d)
	}
	p := signIn(t, c, "user", "resu-resu")
	wantCode(t, dial(t, s.url("http"), transport.WithBearer(p.AccessToken)).Call(ctxT(t), "list_users", nil, nil), rpc.CodeForbidden)

	// Refusals: an unknown user, an unknown scope, a missing database.
	for _, args := range [][]string{
		{"token", "-db", s.db, "-u", "nobody"},
		{"token", "-db", s.db, "-u", "root", "-scope", "superuser"},
		{"token", "-db", filepath.Join(t.TempDir(), "none.db"), "-u", "root"},
	} {
		cmd := exec.Command(binary, args...)
		cmd.Env = testEnv()
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}

// Regression: with the server on AUTH_JWT_SECRET, the token command run
// without it printed a token the server refused, and wrote a secret of its
// own into the server's database. It now signs with exactly the server's
// secret, or refuses and says why.
func TestTokenCommandUsesTheServersSecret(t *testing.T) {
	t.Parallel()
	const secret = "an-environment-secret-of-32-bytes-or-more"
	s := start(t, "", "AUTH_JWT_SECRET="+secret)
	signUp(t, dial(t, s.url("http")), "root", "toor-toor")
	for _, tc := range []struct{ env, want string }{
		{"", "set it for this command too"},
		{"AUTH_JWT_SECRET=another-secret-of-32-bytes-or-more-000", "not the one the server started with"},
	} {
		cmd := exec.Command(binary, "token", "-db", s.db, "-u", "root")
		cmd.Env = append(testEnv(), tc.env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("env %q: %v %s, want a refusal saying %q", tc.env, err, out, tc.want)
		}
	}
	cmd := exec.Command(binary, "token", "-db", s.db, "-u", "root")
	cmd.Env = append(testEnv(), "AUTH_JWT_SECRET="+secret)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("with the server's secret: %v", err)
	}
	wantUser(t, dial(t, s.url("http"), transport.WithBearer(strings.TrimSpace(string(out)))), "root")
}

// The command line: -h succeeds, a bad flag is explained once and exits 2,
// and the usage names the token command.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "auth token -u NAME"},
		{[]string{"-h"}, 0, "-metrics"},
		{[]string{"-h"}, 0, "-access-log"},
		{[]string{"-h"}, 0, "-metrics-addr"},
		{[]string{"-h"}, 0, "keep it off the internet"},
		{[]string{"token", "-h"}, 0, "Usage: auth token"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"-log-level", "loud"}, 1, "-log-level"},
		{[]string{"-log-format", "xml"}, 1, "-log-format"},
		{[]string{"token"}, 2, "-u is required"},
	} {
		cmd := exec.Command(binary, tc.args...)
		cmd.Env = testEnv()
		cmd.Dir = t.TempDir()
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %d, output %s; want exit %d with %q", tc.args, code, out, tc.code, tc.want)
		}
		if n := strings.Count(string(out), "flag provided but not defined"); n > 1 {
			t.Errorf("%v: the error is printed %d times", tc.args, n)
		}
	}
}

// A short AUTH_JWT_SECRET is refused with a message that says why.
func TestShortSecretRefused(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "-addr", "127.0.0.1:0", "-db", ":memory:")
	cmd.Env = append(testEnv(), "AUTH_JWT_SECRET=too-short")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "AUTH_JWT_SECRET is 9 bytes; it must be at least 32") {
		t.Fatalf("want a refusal, got %v:\n%s", err, out)
	}
	if strings.Contains(string(out), "too-short") {
		t.Errorf("the refusal shows the secret: %s", out)
	}
}

// postRaw posts body and returns the response's error member.
func postRaw(t *testing.T, url, body string) json.RawMessage {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if msg.Error == nil {
		t.Fatalf("%s: want an error, got result %s", body, msg.Result)
	}
	return msg.Error
}

// 8. Bad input is -32602 and creates nothing.
func TestBadInputCreatesNothing(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	signUp(t, c, "keeper", "password")
	long := strings.Repeat("x", 2048)
	for name, params := range map[string]string{
		"no params":              `[]`,
		"missing password":       `{"username":"bad1"}`,
		"missing username":       `["bad2"]`,
		"number password":        `["bad3", 12345678]`,
		"bool username":          `{"username":true,"password":"password"}`,
		"object password":        `{"username":"bad4","password":{"p":"password"}}`,
		"unknown param":          `{"username":"bad5","password":"password","admin":true}`,
		"extra positional":       `["bad6","password","admin"]`,
		"2 KiB password":         `["bad7","` + long + `"]`,
		"short password":         `["bad8","1234567"]`,
		"empty username":         `["   ","password"]`,
		"long username":          `["` + strings.Repeat("n", 65) + `","password"]`,
		"invalid UTF-8 password": "[\"bad9\",\"pass\xff\xfeword\"]",
		"invalid UTF-8 username": "[\"bad\xc3\x28\",\"password\"]",
		"lone surrogate":         `["bad10","pass\udc00word"]`,
		"control character":      `["bad\u0007","password"]`,
	} {
		t.Run(name, func(t *testing.T) {
			raw := postRaw(t, s.url("http"), `{"jsonrpc":"2.0","method":"sign_up","params":`+params+`,"id":1}`)
			var e rpc.Error
			if err := json.Unmarshal(raw, &e); err != nil || e.Code != rpc.CodeInvalidParams {
				t.Errorf("error %s, want -32602", raw)
			}
		})
	}
	// sign_in refuses the same shapes.
	raw := postRaw(t, s.url("http"), `{"jsonrpc":"2.0","method":"sign_in","params":["keeper","`+long+`"],"id":1}`)
	if !strings.Contains(string(raw), "-32602") {
		t.Errorf("sign_in with a 2 KiB password: %s", raw)
	}
	var users []User
	admin := dial(t, s.url("http"), transport.WithBearer(mintToken(t, s.db, "-u", "keeper", "-scope", "admin")))
	if err := admin.Call(ctxT(t), "list_users", nil, &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Errorf("bad sign-ups left users behind: %+v", users)
	}
}

// Two sign-ups racing for one name, in different cases, leave one user.
func TestRacingSignUps(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	const n = 8 // within one address's free sign-ups
	errs := make(chan error, n)
	for i := range n {
		go func() {
			name := "Racer"
			if i%2 == 1 {
				name = " racer"
			}
			errs <- c.Call(ctxT(t), "sign_up", []string{name, "password"}, nil)
		}()
	}
	ok := 0
	for range n {
		if err := <-errs; err == nil {
			ok++
		} else {
			wantCode(t, err, CodeSignUpFailed)
		}
	}
	if ok != 1 {
		t.Errorf("%d sign-ups succeeded, want 1", ok)
	}
}

// Sign-ups are throttled per client address: each costs a password hash.
// Behind a trusted proxy the address is the one X-Forwarded-For names; from
// any other peer the header is ignored.
func TestSignUpThrottledPerAddress(t *testing.T) {
	t.Parallel()
	s := startWith(t, "", []string{"-trusted-proxy", "127.0.0.1"})
	from := func(addr string) *transport.Client {
		return dial(t, s.url("http"), transport.WithHeader("X-Forwarded-For", addr))
	}
	a := from("198.51.100.1")
	var err error
	for i := range 20 {
		if err = a.Call(ctxT(t), "sign_up", []string{fmt.Sprintf("user%d", i), "password"}, nil); err != nil {
			break
		}
	}
	if d := wantCode(t, err, rpc.CodeLimitExceeded); d["retry_after_ms"] == nil {
		t.Errorf("-32005 without retry_after_ms: %v", d)
	}
	// Another client behind the same proxy is not held up.
	if err := from("198.51.100.2").Call(ctxT(t), "sign_up", []string{"other", "password"}, nil); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// Without -trusted-proxy, X-Forwarded-For is not believed: a client cannot
// buy a fresh budget by writing a new address there.
func TestForwardedForIgnoredWithoutTrustedProxy(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	var err error
	for i := range 20 {
		c := dial(t, s.url("http"), transport.WithHeader("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)))
		if err = c.Call(ctxT(t), "sign_up", []string{fmt.Sprintf("user%d", i), "password"}, nil); err != nil {
			break
		}
	}
	wantCode(t, err, rpc.CodeLimitExceeded)
}

// An unknown user and a wrong password get the same bytes; failures are
// throttled per account, whether it exists or not, and per address.
func TestSignInFailuresAlikeAndThrottled(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	c := dial(t, s.url("http"))
	signUp(t, c, "victim", "password")
	unknown := postRaw(t, s.url("http"), `{"jsonrpc":"2.0","method":"sign_in","params":["nobody","password"],"id":1}`)
	wrong := postRaw(t, s.url("http"), `{"jsonrpc":"2.0","method":"sign_in","params":["victim","wrong-password"],"id":1}`)
	if !bytes.Equal(unknown, wrong) {
		t.Errorf("unknown user: %s\nwrong password: %s", unknown, wrong)
	}
	for _, name := range []string{"victim", "nobody"} {
		var err error
		for i := 0; i < 10; i++ {
			if err = c.Call(ctxT(t), "sign_in", []string{name, "wrong-password"}, nil); rpcErr(t, err).Code == rpc.CodeLimitExceeded {
				break
			}
		}
		if d := wantCode(t, err, rpc.CodeLimitExceeded); d["retry_after_ms"] == nil || d["retry_after_ms"].(float64) <= 0 {
			t.Errorf("%s: -32005 data %v", name, d)
		}
	}
	// The right password waits too.
	wantCode(t, c.Call(ctxT(t), "sign_in", []string{"victim", "password"}, nil), rpc.CodeLimitExceeded)
	// Other names from this address run out after 20 attempts in all.
	var err error
	for i := 0; i < 25; i++ {
		if err = c.Call(ctxT(t), "sign_in", []string{fmt.Sprintf("name%d", i), "wrong-password"}, nil); rpcErr(t, err).Code == rpc.CodeLimitExceeded {
			break
		}
	}
	wantCode(t, err, rpc.CodeLimitExceeded)
}
