package openrpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/rpc"
)

// tokenScheme admits "Bearer admin" with the scope admin and "Bearer
// user" with none; any other bearer token is invalid.
type tokenScheme struct{}

type scopes []string

func (s scopes) HasScope(x string) bool {
	for _, y := range s {
		if x == y {
			return true
		}
	}
	return false
}

func (tokenScheme) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	switch md.Get("Authorization") {
	case "":
		return nil, nil
	case "Bearer admin":
		return scopes{"admin"}, nil
	case "Bearer user":
		return scopes{}, nil
	}
	return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
}

func (tokenScheme) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "http", Scheme: "bearer", Scopes: map[string]string{"admin": "Everything."}}
}

func discover(ctx context.Context, t *testing.T, srv *rpc.Server) (*openrpc.Document, *rpc.Error) {
	t.Helper()
	res, err := srv.Call(ctx, openrpc.DiscoverMethod, nil)
	if err != nil {
		var rerr *rpc.Error
		if !errors.As(err, &rerr) {
			t.Fatalf("Call error %v is not an *rpc.Error", err)
		}
		return nil, rerr
	}
	var doc openrpc.Document
	if err := json.Unmarshal(res, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc, nil
}

func TestDiscoverFollowsTheRegistry(t *testing.T) {
	srv := rpc.NewServer()
	srv.MustRegister("a", func() int { return 1 })
	svc, err := openrpc.Register(srv)
	if err != nil {
		t.Fatal(err)
	}
	doc, rerr := discover(context.Background(), t, srv)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(doc.Methods) != 1 || doc.Methods[0].Name != "a" {
		t.Fatalf("methods %+v: want a alone, without rpc.discover", doc.Methods)
	}
	// Built once: the same document until the registry changes.
	d1, _ := svc.Document()
	d2, _ := svc.Document()
	if d1 != d2 {
		t.Error("the document was rebuilt without a registry change")
	}
	srv.MustRegister("b", func() int { return 2 })
	d3, _ := svc.Document()
	if d3 == d1 || len(d3.Methods) != 2 || d3.Methods[1].Name != "b" {
		t.Errorf("after registering b: %+v", d3.Methods)
	}
	if doc, _ := discover(context.Background(), t, srv); len(doc.Methods) != 2 {
		t.Errorf("rpc.discover after registering b lists %d methods", len(doc.Methods))
	}
	if _, err := openrpc.Register(srv); err == nil {
		t.Error("rpc.discover registered twice")
	}
	if _, err := openrpc.Register(rpc.NewServer(), openrpc.WithOpenRPCVersion("9")); err == nil {
		t.Error("a bad option was accepted")
	}
}

// TestDiscoverConcurrent calls rpc.discover while methods are registered;
// run it with -race. Every answer is a whole document of some registry.
func TestDiscoverConcurrent(t *testing.T) {
	srv := rpc.NewServer()
	svc, err := openrpc.Register(srv)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			for i := 0; i < 50; i++ {
				doc, rerr := discover(context.Background(), t, srv)
				if rerr != nil {
					t.Error(rerr)
					return
				}
				if len(doc.Methods) < last {
					t.Errorf("the document went back from %d to %d methods", last, len(doc.Methods))
				}
				last = len(doc.Methods)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		srv.MustRegister(fmt.Sprintf("m%d", i), func(x int) int { return x }, rpc.Params("x"))
	}
	wg.Wait()
	doc, _ := svc.Document()
	if len(doc.Methods) != 20 {
		t.Errorf("final document has %d methods, want 20", len(doc.Methods))
	}
}

func TestProtectedDiscover(t *testing.T) {
	srv := rpc.NewServer(rpc.WithScheme("bearer", tokenScheme{}))
	svc, err := openrpc.Register(srv, openrpc.WithRequirement(rpc.Require("bearer", "admin")))
	if err != nil {
		t.Fatal(err)
	}
	creds := func(token string) context.Context {
		return rpc.WithCredentials(context.Background(), srv.Authenticate(http.Header{"Authorization": {token}}))
	}
	if _, rerr := discover(context.Background(), t, srv); rerr == nil || rerr.Code != rpc.CodeUnauthorized {
		t.Errorf("rpc.discover without credentials: %v, want -32001", rerr)
	}
	if _, rerr := discover(creds("Bearer user"), t, srv); rerr == nil || rerr.Code != rpc.CodeForbidden {
		t.Errorf("rpc.discover without the scope: %v, want -32003", rerr)
	}
	if _, rerr := discover(creds("Bearer admin"), t, srv); rerr != nil {
		t.Errorf("rpc.discover with the scope: %v", rerr)
	}

	ts := httptest.NewServer(svc)
	defer ts.Close()
	for token, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer user": 403, "Bearer admin": 200} {
		req, _ := http.NewRequest("GET", ts.URL, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%d answer: %v", want, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET with %q: %d, want %d", token, resp.StatusCode, want)
		}
		if want == 200 && body["openrpc"] != "1.3.2" || want != 200 && body["error"] == nil {
			t.Errorf("GET with %q: body %v", token, body)
		}
	}
}

func TestHandler(t *testing.T) {
	srv := rpc.NewServer()
	srv.MustRegister("a", func() int { return 1 })
	svc, err := openrpc.Register(srv)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(svc)
	defer ts.Close()

	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	var doc openrpc.Document
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || etag == "" || doc.Methods[0].Name != "a" {
		t.Fatalf("GET: %s %v, document %+v", resp.Status, resp.Header, doc)
	}

	req, _ := http.NewRequest("GET", ts.URL, nil)
	req.Header.Set("If-None-Match", etag)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET with the ETag: %v %v, want 304", resp.Status, err)
	}
	srv.MustRegister("b", func() int { return 2 })
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Errorf("GET with the old ETag after a change: %v %v, want 200 and a new ETag", resp.Status, err)
	}

	resp, err = http.Post(ts.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
}
