package openrpc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/internal/browsertest"
	"github.com/wardenrpc/warden/internal/openrpctest"
	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDocsHandlerServesAStrictPage checks the page and its two files: a
// Content-Security-Policy without inline code on every answer, no script
// or style in the HTML itself, files that resolve from "/docs" and from
// "/docs/", and nothing loaded from another origin.
func TestDocsHandlerServesAStrictPage(t *testing.T) {
	h := openrpc.DocsHandler("/api/v1")
	for _, tc := range []struct{ path, prefix string }{
		{"/docs", "docs/"},
		{"/docs/", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, h, tc.path)
			page := body(t, res)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("GET %s: %d %s", tc.path, res.StatusCode, res.Header.Get("Content-Type"))
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q allows unsafe code", csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("headers: %v", res.Header)
			}
			if !strings.Contains(page, `<meta name="warden-endpoint" content="/api/v1">`) {
				t.Errorf("the page does not name its endpoint:\n%s", page)
			}
			// Every script has a src, no element has a style or an on* handler.
			for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
				if !strings.Contains(m, `src="`) {
					t.Errorf("inline script: %s", m)
				}
			}
			if regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`).MatchString(page) {
				t.Error("the page has inline style or an inline event handler")
			}
			refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
			for _, r := range refs {
				if strings.Contains(r[1], "//") {
					t.Errorf("the page loads %q from elsewhere", r[1])
				}
			}
			for file, ct := range map[string]string{"docs.js": "text/javascript", "docs.css": "text/css"} {
				if !strings.Contains(page, `"`+tc.prefix+file+`"`) {
					t.Errorf("the page does not refer to %s as %q", file, tc.prefix+file)
				}
				res := get(t, h, "/docs/"+file)
				if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), ct) {
					t.Errorf("GET /docs/%s: %d %s", file, res.StatusCode, res.Header.Get("Content-Type"))
				}
				if res.Header.Get("Content-Security-Policy") == "" {
					t.Errorf("GET /docs/%s has no CSP", file)
				}
				etag := res.Header.Get("ETag")
				if res := get(t, h, "/docs/"+file, "If-None-Match", etag); etag == "" || res.StatusCode != http.StatusNotModified {
					t.Errorf("GET /docs/%s with its ETag %q: %d, want 304", file, etag, res.StatusCode)
				}
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/docs", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /docs: %d, want 405", rec.Code)
	}
}

// TestDocsHandlerEscapesTheEndpoint: the endpoint goes into the page as an
// attribute value, escaped.
func TestDocsHandlerEscapesTheEndpoint(t *testing.T) {
	page := body(t, get(t, openrpc.DocsHandler(`/a"><script>x</script>`), "/docs"))
	if strings.Contains(page, "<script>x") {
		t.Errorf("the endpoint was not escaped:\n%s", page)
	}
}

// TestDocsHandlerRefusesOtherOrigins: the endpoint is a path on the page's
// origin, so that credentials cannot be sent anywhere else.
func TestDocsHandlerRefusesOtherOrigins(t *testing.T) {
	for _, endpoint := range []string{"https://example.com/api", "//example.com/api", "api", "", `/\example.com`, "/api?x=1"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("DocsHandler(%q) did not panic", endpoint)
				}
			}()
			openrpc.DocsHandler(endpoint)
		}()
	}
}

// TestDocsScriptKeepsItsRules reads the page's script for the calls that
// would break its rules: HTML from strings, long-lived storage, eval,
// logging.
func TestDocsScriptKeepsItsRules(t *testing.T) {
	js := body(t, get(t, openrpc.DocsHandler("/"), "/docs/docs.js"))
	code := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(js, "") // comments may name what the code avoids
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "localStorage", "eval(", "new Function", "console."} {
		if strings.Contains(code, bad) {
			t.Errorf("docs.js uses %s", bad)
		}
	}
	if !strings.Contains(code, "sessionStorage") {
		t.Error("docs.js does not use sessionStorage: the test above may read the wrong file")
	}
}

