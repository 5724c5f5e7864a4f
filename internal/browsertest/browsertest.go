// Package browsertest runs browser scenarios, node scripts in this
// directory that drive Debian's Chromium (/usr/bin/chromium) through
// puppeteer-core, pinned by the package.json and package-lock.json beside
// them. Each script takes a URL and a directory for screenshots, and
// prints one JSON value: what a person would have seen, for the Go test
// to judge.
//
// Under CI (the environment variable CI is "true") a missing node,
// node_modules or Chromium fails the test; elsewhere it skips it, saying
// how to install them (npm ci here, apt-get install chromium).
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds one scenario, browser start and screenshots included.
const Timeout = 90 * time.Second

// Dir returns the directory that holds the scripts and node_modules.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Chromium returns the browser's path: $CHROMIUM, or Debian's
// /usr/bin/chromium.
func Chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// Require finds node, puppeteer-core and Chromium, or stops the test: a
// failure under CI, a skip elsewhere. It returns node's path.
func Require(t testing.TB) string {
	t.Helper()
	stop := t.Skipf
	if os.Getenv("CI") == "true" {
		stop = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		stop("node is not installed: the browser tests cannot run")
		return ""
	}
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules", "puppeteer-core", "package.json")); err != nil {
		stop("puppeteer-core is not installed: run npm ci in %s", Dir())
		return ""
	}
	if _, err := os.Stat(Chromium()); err != nil {
		stop("Chromium is not installed at %s: apt-get install chromium", Chromium())
		return ""
	}
	return node
}

// ScreenshotDir returns where a scenario keeps its screenshots: the
// directory $BROWSERTEST_SCREENSHOTS names, or a new temporary directory
// that outlives the test, so that a person can look at them afterwards.
// The test's log says which.
func ScreenshotDir(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("BROWSERTEST_SCREENSHOTS")
	var err error
	if dir != "" {
		dir = filepath.Join(dir, name)
		err = os.MkdirAll(dir, 0o750) //nolint:gosec // G703: the person running the tests chose this path
	} else {
		dir, err = os.MkdirTemp("", "warden-"+name+"-")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// Run runs script (a file in [Dir]) with node and args, within [Timeout],
// and decodes what it prints into out. A non-zero exit fails the test with
// the script's output. Node and the browser it starts run in a process
// group of their own, which is killed when the scenario ends, so that
// nothing outlives the test.
func Run(t testing.TB, out any, script string, args ...string) {
	t.Helper()
	node := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	//nolint:gosec // G204: a test's own script of this directory, run by the node that Require found
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(Dir(), script)}, args...)...)
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), "CHROMIUM="+Chromium())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// The browser is node's child: end whatever is left of the group.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when all is gone: fine
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node %s did not finish in %v\nstdout:\n%s\nstderr:\n%s", script, Timeout, stdout.Bytes(), stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s printed no JSON: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
}
