// Package pgtest gives tests a throwaway PostgreSQL.
//
// A [Cluster] is a PostgreSQL server of the test's own: initdb in a
// temporary directory, then postgres on a free loopback port, tuned for
// tests (no fsync, no synchronous commit), stopped and removed when the
// test ends. Tests that stop and restart the server use one; the others
// share one per package through [Shared]:
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) { pg.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		url := pg.Database(t) // a fresh database, dropped when t ends
//		...
//	}
//
// The binaries come from Debian's postgresql package: initdb and postgres
// are looked up on PATH, then in /usr/lib/postgresql/*/bin. PostgreSQL
// refuses to run as root, so under root they run as the user "postgres".
//
// When WARDEN_TEST_POSTGRES_URL is set (a superuser's URL, such as
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), that
// server is used instead of starting one; each test still gets a database
// of its own. When PostgreSQL is missing, tests skip, except under CI=true,
// where they fail.
//
// The server is started with its parent-death signal set, so it stops
// even when the test binary dies without running its cleanups (a panic, a
// -timeout).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable that points tests at a running
// server instead of one of their own.
const EnvURL = "WARDEN_TEST_POSTGRES_URL"

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 60 * time.Second

// errMissing says that PostgreSQL is not installed.
var errMissing = errors.New("PostgreSQL not found: install Debian's postgresql package (initdb and postgres under /usr/lib/postgresql/*/bin), or set " + EnvURL)

// Cluster is one PostgreSQL server of a test's own, or the server that
// WARDEN_TEST_POSTGRES_URL names.
type Cluster struct {
	admin string // a superuser's URL, database "postgres"

	// The rest is set only for a server that this package started.
	bin  string // the directory holding initdb and postgres
	dir  string // owned by the server's user: data/, sockets, the log
	port int
	cred *syscall.Credential // nil unless running as root

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
}

// Start starts a cluster of t's own, stopped and removed when t ends. It
// always starts one, even when WARDEN_TEST_POSTGRES_URL is set: it is
// for tests that stop and start the server. Where it cannot, t skips, or
// fails under CI=true.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c, err := start()
	if err != nil {
		if errors.Is(err, errMissing) && os.Getenv(EnvURL) != "" {
			t.Skipf("pgtest: this test stops and starts its own server: %v", err)
		}
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := c.close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// URL returns a superuser's URL for the cluster's "postgres" database.
func (c *Cluster) URL() string { return c.admin }

// NewDatabase creates an empty database and returns its URL. The database
// is dropped when t ends, its connections terminated.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	name, u, err := c.createDatabase(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		if err := c.dropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return u
}

// Stop stops the server (a fast shutdown: sessions are terminated), so
// that a test can see what its code does while PostgreSQL is away.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if c.bin == "" {
		t.Fatal("pgtest: cannot stop a server given by " + EnvURL)
	}
	if err := c.stop(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Start starts the server again, on the same port and data, after Stop.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if c.bin == "" {
		t.Fatal("pgtest: cannot start a server given by " + EnvURL)
	}
	if err := c.run(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Shared is one cluster for all the tests of a package, started when a
// test first asks for a database and stopped when [Shared.Main] returns.
// The zero value is ready to use; declare one in the package's tests and
// call its Main from TestMain.
type Shared struct {
	mu      sync.Mutex
	running bool // Main is running the tests
	started bool
	c       *Cluster
	err     error
}

// Main runs the tests, stops the cluster if one was started, and exits
// with the tests' status. Call it from TestMain.
func (s *Shared) Main(m *testing.M) {
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	code := m.Run()
	s.mu.Lock()
	c := s.c
	s.c, s.running = nil, false
	s.mu.Unlock()
	if c != nil {
		if err := c.close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Cluster returns the shared cluster, starting it on first use. Tests
// must not stop it; those that do use [Start].
func (s *Shared) Cluster(t testing.TB) *Cluster {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		t.Fatal("pgtest: Shared used without its Main: call it from TestMain, so that the server is stopped")
	}
	if !s.started {
		s.started = true
		if u := os.Getenv(EnvURL); u != "" {
			s.c, s.err = external(u)
		} else {
			s.c, s.err = start()
		}
	}
	if s.err != nil {
		unavailable(t, s.err)
	}
	return s.c
}

// Database returns the URL of a fresh database on the shared cluster,
// dropped when t ends.
func (s *Shared) Database(t testing.TB) string {
	t.Helper()
	return s.Cluster(t).NewDatabase(t)
}

// unavailable skips t, or fails it under CI=true or when PostgreSQL is
// installed but would not start.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errMissing) && os.Getenv("CI") != "true" {
		t.Skipf("pgtest: %v", err)
	}
	t.Fatalf("pgtest: %v", err)
}

// external returns the server that u names, after checking that it can
// be reached.
func external(u string) (*Cluster, error) {
	c := &Cluster{admin: u}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvURL, err)
	}
	_ = conn.Close(ctx) // a probe: it connected, which is all it asks
	return c, nil
}

