package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/wardenrpc/warden/rpc"
)

// DefaultMaxBodyBytes is the default limit on an HTTP request body and a
// WebSocket message: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Handler serves an [rpc.Server] over HTTP POST. Create one with
// [NewHandler] and mount it on a path.
type Handler struct {
	srv  *rpc.Server
	cfg  config
	bufs sync.Pool
}

type config struct {
	maxBody int64
}

// Option configures a [Handler].
type Option func(*config)

// WithMaxBodyBytes sets the largest request body (default 1 MiB). A longer
// body is answered 413 without being read to its end.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// NewHandler returns a Handler serving srv.
func NewHandler(srv *rpc.Server, opts ...Option) *Handler {
	h := &Handler{srv: srv, cfg: config{maxBody: DefaultMaxBodyBytes}}
	for _, o := range opts {
		o(&h.cfg)
	}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	return h
}

// ServeHTTP answers one HTTP request. See the package documentation for
// the status codes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		httpError(w, http.StatusUnsupportedMediaType, "unsupported content type: use application/json")
		return
	}
	if r.ContentLength > h.cfg.maxBody {
		httpError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	defer h.putBuf(buf)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		httpError(w, http.StatusBadRequest, "could not read request body")
		return
	}
	ctx := h.authenticate(r.Context(), r.Header)
	resp := h.srv.Handle(ctx, buf.Bytes())
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	hdr["Content-Length"] = []string{strconv.Itoa(len(resp))}
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
}

var jsonContentType = []string{"application/json"}

func (h *Handler) putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		h.bufs.Put(b)
	}
}

// authenticate attaches the outcome of the server's schemes to ctx.
func (h *Handler) authenticate(ctx context.Context, md rpc.Metadata) context.Context {
	if !h.srv.HasSchemes() {
		return ctx
	}
	return rpc.WithCredentials(ctx, h.srv.Authenticate(ctx, md))
}

func isJSON(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func httpError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}
