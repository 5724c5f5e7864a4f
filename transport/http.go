package transport

import (
	"bytes"
	"context"
	"errors"
	"math"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

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
		http.Error(w, "method not allowed: use POST", http.StatusMethodNotAllowed)
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		http.Error(w, "unsupported content type: use application/json", http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > h.cfg.maxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	defer h.putBuf(buf)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read request body", http.StatusBadRequest)
		return
	}
	ctx := h.authenticate(withHeaders(r.Context(), r.Header), r.Header)
	resp := h.srv.Handle(ctx, buf.Bytes())
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Content-Length"] = []string{strconv.Itoa(len(resp))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp) // a client that has gone cannot be told
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

// Stats is a snapshot of a Handler's state, for metrics.
type Stats struct {
	// WebSockets is the number of open WebSocket connections, counting
	// those being upgraded; at most [WithMaxConnections].
	WebSockets int
	// PartialBytes is how many bytes of unfinished inbound WebSocket
	// messages are charged to the budget that [WithPartialBudget] sets.
	PartialBytes int64
}

// Stats returns the handler's state now. It is cheap: two atomic loads.
func (h *Handler) Stats() Stats {
	return Stats{WebSockets: int(h.active.Load()), PartialBytes: h.partial.Load()}
}
