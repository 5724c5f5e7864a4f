// Package golden reads and runs golden protocol files: lines starting "--> "
// are requests sent, a "<-- " line right after one is the response
// expected for it, and a request with no "<-- " line expects none (HTTP
// 204). Blank lines and lines starting "//" are comments. The format is
// go-ethereum's rpc testdata format; Warden's files live in rpc/testdata.
package golden

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Exchange is one step of a golden protocol file.
type Exchange struct {
	Line     int    // the request's line number
	Request  string // the request sent
	Response string // the response expected; empty when none is
}

// Read reads the golden protocol file at path.
func Read(tb testing.TB, path string) []Exchange {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: sc.Err reports a failed read
	var out []Exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--> "):
			out = append(out, Exchange{Line: n, Request: line[4:]})
		case strings.HasPrefix(line, "<-- "):
			if len(out) == 0 || out[len(out)-1].Response != "" {
				tb.Fatalf("%s:%d: response without a request", path, n)
			}
			out[len(out)-1].Response = line[4:]
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

// Files lists the golden files in dir that match pattern, such as "*.js".
func Files(tb testing.TB, dir, pattern string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden files %s in %s: %v", pattern, dir, err)
	}
	return files
}

// Run posts every request of every file to h, at path, and checks each
// response: 200 with application/json and the expected JSON, or 204 with
// no body when none is expected.
func Run(t *testing.T, h http.Handler, path string, files []string) {
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".js"), func(t *testing.T) {
			for _, ex := range Read(t, file) {
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(ex.Request))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				body := rec.Body.String()
				if ex.Response == "" {
					if rec.Code != http.StatusNoContent || body != "" {
						t.Errorf("%s:%d: got %d %q, want 204 and no body", file, ex.Line, rec.Code, body)
					}
					continue
				}
				if rec.Code != http.StatusOK {
					t.Errorf("%s:%d: got status %d, want 200; body %q", file, ex.Line, rec.Code, body)
					continue
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s:%d: Content-Type %q, want application/json", file, ex.Line, ct)
				}
				if !SameJSON(t, body, ex.Response) {
					t.Errorf("%s:%d: response differs\n got: <-- %s\nwant: <-- %s", file, ex.Line, body, ex.Response)
				}
			}
		})
	}
}

// SameJSON reports whether a and b are the same JSON value, as a client
// reading them would see it: object key order and white space do not
// matter, and numbers compare by their text. Where the wire text itself is
// the contract, it compares bytes: the id of a response object (an object
// with a "jsonrpc" member, alone or in a batch's array) must be the same
// bytes, so "\u0041" is not "A", because Warden echoes ids as sent. Text
// that is not valid UTF-8 is reported as invalid, since no answer may
// hold it.
func SameJSON(tb testing.TB, a, b string) bool {
	tb.Helper()
	va, err := decodeExact(a)
	if err != nil {
		tb.Errorf("invalid JSON %q: %v", a, err)
		return false
	}
	vb, err := decodeExact(b)
	if err != nil {
		tb.Errorf("invalid JSON %q: %v", b, err)
		return false
	}
	return reflect.DeepEqual(va, vb) && reflect.DeepEqual(responseIDs(a), responseIDs(b))
}

func decodeExact(s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(s))
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

// responseIDs returns the raw ids of the response objects in s, which is
// valid JSON: one for an object, one per object for an array. An object
// without "jsonrpc" has none; a missing id is nil.
func responseIDs(s string) [][]byte {
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		items = []json.RawMessage{json.RawMessage(s)}
	}
	var ids [][]byte
	for _, it := range items {
		var obj map[string]json.RawMessage
		if json.Unmarshal(it, &obj) != nil {
			continue
		}
		if _, ok := obj["jsonrpc"]; ok {
			ids = append(ids, obj["id"])
		}
	}
	return ids
}
