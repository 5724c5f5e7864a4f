package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// httpTokenScheme accepts "Bearer good" and refuses "Bearer expired".
type httpTokenScheme struct{}

type httpCred struct{}

func (httpCred) HasScope(string) bool { return true }

func (httpTokenScheme) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	switch md.Get("Authorization") {
	case "Bearer good":
		return httpCred{}, nil
	case "Bearer expired":
		return nil, &rpc.AuthError{Reason: rpc.ReasonExpired}
	}
	return nil, nil
}

func (httpTokenScheme) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "http", Scheme: "bearer"}
}

type httpCtxKey struct{}

func newHTTPServer(t *testing.T) *rpc.Server {
	t.Helper()
	s := rpc.NewServer(rpc.WithScheme("bearer", httpTokenScheme{}))
	s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
	s.MustRegister("notify", func() error { return nil })
	s.MustRegister("ctxvalue", func(ctx context.Context) string { v, _ := ctx.Value(httpCtxKey{}).(string); return v })
	s.MustRegister("secret", func() string { return "s3cret" }, rpc.Security(rpc.Require("bearer")))
	return s
}

// post sends body to h with the given Content-Type.
func post(h http.Handler, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const subtractCall = `{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}`

func TestHTTPMethodNotAllowed(t *testing.T) {
	h := transport.NewHandler(newHTTPServer(t))
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions} {
		req := httptest.NewRequest(m, "/rpc", strings.NewReader(subtractCall))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, rec.Code)
		}
		if allow := rec.Header().Get("Allow"); allow != http.MethodPost {
			t.Errorf("%s: Allow %q, want POST", m, allow)
		}
	}
}

func TestHTTPContentType(t *testing.T) {
	h := transport.NewHandler(newHTTPServer(t))
	tests := []struct {
		contentType string
		status      int
	}{
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"application/json;charset=UTF-8", http.StatusOK},
		{"Application/JSON", http.StatusOK},
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/jsonp", http.StatusUnsupportedMediaType},
		{"application/json-seq", http.StatusUnsupportedMediaType},
		{"application/json; charset", http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		rec := post(h, tt.contentType, subtractCall)
		if rec.Code != tt.status {
			t.Errorf("Content-Type %q: status %d, want %d", tt.contentType, rec.Code, tt.status)
		}
	}
}