// findBin returns the directory holding initdb and postgres.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	// The newest version first: 9.6 < 10 < 15 by number, not by name.
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	for _, p := range found {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", errMissing
}

// version reads the major version from /usr/lib/postgresql/V/bin/initdb.
func version(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

// start creates a cluster with initdb and starts it.
func start() (c *Cluster, err error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c = &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: %w (the postgresql package creates that user)", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	// Not t.TempDir: its parent is private to root, and the server's user
	// must reach its data and sockets.
	c.dir, err = os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(c.dir) // best effort: err says what went wrong
		}
	}()
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	initdb := c.command("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// Another process may take the free port before the server binds it.
	for try := 0; ; try++ {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		err = c.run()
		if err == nil || try == 2 || !strings.Contains(err.Error(), "could not bind") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) log() string  { return filepath.Join(c.dir, "postgres.log") }

// command runs a PostgreSQL binary as the server's user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	// Ends the process if the test binary dies; see run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

// run starts postgres and waits until it accepts connections.
func (c *Cluster) run() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return errors.New("server already running")
	}
	logf, err := os.OpenFile(c.log(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	// postgres writes through its own copy of the descriptor.
	defer func() { _ = logf.Close() }()
	cmd := c.command("postgres", "-D", c.data(),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(c.port),
		"-c", "unix_socket_directories="+c.dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "shared_buffers=32MB",
		"-c", "max_wal_size=1GB",
		"-c", "log_min_messages=warning",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The parent-death signal goes out when the thread that started the
	// process exits, not the whole program: start it from a goroutine
	// locked to its thread until the process has exited.
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(done)
			return
		}
		started <- nil
		_ = cmd.Wait() // its outcome is in cmd.ProcessState, which run reports
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.admin)
		if err == nil {
			_ = conn.Close(ctx) // a probe: it connected, which is all it asks
			c.proc, c.done = cmd, done
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited: %s\n%s", cmd.ProcessState, c.readLog())
		case <-ctx.Done():
			_ = cmd.Process.Kill() // fails only if it has exited, which done shows
			<-done
			return fmt.Errorf("postgres did not accept connections within %v: %v\n%s", startTimeout, err, c.readLog())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Cluster) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc != nil
}

func (c *Cluster) readLog() string {
	b, _ := os.ReadFile(c.log())
	return string(b)
}

// stop shuts the server down fast, killing it if that takes too long.
func (c *Cluster) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	proc, done := c.proc, c.done
	c.proc, c.done = nil, nil
	// SIGINT is a fast shutdown: sessions are ended, then a checkpoint.
	// Signal fails only when the server has exited, which done shows.
	_ = proc.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
		return nil
	case <-time.After(startTimeout):
	}
	// SIGQUIT is an immediate shutdown; the children follow the
	// postmaster.
	_ = proc.Process.Signal(syscall.SIGQUIT)
	<-done
	return fmt.Errorf("postgres took more than %v to shut down\n%s", startTimeout, c.readLog())
}

// close stops the server and removes its files.
func (c *Cluster) close() error {
	if c.bin == "" {
		return nil
	}
	err := c.stop()
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}

// createDatabase creates a database of a random name, so that packages
// sharing one server never collide.
func (c *Cluster) createDatabase(ctx context.Context) (name, dbURL string, err error) {
	var b [8]byte
	rand.Read(b[:])
	name = "pgtest_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return "", "", err
	}
	defer func() { _ = conn.Close(ctx) }() // the admin session: Exec's error is what matters
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(c.admin)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

// dropDatabase drops the database, ending the sessions still in it.
func (c *Cluster) dropDatabase(ctx context.Context, name string) error {
	if c.bin != "" && !c.running() {
		return nil // a test stopped the server; its files go with it
	}
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer func() { _ = conn.Close(ctx) }() // the admin session: Exec's error is what matters
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// freePort returns a loopback port that nothing listens on just now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }() // only its port was wanted
	return l.Addr().(*net.TCPAddr).Port, nil
}
