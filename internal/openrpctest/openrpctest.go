// Package openrpctest runs the OpenRPC reference tools, pinned by the
// package.json beside it, from Go tests. The tools are node programs:
// @open-rpc/schema-utils-js validates and dereferences documents,
// @open-rpc/client-js calls servers, and @open-rpc/test-coverage checks a
// server against its document. Each script here prints one JSON value.
//
// Under CI (the environment variable CI is "true") a missing node or a
// missing node_modules fails the test; elsewhere it skips it, saying how
// to install the tools (npm ci in this directory).
package openrpctest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Dir returns the directory that holds the scripts and node_modules.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Require finds node and the installed tools, or stops the test: a
// failure under CI, a skip elsewhere. It returns node's path.
func Require(t testing.TB) string {
	t.Helper()
	stop := t.Skipf
	if os.Getenv("CI") == "true" {
		stop = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		stop("node is not installed: the OpenRPC reference tools cannot run")
		return ""
	}
	for _, pkg := range []string{"@open-rpc/schema-utils-js", "@open-rpc/client-js", "@open-rpc/test-coverage"} {
		if _, err := os.Stat(filepath.Join(Dir(), "node_modules", pkg, "package.json")); err != nil {
			stop("%s is not installed: run npm ci in %s", pkg, Dir())
			return ""
		}
	}
	return node
}

// Run runs script (a file in [Dir]) with node and args, and decodes what it
// prints into out. A non-zero exit fails the test with the script's output.
func Run(t testing.TB, out any, script string, args ...string) {
	t.Helper()
	node := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(Dir(), script)}, args...)...)
	cmd.Dir = Dir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s printed no JSON: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
}

// Validation is what validate.mjs reports about a document.
type Validation struct {
	// Valid is true when validateOpenRPCDocument accepted the document.
	Valid  bool   `json:"valid"`
	Errors string `json:"errors"`
	// SchemesValid is true when components.x-security-schemes is absent
	// or matches the schema its x-extensions declaration gives.
	SchemesValid  bool   `json:"schemesValid"`
	SchemesErrors string `json:"schemesErrors"`
	// Dereferenced is true when parseOpenRPCDocument dereferenced and
	// revalidated it; DerefError says why not. It is only tried when asked.
	Dereferenced bool   `json:"dereferenced"`
	DerefError   string `json:"derefError"`
	// Refs counts the "$ref"s left after dereferencing.
	Refs int `json:"refs"`
}

// Validate writes doc to a file and has validate.mjs check it. With deref,
// it also dereferences it with parseOpenRPCDocument.
func Validate(t testing.TB, doc []byte, deref bool) Validation {
	t.Helper()
	f := filepath.Join(t.TempDir(), "openrpc.json")
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{f}
	if deref {
		args = append(args, "--deref")
	}
	var v Validation
	Run(t, &v, "validate.mjs", args...)
	return v
}