func TestHTTPResponse(t *testing.T) {
	h := transport.NewHandler(newHTTPServer(t))
	rec := post(h, "application/json", subtractCall)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Body.String(); got != `{"jsonrpc":"2.0","result":19,"id":1}` {
		t.Errorf("body %s", got)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := rec.Header().Get("Content-Length"); cl != "36" {
		t.Errorf("Content-Length %q, want 36", cl)
	}

	// JSON-RPC errors travel inside a 200.
	for _, body := range []string{`{"jsonrpc":"2.0","method":"subtract"`, `[]`, `{"jsonrpc":"2.0","method":"nope","id":1}`, ``} {
		rec := post(h, "application/json", body)
		var r struct {
			Error *struct{ Code int } `json:"error"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &r) != nil || r.Error == nil {
			t.Errorf("body %q: got %d %s, want 200 with an error", body, rec.Code, rec.Body)
		}
	}
}

func TestHTTPNotifications(t *testing.T) {
	h := transport.NewHandler(newHTTPServer(t))
	for _, body := range []string{
		`{"jsonrpc":"2.0","method":"notify"}`,
		`{"jsonrpc":"2.0","method":"nope"}`,
		`[{"jsonrpc":"2.0","method":"notify"},{"jsonrpc":"2.0","method":"subtract","params":[1,2]}]`,
	} {
		rec := post(h, "application/json", body)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Errorf("%s: got %d %q, want 204 and no body", body, rec.Code, rec.Body)
		}
	}
	rec := post(h, "application/json", `[{"jsonrpc":"2.0","method":"notify"},`+subtractCall+`]`)
	if rec.Code != http.StatusOK || rec.Body.String() != `[{"jsonrpc":"2.0","result":19,"id":1}]` {
		t.Errorf("mixed batch: got %d %s", rec.Code, rec.Body)
	}
}

// countingReader yields n bytes of a long JSON string, or endless ones when
// n < 0, and counts what was read.
type countingReader struct {
	n, read int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n >= 0 && r.read >= r.n {
		return 0, io.EOF
	}
	k := len(p)
	if r.n >= 0 && k > r.n-r.read {
		k = r.n - r.read
	}
	for i := range p[:k] {
		p[i] = ' '
	}
	r.read += k
	return k, nil
}

func TestHTTPBodyLimit(t *testing.T) {
	const limit = 1000
	h := transport.NewHandler(newHTTPServer(t), transport.WithMaxBodyBytes(limit))

	// A declared length over the limit is refused before reading.
	body := &countingReader{n: limit + 1}
	req := httptest.NewRequest(http.MethodPost, "/rpc", body)
	req.ContentLength = limit + 1
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("Content-Length over the limit: status %d, want 413", rec.Code)
	}
	if body.read != 0 {
		t.Errorf("Content-Length over the limit: read %d bytes, want none", body.read)
	}

	// A chunked body (no length) is cut off just past the limit.
	endless := &countingReader{n: -1}
	req = httptest.NewRequest(http.MethodPost, "/rpc", endless)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("endless chunked body: status %d, want 413", rec.Code)
	}
	if endless.read > limit+1 {
		t.Errorf("endless chunked body: read %d bytes, want at most %d", endless.read, limit+1)
	}
	if n := h.Stats().Limits.BodyTooLarge; n != 2 {
		t.Errorf("Stats().Limits.BodyTooLarge = %d after two bodies over the limit, want 2", n)
	}

	// A body of exactly the limit is served.
	padded := subtractCall + strings.Repeat(" ", limit-len(subtractCall))
	req = httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(padded))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("body at the limit: status %d, want 200", rec.Code)
	}
}

// Over a real connection, a chunked body over the default limit is 413.
func TestHTTPChunkedBodyOverDefaultLimit(t *testing.T) {
	srv := httptest.NewServer(transport.NewHandler(newHTTPServer(t)))
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for range (transport.DefaultMaxBodyBytes / len(chunk)) + 2 {
			if _, err := pw.Write(chunk); err != nil {
				return // the server stopped reading
			}
		}
		pw.Close()
	}()
	defer pr.Close()
	// A body of unknown length goes out chunked.
	req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestHTTPRequestContextReachesHandlers(t *testing.T) {
	h := transport.NewHandler(newHTTPServer(t))
	req := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(`{"jsonrpc":"2.0","method":"ctxvalue","id":1}`))
	req = req.WithContext(context.WithValue(req.Context(), httpCtxKey{}, "from the request"))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Body.String(); got != `{"jsonrpc":"2.0","result":"from the request","id":1}` {
		t.Errorf("body %s", got)
	}
}

func TestHTTPAuthorization(t *testing.T) {
	h := transport.NewHandler(newHTTPServer(t))
	tests := []struct {
		auth, want string
	}{
		{"", `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{"reason":"missing"}},"id":1}`},
		{"Bearer expired", `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{"reason":"expired"}},"id":1}`},
		{"Bearer good", `{"jsonrpc":"2.0","result":"s3cret","id":1}`},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(`{"jsonrpc":"2.0","method":"secret","id":1}`))
		req.Header.Set("Content-Type", "application/json")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
			t.Errorf("Authorization %q: got %d %s, want 200 %s", tt.auth, rec.Code, rec.Body, tt.want)
		}
	}
}

// LimitHits.All names each count once, with its own value.
func TestLimitHitsAll(t *testing.T) {
	l := transport.LimitHits{BodyTooLarge: 1, ConnectionsRefused: 2, MessageTooLarge: 3, MessageTimeout: 4,
		PartialBudget: 5, InvalidUTF8: 6, PongTimeout: 7, WriteTimeout: 8, AnswersReplaced: 9}
	var got []string
	for name, n := range l.All() {
		got = append(got, fmt.Sprintf("%s=%d", name, n))
	}
	want := "body_bytes=1 connections=2 message_bytes=3 message_timeout=4 partial_budget=5 " +
		"invalid_utf8=6 pong_timeout=7 write_timeout=8 connection_budget=9"
	if strings.Join(got, " ") != want {
		t.Errorf("All() = %v\nwant %s", got, want)
	}
	for range l.All() {
		break // stopping early must not panic
	}
}
