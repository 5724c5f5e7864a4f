package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wardenrpc/warden/rpc"
)

// DefaultMaxBodyBytes is the default limit on an HTTP request body and a
// WebSocket message: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Handler serves an [rpc.Server] over HTTP POST and WebSocket, on the one
// path it is mounted on. Create one with [NewHandler].
type Handler struct {
	srv      *rpc.Server
	cfg      config
	bufs     sync.Pool
	upgrader websocket.Upgrader

	active  atomic.Int64 // open WebSocket connections
	partial atomic.Int64 // bytes of unfinished inbound messages, charged to cfg.partialBudget
	closing atomic.Bool
	connMu  sync.Mutex
	conns   map[*wsConn]struct{}
	connWG  sync.WaitGroup

	afterTrack func() // a test hook: runs once a connection is visible to Shutdown
}

type config struct {
	maxBody      int64
	maxMessage   int64
	origins      []string
	maxConns     int
	concurrency  int
	pingInterval time.Duration
	pongWait     time.Duration
	writeTimeout time.Duration

	connBudget     int64
	partialBudget  int64
	messageTimeout time.Duration
}

// Option configures a [Handler].
type Option func(*config)

// WithMaxBodyBytes sets the largest request body (default 1 MiB). A longer
// body is answered 413 without being read to its end.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithMaxMessageBytes sets the largest WebSocket message (default 1 MiB).
// A longer one closes the connection with 1009.
func WithMaxMessageBytes(n int64) Option { return func(c *config) { c.maxMessage = n } }

// WithAllowedOrigins allows WebSocket handshakes from these origins, given
// as "https://app.example.com" or "app.example.com", besides those that
// match the request's host. A handshake without an Origin header, which
// browsers always send, is allowed.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) { c.origins = append(c.origins, origins...) }
}

// WithMaxConnections caps open WebSocket connections (default 10000); a
// handshake past the cap is answered 503.
func WithMaxConnections(n int) Option { return func(c *config) { c.maxConns = n } }

// WithConnectionConcurrency caps the calls running at once on one
// WebSocket connection (default 16). At the cap, reading pauses.
func WithConnectionConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithPing sets how often a WebSocket connection is pinged (default 30 s)
// and how long it may go without a pong before it is closed (default 60 s).
func WithPing(interval, pongWait time.Duration) Option {
	return func(c *config) { c.pingInterval, c.pongWait = interval, pongWait }
}

// WithWriteTimeout sets the deadline for one WebSocket write (default 10 s).
// A client that does not read in time is disconnected.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithConnectionBudget sets the most bytes one WebSocket connection may
// make the server hold, counting the messages whose calls run and the
// answers not yet written (default 2 MiB). While a connection holds that
// much, the server reads nothing more from it; a client that does not read
// its answers is then disconnected by the write timeout. An answer that
// would take the connection past its budget while other answers wait to be
// written is replaced by -32005 (Limit exceeded) under the same id, with
// data.retry_after_ms; an answer larger than the whole budget still goes
// out when none waits before it. Zero or less removes the budget.
func WithConnectionBudget(n int64) Option { return func(c *config) { c.connBudget = n } }

// WithPartialBudget sets the most bytes that unfinished inbound WebSocket
// messages may hold across all connections (default 64 MiB). The first
// 4 KiB of each message are not counted, so small messages always get
// through. A connection whose message would take the total past the
// budget is closed with 1013 (try again later). Zero or less removes the
// budget.
func WithPartialBudget(n int64) Option { return func(c *config) { c.partialBudget = n } }

// WithMessageTimeout sets how long a WebSocket message larger than 4 KiB
// may take to arrive once it has begun (default 30 s); a smaller one that
// is still incomplete when a pong arrives has as long from then. A message
// that takes longer closes the connection with 1008. Zero or less removes
// the timeout.
func WithMessageTimeout(d time.Duration) Option { return func(c *config) { c.messageTimeout = d } }

// NewHandler returns a Handler serving srv over HTTP POST and WebSocket on
// one path. It leaves srv's methods as they are: a server whose WebSocket
// clients present tokens in-band registers rpc.authenticate itself, with
// [rpc.RegisterAuthenticate].
func NewHandler(srv *rpc.Server, opts ...Option) *Handler {
	h := &Handler{srv: srv, cfg: config{
		maxBody:      DefaultMaxBodyBytes,
		maxMessage:   DefaultMaxBodyBytes,
		maxConns:     DefaultMaxConnections,
		concurrency:  DefaultConnectionConcurrency,
		pingInterval: DefaultPingInterval,
		pongWait:     DefaultPongWait,
		writeTimeout: DefaultWriteTimeout,

		connBudget:     DefaultConnectionBudget,
		partialBudget:  DefaultPartialBudget,
		messageTimeout: DefaultMessageTimeout,
	}}
	for _, o := range opts {
		o(&h.cfg)
	}
	if h.cfg.concurrency < 1 {
		h.cfg.concurrency = 1
	}
	if h.cfg.connBudget <= 0 {
		h.cfg.connBudget = math.MaxInt64
	}
	if h.cfg.partialBudget <= 0 {
		h.cfg.partialBudget = math.MaxInt64
	}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*http.Request) bool { return true }, // checked before the upgrade
	}
	return h
}

// ServeHTTP answers one HTTP request. See the package documentation for
// the status codes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		h.serveWS(w, r)
		return
	}
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
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Content-Length"] = []string{strconv.Itoa(len(resp))}
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
}

func (h *Handler) putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		h.bufs.Put(b)
	}
}

// authenticate attaches the server's schemes to ctx, to run on md when a
// call needs them.
func (h *Handler) authenticate(ctx context.Context, md rpc.Metadata) context.Context {
	if !h.srv.HasSchemes() {
		return ctx
	}
	return rpc.WithCredentials(ctx, h.srv.Authenticate(md))
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