// TestDocsSignInExtension: WithSignIn marks the method with x-sign-in,
// declared in x-extensions so that schema-utils-js checks it, and refuses
// a method or a scheme that does not exist.
func TestDocsSignInExtension(t *testing.T) {
	srv := rpc.NewServer(rpc.WithScheme("bearer", tokenScheme{}))
	srv.MustRegister("sign_in", func(struct {
		Username string `json:"username"`
	}) (map[string]string, error) {
		return nil, nil
	})
	srv.MustRegister("me", func() string { return "" }, rpc.Security(rpc.Require("bearer")))

	doc, err := openrpc.Build(srv, openrpc.WithSignIn("sign_in", "bearer"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range doc.Methods {
		switch {
		case m.Name == "sign_in" && (m.SignIn == nil || m.SignIn.Scheme != "bearer"):
			t.Errorf("sign_in: x-sign-in %+v", m.SignIn)
		case m.Name != "sign_in" && m.SignIn != nil:
			t.Errorf("%s carries x-sign-in", m.Name)
		}
	}
	if !slices.ContainsFunc(doc.Extensions, func(e openrpc.Extension) bool {
		return e.Name == openrpc.ExtSignIn && slices.Equal(e.Restricted, []string{"methodObject"})
	}) {
		t.Errorf("x-sign-in is not declared: %+v", doc.Extensions)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"x-sign-in":{"scheme":"bearer"}`) {
		t.Errorf("the document does not carry x-sign-in: %s", raw)
	}
	if v := openrpctest.Validate(t, raw, false); !v.Valid {
		t.Errorf("validateOpenRPCDocument: %s", v.Errors)
	}
	bad := strings.Replace(string(raw), `"x-sign-in":{"scheme":"bearer"}`, `"x-sign-in":{"scheme":7}`, 1)
	if v := openrpctest.Validate(t, []byte(bad), false); v.Valid {
		t.Error("validateOpenRPCDocument accepted a malformed x-sign-in")
	}

	for _, opt := range []openrpc.Option{openrpc.WithSignIn("log_in", "bearer"), openrpc.WithSignIn("sign_in", "apikey")} {
		if _, err := openrpc.Build(srv, opt); err == nil {
			t.Error("Build accepted WithSignIn of a method or scheme that does not exist")
		}
	}
}

// secretScheme admits one bearer token.
type secretScheme struct{ token string }

func (s secretScheme) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	switch md.Get("Authorization") {
	case "":
		return nil, nil
	case "Bearer " + s.token:
		return scopes{}, nil
	}
	return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
}

func (secretScheme) Info() rpc.SchemeInfo { return rpc.SchemeInfo{Type: "http", Scheme: "bearer"} }

// TestDocsBrowserProtectedAndEscaped opens the page in Chromium on a
// server whose document is protected: the page says so and asks for
// authorization, then lists the methods; a string of HTML that a method
// returns is shown as text; and the token goes to this origin only.
func TestDocsBrowserProtectedAndEscaped(t *testing.T) {
	browsertest.Require(t)
	const token = "docs-test-token-5f0c2a9e41"
	srv := rpc.NewServer(rpc.WithScheme("bearer", secretScheme{token}))
	srv.MustRegister("echo", func(p struct {
		Text string `json:"text"`
	}) string {
		return p.Text
	}, rpc.Summary("Returns its text."), rpc.Security(rpc.Require("bearer")))
	if _, err := openrpc.Register(srv, openrpc.WithRequirement(rpc.Require("bearer"))); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/rpc", transport.NewHandler(srv))
	page := openrpc.DocsHandler("/rpc")
	mux.Handle("GET /docs", page)
	mux.Handle("GET /docs/", page)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	const probe = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`
	var seen struct {
		Steps         []string
		Error         string
		Notice        string
		MethodsBefore int
		NoticeAfter   string
		Methods       []string
		Echo          struct{ Head, Response string }
		RawFromForm   string
		FormHidden    bool
		EchoJSON      struct{ Head, Response string }
		XSS           struct {
			Flag          *string
			Imgs, Scripts int
		}
		Origins        []string
		TokenCarriedBy []struct {
			URL   string
			InURL bool
		}
		PageErrors []string
		Dialogs    []string
	}
	browsertest.Run(t, &seen, "protected.mjs", ts.URL+"/docs", browsertest.ScreenshotDir(t, "docs-protected"), token, probe)
	if seen.Error != "" {
		t.Fatalf("the scenario stopped after %v: %s", seen.Steps, seen.Error)
	}
	if !strings.Contains(seen.Notice, "protected") || !strings.Contains(seen.Notice, "authorize") || seen.MethodsBefore != 0 {
		t.Errorf("before authorizing: notice %q, %d methods listed", seen.Notice, seen.MethodsBefore)
	}
	if seen.NoticeAfter != "" || !slices.Equal(seen.Methods, []string{"echo"}) {
		t.Errorf("after authorizing: notice %q, methods %v", seen.NoticeAfter, seen.Methods)
	}
	want := `"result": "` + strings.ReplaceAll(probe, `"`, `\"`) + `"` // as JSON, pretty-printed
	if !strings.Contains(seen.Echo.Head, "HTTP 200") || !strings.Contains(seen.Echo.Response, want) {
		t.Errorf("echo: %q\n%s\nwant the probe %s as text", seen.Echo.Head, seen.Echo.Response, want)
	}
	if seen.XSS.Flag != nil || seen.XSS.Imgs != 0 || seen.XSS.Scripts != 1 {
		t.Errorf("the probe became HTML: flag %v, %d images, %d scripts (want only the page's own)", seen.XSS.Flag, seen.XSS.Imgs, seen.XSS.Scripts)
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(seen.RawFromForm), &raw); err != nil || raw["text"] != probe || !seen.FormHidden {
		t.Errorf("the JSON editor shows %q (form hidden: %v), want the form's params", seen.RawFromForm, seen.FormHidden)
	}
	if !strings.Contains(seen.EchoJSON.Response, `"result": "from the JSON editor"`) {
		t.Errorf("echo from the JSON editor: %q\n%s", seen.EchoJSON.Head, seen.EchoJSON.Response)
	}
	if !slices.Equal(seen.Origins, []string{ts.URL}) {
		t.Errorf("requests went to %v, want %s only", seen.Origins, ts.URL)
	}
	if len(seen.TokenCarriedBy) == 0 {
		t.Error("no request carried the token: the test cannot see where it went")
	}
	for _, r := range seen.TokenCarriedBy {
		if r.URL != ts.URL+"/rpc" || r.InURL {
			t.Errorf("the token went to %s (in the URL: %v)", r.URL, r.InURL)
		}
	}
	if len(seen.PageErrors) > 0 || len(seen.Dialogs) > 0 {
		t.Errorf("page errors %v, dialogs %v", seen.PageErrors, seen.Dialogs)
	}
}
