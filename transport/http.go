package transport

import (
	"bytes"
	"context"
	"errors"
	"iter"
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
	hits    limitHits    // for Stats
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
		h.hits.bodyTooLarge.Add(1)
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
			h.hits.bodyTooLarge.Add(1)
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
	// Limits counts, since the handler was made, the times each limit
	// was hit.
	Limits LimitHits
}

// LimitHits counts the times clients hit each of a Handler's limits, so
// that an operator can see misbehaving clients being held off. Each field
// only grows. Most hits end a request or a connection; a replaced answer
// does not, and a batch's answer counts once however many calls it held.
type LimitHits struct {
	BodyTooLarge       uint64 // HTTP bodies over WithMaxBodyBytes: 413
	ConnectionsRefused uint64 // WebSocket upgrades over WithMaxConnections: 503
	MessageTooLarge    uint64 // WebSocket messages over WithMaxMessageBytes: closed 1009
	MessageTimeout     uint64 // messages unfinished after WithMessageTimeout: closed 1008
	PartialBudget      uint64 // connections past WithPartialBudget: closed 1013
	InvalidUTF8        uint64 // text messages that are not UTF-8: closed 1007
	PongTimeout        uint64 // connections silent past WithPing's wait: closed 1001
	WriteTimeout       uint64 // connections dropped on a write that passed WithWriteTimeout
	AnswersReplaced    uint64 // answers (a batch's: one) over WithConnectionBudget, sent as -32005 instead
}

// All yields each count under a short name for a metric's label:
// body_bytes, connections, message_bytes, message_timeout,
// partial_budget, invalid_utf8, pong_timeout, write_timeout and
// connection_budget, in that order.
func (l LimitHits) All() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		_ = yield("body_bytes", l.BodyTooLarge) &&
			yield("connections", l.ConnectionsRefused) &&
			yield("message_bytes", l.MessageTooLarge) &&
			yield("message_timeout", l.MessageTimeout) &&
			yield("partial_budget", l.PartialBudget) &&
			yield("invalid_utf8", l.InvalidUTF8) &&
			yield("pong_timeout", l.PongTimeout) &&
			yield("write_timeout", l.WriteTimeout) &&
			yield("connection_budget", l.AnswersReplaced)
	}
}

// limitHits is where a Handler counts LimitHits.
type limitHits struct {
	bodyTooLarge, connectionsRefused, messageTooLarge, messageTimeout, partialBudget,
	invalidUTF8, pongTimeout, writeTimeout, answersReplaced atomic.Uint64
}

// Stats returns the handler's state now. It is cheap: a few atomic loads.
func (h *Handler) Stats() Stats {
	return Stats{
		WebSockets:   int(h.active.Load()),
		PartialBytes: h.partial.Load(),
		Limits: LimitHits{
			BodyTooLarge:       h.hits.bodyTooLarge.Load(),
			ConnectionsRefused: h.hits.connectionsRefused.Load(),
			MessageTooLarge:    h.hits.messageTooLarge.Load(),
			MessageTimeout:     h.hits.messageTimeout.Load(),
			PartialBudget:      h.hits.partialBudget.Load(),
			InvalidUTF8:        h.hits.invalidUTF8.Load(),
			PongTimeout:        h.hits.pongTimeout.Load(),
			WriteTimeout:       h.hits.writeTimeout.Load(),
			AnswersReplaced:    h.hits.answersReplaced.Load(),
		},
	}
}
