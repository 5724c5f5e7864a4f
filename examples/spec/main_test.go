package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/internal/golden"
	"github.com/wardenrpc/warden/internal/openrpctest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/openrpc.json from the registry")

// goldenURL is the server URL in the golden document: the default -addr.
const goldenURL = "http://127.0.0.1:8081/"

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	h, rpcHandler, err := newMux(logger, goldenURL)
	if err != nil {
		t.Fatal(err)
	}
	// The server that run uses, timeouts and connection cap included.
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = newHTTPServer(h, logger)
	ts.Start()
	t.Cleanup(func() {
		if err := rpcHandler.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return ts
}

// The example serves with every timeout set, so that no client holds a
// connection for ever.
func TestHTTPServerHasTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.ConnState == nil {
		t.Fatalf("header %v, write %v, idle %v, connection cap %v",
			srv.ReadHeaderTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.ConnState != nil)
	}
}

// TestSpecExamples sends every golden protocol file of the engine, the
// specification's section 7 examples among them, to this example's own
// routes: the server a user runs answers exactly as specified.
func TestSpecExamples(t *testing.T) {
	h, rpcHandler, err := newMux(slog.New(slog.DiscardHandler), goldenURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rpcHandler.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	golden.Run(t, h, "/", golden.Files(t, filepath.Join("..", "..", "rpc", "testdata"), "*.js"))
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q, want application/json", url, ct)
	}
	return body
}

// TestDocumentGolden pins the document that GET /openrpc.json serves. Run
// go test ./examples/spec -update to accept a change.
func TestDocumentGolden(t *testing.T) {
	ts := newTestServer(t)
	got := get(t, ts.URL+"/openrpc.json")
	golden := filepath.Join("testdata", "openrpc.json")
	if *updateGolden {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("GET /openrpc.json differs from %s (run go test -update if the change is meant):\n%s", golden, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\n- " + wl + "\n+ " + gl
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestDiscoverMatchesHTTP checks that rpc.discover returns the document
// that GET /openrpc.json serves.
func TestDiscoverMatchesHTTP(t *testing.T) {
	ts := newTestServer(t)
	doc := get(t, ts.URL+"/openrpc.json")
	resp, err := http.Post(ts.URL+"/", "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"rpc.discover","id":1}`))
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
	if msg.Error != nil {
		t.Fatalf("rpc.discover: %s", msg.Error)
	}
	var a, b any
	if err := json.Unmarshal(doc, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(msg.Result, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("rpc.discover and GET /openrpc.json differ:\n%s\n%s", ja, jb)
	}
}

// TestDocumentValidates has @open-rpc/schema-utils-js validate the
// document and dereference it.
func TestDocumentValidates(t *testing.T) {
	ts := newTestServer(t)
	v := openrpctest.Validate(t, get(t, ts.URL+"/openrpc.json"), true)
	if !v.Valid {
		t.Errorf("validateOpenRPCDocument: %s", v.Errors)
	}
	if !v.SchemesValid {
		t.Errorf("x-security-schemes: %s", v.SchemesErrors)
	}
	if !v.Dereferenced {
		t.Errorf("parseOpenRPCDocument: %s", v.DerefError)
	}
	if v.Refs != 0 {
		t.Errorf("%d $refs left after dereferencing", v.Refs)
	}
}

type clientReport struct {
	Results map[string]any `json:"results"`
	Errors  map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func checkClient(t *testing.T, kind, url string) {
	var r clientReport
	openrpctest.Run(t, &r, "client.mjs", kind, url)
	wantResults := map[string]string{
		"subtract by position":        `19`,
		"subtract reversed":           `-19`,
		"subtract by name":            `19`,
		"sum":                         `7`,
		"sum by name":                 `7`,
		"get_data":                    `["hello",5]`,
		"notify_hello with id":        `null`,
		"discover":                    `{"methods":["subtract","sum","get_data","update","notify_hello","notify_sum"],"openrpc":"1.3.2"}`,
		"subtract after notification": `0`,
	}
	for call, want := range wantResults {
		got, ok := r.Results[call]
		if !ok {
			t.Errorf("%s: no result; error %+v", call, r.Errors[call])
			continue
		}
		if b, _ := json.Marshal(got); string(b) != want {
			t.Errorf("%s: got %s, want %s", call, b, want)
		}
	}
	wantErrors := map[string]int{"missing method": -32601, "bad params": -32602}
	for call, code := range wantErrors {
		if e, ok := r.Errors[call]; !ok || e.Code != code {
			t.Errorf("%s: got error %+v (result %v), want code %d", call, e, r.Results[call], code)
		}
	}
	if len(r.Results)+len(r.Errors) != len(wantResults)+len(wantErrors) {
		t.Errorf("client made %d calls, want %d: %+v", len(r.Results)+len(r.Errors), len(wantResults)+len(wantErrors), r)
	}
}

// TestClientJSHTTP calls the server with @open-rpc/client-js over HTTP.
func TestClientJSHTTP(t *testing.T) {
	ts := newTestServer(t)
	checkClient(t, "http", ts.URL+"/")
}

// TestClientJSWebSocket calls the server with @open-rpc/client-js over a
// WebSocket on the same path.
func TestClientJSWebSocket(t *testing.T) {
	ts := newTestServer(t)
	checkClient(t, "ws", "ws"+strings.TrimPrefix(ts.URL, "http")+"/")
}

// TestCoverage runs @open-rpc/test-coverage against the server: every
// call it makes, from the documented examples and from params it invents
// from the schemas, must pass.
func TestCoverage(t *testing.T) {
	ts := newTestServer(t)
	f := filepath.Join(t.TempDir(), "openrpc.json")
	if err := os.WriteFile(f, get(t, ts.URL+"/openrpc.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	var calls []struct {
		Rule   string `json:"rule"`
		Method string `json:"method"`
		Params any    `json:"params"`
		Result any    `json:"result"`
		Error  any    `json:"error"`
		Valid  bool   `json:"valid"`
		Reason string `json:"reason"`
	}
	openrpctest.Run(t, &calls, "coverage.mjs", f, ts.URL+"/")
	examples := map[string]int{}
	for _, c := range calls {
		if !c.Valid {
			t.Errorf("%s %s(%v): %s (result %v, error %v)", c.Rule, c.Method, c.Params, c.Reason, c.Result, c.Error)
		}
		if c.Rule == "ExamplesRule" {
			examples[c.Method]++
		}
	}
	// Every method has examples, and test-coverage ran each.
	want := map[string]int{"subtract": 2, "sum": 1, "get_data": 1, "update": 1, "notify_hello": 1, "notify_sum": 1}
	for m, n := range want {
		if examples[m] != n {
			t.Errorf("test-coverage ran %d examples of %s, want %d", examples[m], m, n)
		}
	}
	t.Logf("test-coverage made %d calls", len(calls))
}
