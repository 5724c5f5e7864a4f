package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/internal/browsertest"
	"github.com/wardenrpc/warden/openrpc"
)

// docsSeen is what internal/browsertest/authdocs.mjs saw on the page.
type docsSeen struct {
	Steps   []string
	Error   string
	Title   string
	Version string
	Methods []struct {
		Name, Heading string
		Badges        []string
	}
	FilteredByName, FilteredByTag []string
	SignUpPrefill                 string
	SignUp                        docsOutput
	SignInHint, SignIn            string
	AuthStatusAfterSignIn         string
	TokenLooksLikeJWT             bool
	AuthStatusAfterClear          string
	AuthStatus                    string
	RequireHTTP, RequireWS        docsOutput
	WSStatus                      string
	ListUsers                     docsOutput
	Curl                          string
	Probe                         docsOutput
	XSS                           struct {
		Flag *string
		Imgs int
	}
	SignOut, Revoked  docsOutput
	AuthStatusRevoked string
	ReauthOpensDialog bool
	DarkBackground    string
	LightBackground   string
	Origins           []string
	TokenCarriedBy    []struct {
		URL   string
		InURL bool
	}
	TokenInFrames     []string
	LocalStorage      string
	ConsoleHoldsToken bool
	PageErrors        []string
	Dialogs           []string
}

// docsOutput is a method's output panel, as text.
type docsOutput struct {
	Head, Request, Headers, Response, Reauth string
	Elements                                 []string
}

