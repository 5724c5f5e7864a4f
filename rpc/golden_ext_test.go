package rpc_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/transport"
)

// exchange is one step of a golden protocol file: a request line and the
// response expected for it, if any.
type exchange struct {
	line     int
	request  string
	response string // empty when no response is expected (HTTP 204)
}

// readGolden reads a golden protocol file. Lines starting "--> " are
// requests; a "<-- " line right after one is its response; "//" lines and
// blank lines are comments.
func readGolden(tb testing.TB, path string) []exchange {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--> "):
			out = append(out, exchange{line: n, request: line[4:]})
		case strings.HasPrefix(line, "<-- "):
			if len(out) == 0 || out[len(out)-1].response != "" {
				tb.Fatalf("%s:%d: response without a request", path, n)
			}
			out[len(out)-1].response = line[4:]
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "//"):
		default:
			tb.Fatalf("%s:%d: unexpected line %q", path, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func goldenFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.js"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden files: %v", err)
	}
	return files
}

// TestGolden drives every golden protocol file in testdata through the HTTP
// handler serving the specification's methods.
func TestGolden(t *testing.T) {
	h := transport.NewHandler(newSpecServer(t))
	for _, path := range goldenFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".js"), func(t *testing.T) {
			for _, ex := range readGolden(t, path) {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(ex.request))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				body := rec.Body.String()
				if ex.response == "" {
					if rec.Code != http.StatusNoContent || body != "" {
						t.Errorf("%s:%d: got %d %q, want 204 and no body", path, ex.line, rec.Code, body)
					}
					continue
				}
				if rec.Code != http.StatusOK {
					t.Errorf("%s:%d: got status %d, want 200; body %q", path, ex.line, rec.Code, body)
					continue
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s:%d: Content-Type %q, want application/json", path, ex.line, ct)
				}
				if !sameJSON(t, body, ex.response) {
					t.Errorf("%s:%d: response differs\n got: <-- %s\nwant: <-- %s", path, ex.line, body, ex.response)
				}
			}
		})
	}
}

// sameJSON reports whether a and b are the same JSON value. Numbers compare
// by their text, so an id must come back exactly as sent; object key order
// does not matter.
func sameJSON(tb testing.TB, a, b string) bool {
	tb.Helper()
	va, err := decodeExact(a)
	if err != nil {
		tb.Errorf("invalid JSON %q: %v", a, err)
		return false
	}
	vb, err := decodeExact(b)
	if err != nil {
		tb.Errorf("invalid JSON in golden file %q: %v", b, err)
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func decodeExact(s string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, &json.SyntaxError{Offset: dec.InputOffset()}
	}
	return v, nil
}
