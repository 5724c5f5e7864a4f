package openrpc

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"
)

// The page's files, built into the binary: no CDN, nothing fetched at run
// time.
//
//go:embed docs/index.html docs/docs.js docs/docs.css
var docsFiles embed.FS

// docsCSP is the page's Content-Security-Policy: its own script and style
// files only (no inline code), requests to its own origin only (the
// endpoint, HTTP and WebSocket alike), no frames, no forms posted away.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsAsset is one embedded file, with its validator.
type docsAsset struct {
	body        []byte
	contentType string
	etag        string
}

// docsPage serves the page. It is immutable once built.
type docsPage struct {
	endpoint string
	index    *template.Template
	assets   map[string]docsAsset // by file name
}

// DocsHandler returns an [http.Handler] that serves an interactive
// reference page for the server whose JSON-RPC endpoint is at endpoint, a
// path on the same origin ("/api/v1", or "/" for a server at the root).
// The page reads the document with rpc.discover at the endpoint, lists
// every method with its params, result, errors, examples and security
// requirement, and lets a person call methods over HTTP POST or over a
// WebSocket on the same path, after authorizing with a bearer token or an
// API key, or by signing in with the method marked by [WithSignIn].
//
// Mount it on a path and on the subtree below it, where its script and
// style sheet live:
//
//	page := openrpc.DocsHandler("/api/v1")
//	mux.Handle("GET /docs", page)
//	mux.Handle("GET /docs/", page)
//
// The page is three files embedded in the binary. Every answer carries a
// strict Content-Security-Policy: no inline script or style, requests to
// the page's own origin only. The page sends credentials only to the
// endpoint, in headers (or in rpc.authenticate over a WebSocket), never in
// URLs; keeps them in memory, or in sessionStorage when the person asks,
// never in localStorage; and shows everything the server sends as text,
// never as HTML. When rpc.discover is protected ([WithRequirement]), the
// page says so and asks for authorization before it lists the methods.
//
// DocsHandler panics when endpoint is not an absolute path on this origin
// ("/..." but not "//..."): that is a programmer error.
func DocsHandler(endpoint string) http.Handler {
	if !strings.HasPrefix(endpoint, "/") || strings.HasPrefix(endpoint, "//") || strings.ContainsAny(endpoint, "\\?#") {
		panic(fmt.Sprintf("openrpc: DocsHandler: endpoint %q is not an absolute path on the page's origin", endpoint))
	}
	p := &docsPage{endpoint: endpoint, assets: map[string]docsAsset{}}
	p.index = template.Must(template.ParseFS(docsFiles, "docs/index.html"))
	for name, ct := range map[string]string{
		"docs.js":  "text/javascript; charset=utf-8",
		"docs.css": "text/css; charset=utf-8",
	} {
		b, err := docsFiles.ReadFile("docs/" + name)
		if err != nil {
			panic("openrpc: DocsHandler: " + err.Error()) // embedded above: cannot happen
		}
		sum := sha256.Sum256(b)
		p.assets[name] = docsAsset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	return p
}

// ServeHTTP serves docs.js and docs.css by their names, and the page for
// any other path. The page refers to its files relative to the request's
// path, so that it works under any mount point and under
// [http.StripPrefix].
func (p *docsPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-cache")
	if a, ok := p.assets[path.Base(r.URL.Path)]; ok {
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
		return
	}
	// From "/docs" the files are "docs/docs.js"; from "/docs/", "docs.js".
	assets := ""
	if !strings.HasSuffix(r.URL.Path, "/") && r.URL.Path != "" {
		assets = path.Base(r.URL.Path) + "/"
	}
	var buf bytes.Buffer
	if err := p.index.Execute(&buf, struct{ Endpoint, Assets string }{p.endpoint, assets}); err != nil {
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}