// TestDocsBrowser opens GET /docs of the running server in Chromium and
// does what a person would: reads the list of methods and their security
// badges, signs up and signs in through the page, authorizes with a
// pasted token, calls require_token over HTTP and over a WebSocket and
// list_users without admin, signs up a username that is HTML, signs out
// and sees the next call refused as revoked. It then checks where the
// token went. Screenshots are kept in a temporary directory that the log
// names.
func TestDocsBrowser(t *testing.T) {
	browsertest.Require(t)
	s := start(t, "")
	base := "http://" + s.addr

	res, err := http.Get(base + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close() // read nothing: only the status matters
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /docs: %s; the server must mount openrpc.DocsHandler", res.Status)
	}
	doc := fetchDocument(t, base)

	const user, password = "docs_reader", "correct-horse-battery"
	// PRECIS allows ASCII punctuation in usernames, so this one is also HTML.
	const probe = "<img/src=x/onerror=window.__xss=1>"
	var seen docsSeen
	browsertest.Run(t, &seen, "authdocs.mjs", base, browsertest.ScreenshotDir(t, "docs-auth"), user, password, probe)
	if seen.Error != "" {
		t.Fatalf("the scenario stopped after %v: %s\nserver log:\n%s", seen.Steps, seen.Error, s.logText())
	}

	// 1. Every method of the document, its name a heading, with its badge.
	if seen.Title != doc.Info.Title || seen.Version != doc.Info.Version {
		t.Errorf("title %q version %q, want %q %q", seen.Title, seen.Version, doc.Info.Title, doc.Info.Version)
	}
	if len(seen.Methods) != len(doc.Methods) {
		t.Errorf("the page lists %d methods, the document %d", len(seen.Methods), len(doc.Methods))
	}
	for i, m := range doc.Methods {
		if i >= len(seen.Methods) {
			break
		}
		got := seen.Methods[i]
		want := []string{"public"}
		if len(m.Security) > 0 {
			want = []string{"bearer"}
			if scopes := m.Security[0]["bearer"]; len(scopes) > 0 {
				want = []string{"bearer: " + strings.Join(scopes, " ")}
			}
		}
		if m.SignIn != nil {
			want = append(want, "sign-in")
		}
		if got.Name != m.Name || got.Heading != m.Name || !slices.Equal(got.Badges, want) {
			t.Errorf("method %d: %s (heading %q) with badges %q, want %s with %q", i, got.Name, got.Heading, got.Badges, m.Name, want)
		}
	}
	if !slices.Equal(seen.FilteredByName, []string{"list_users", "delete_user"}) || !slices.Equal(seen.FilteredByTag, []string{"rpc.authenticate"}) {
		t.Errorf(`filtering by "user" shows %v, by the tag "security" %v`, seen.FilteredByName, seen.FilteredByTag)
	}

	// 2. Sign up and sign in through the page.
	if seen.SignUpPrefill != "email@test.com" {
		t.Errorf("sign_up's form is not filled with its example: username %q", seen.SignUpPrefill)
	}
	if !strings.HasPrefix(seen.SignUp.Head, "HTTP 200") || !strings.Contains(seen.SignUp.Response, `"username": "`+user+`"`) {
		t.Errorf("sign_up: %q\n%s", seen.SignUp.Head, seen.SignUp.Response)
	}
	if !strings.HasPrefix(seen.SignIn, "Signed in") || !seen.TokenLooksLikeJWT || seen.AuthStatusAfterSignIn != "Authorized: bearer" {
		t.Errorf("sign-in: %q, a JWT: %v, status %q", seen.SignIn, seen.TokenLooksLikeJWT, seen.AuthStatusAfterSignIn)
	}
	if !strings.Contains(seen.SignInHint, "sign_in") {
		t.Errorf("the dialog does not say which method signs in: %q", seen.SignInHint)
	}

	// 3. Authorize with a pasted token.
	if seen.AuthStatusAfterClear != "Not authorized" || seen.AuthStatus != "Authorized: bearer" {
		t.Errorf("status after signing out %q, after authorizing %q", seen.AuthStatusAfterClear, seen.AuthStatus)
	}

	// 4. require_token over HTTP and over a WebSocket.
	for name, out := range map[string]docsOutput{"HTTP": seen.RequireHTTP, "WebSocket": seen.RequireWS} {
		if !strings.HasPrefix(out.Head, map[string]string{"HTTP": "HTTP 200", "WebSocket": "WebSocket"}[name]) ||
			!strings.Contains(out.Response, `"username": "`+user+`"`) {
			t.Errorf("require_token over %s: %q\n%s", name, out.Head, out.Response)
		}
	}
	if !strings.Contains(seen.RequireHTTP.Headers, "Authorization: Bearer …") {
		t.Errorf("the request's headers as shown: %q", seen.RequireHTTP.Headers)
	}
	if !strings.Contains(seen.WSStatus, "signed in (bearer)") {
		t.Errorf("WebSocket status %q", seen.WSStatus)
	}

	// 5. list_users without admin.
	if !strings.Contains(seen.ListUsers.Head, "-32003") || !strings.Contains(seen.ListUsers.Response, `"code": -32003`) {
		t.Errorf("list_users: %q\n%s", seen.ListUsers.Head, seen.ListUsers.Response)
	}
	if !strings.Contains(seen.Curl, "'"+s.url("http")+"'") || !strings.Contains(seen.Curl, "Authorization: Bearer $TOKEN") || strings.Contains(seen.Curl, "eyJ") {
		t.Errorf("curl command:\n%s", seen.Curl)
	}

	// 6. The probe comes back from sign_up as text.
	if !strings.Contains(seen.Probe.Response, `"username": "`+probe+`"`) {
		t.Errorf("sign_up of the probe: %q\n%s", seen.Probe.Head, seen.Probe.Response)
	}
	if seen.XSS.Flag != nil || seen.XSS.Imgs != 0 || slices.Contains(seen.Probe.Elements, "img") {
		t.Errorf("the probe became HTML: flag %v, %d images, output elements %v", seen.XSS.Flag, seen.XSS.Imgs, seen.Probe.Elements)
	}

	// A revoked token shows as such, with a way to sign in again.
	if !strings.HasPrefix(seen.SignOut.Head, "HTTP 200") || !strings.Contains(seen.Revoked.Head, "-32001") || !strings.Contains(seen.Revoked.Head, "(revoked)") ||
		!strings.Contains(seen.Revoked.Reauth, "Sign in again") || !seen.ReauthOpensDialog || !strings.Contains(seen.AuthStatusRevoked, "revoked") {
		t.Errorf("after sign_out (%q): %q, %q, status %q, dialog opened %v", seen.SignOut.Head, seen.Revoked.Head, seen.Revoked.Reauth, seen.AuthStatusRevoked, seen.ReauthOpensDialog)
	}
	if seen.DarkBackground == seen.LightBackground {
		t.Errorf("the page looks the same in a dark system theme: %s", seen.DarkBackground)
	}

	// 7. Where the token went: to this origin only, in headers and in
	// rpc.authenticate, never in a URL, a log or localStorage.
	if !slices.Equal(seen.Origins, []string{base}) {
		t.Errorf("requests went to %v, want %s only", seen.Origins, base)
	}
	if len(seen.TokenCarriedBy) == 0 {
		t.Error("no request carried the token: the test cannot see where it went")
	}
	for _, r := range seen.TokenCarriedBy {
		if r.URL != s.url("http") || r.InURL {
			t.Errorf("the token went to %s (in the URL: %v)", r.URL, r.InURL)
		}
	}
	if !slices.Equal(seen.TokenInFrames, []string{"rpc.authenticate"}) {
		t.Errorf("WebSocket messages with the token: %v, want one rpc.authenticate", seen.TokenInFrames)
	}
	if seen.LocalStorage != "{}" || seen.ConsoleHoldsToken {
		t.Errorf("localStorage %s, token in the console: %v", seen.LocalStorage, seen.ConsoleHoldsToken)
	}
	if len(seen.PageErrors) > 0 || len(seen.Dialogs) > 0 {
		t.Errorf("page errors %v, dialogs %v", seen.PageErrors, seen.Dialogs)
	}
	s.checkLog(password)
}

// fetchDocument reads GET /openrpc.json.
func fetchDocument(t *testing.T, base string) *openrpc.Document {
	t.Helper()
	res, err := http.Get(base + "/openrpc.json")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }() // a read body: nothing to report
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc openrpc.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("GET /openrpc.json: %v\n%s", err, b)
	}
	return &doc
}
