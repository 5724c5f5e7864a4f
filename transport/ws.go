package transport

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wardenrpc/warden/rpc"
)

// WebSocket defaults. Each can be changed with an [Option].
const (
	DefaultPingInterval          = 30 * time.Second
	DefaultPongWait              = 60 * time.Second
	DefaultWriteTimeout          = 10 * time.Second
	DefaultConnectionConcurrency = 16
	DefaultMaxConnections        = 10000
	DefaultMessageTimeout        = 30 * time.Second
)

var (
	errClosed        = errors.New("transport: connection closed")
	errPartialBudget = errors.New("transport: partial message budget exhausted")
)

// wsConn is one WebSocket connection: a reader (the handler's goroutine)
// and workers that run its calls, at most cfg.concurrency calls at once.
// A worker takes the next message while there is one and exits after
// workerIdle without work, so a busy connection reuses grown stacks and an
// idle one keeps no worker. Each call writes its own response while
// holding wlock, so one writer at a time touches the socket, and every
// write has a deadline. Pings come from a timer, so an idle connection
// costs one parked goroutine. budget counts the bytes its messages and
// answers hold.
type wsConn struct {
	h    *Handler
	ws   *websocket.Conn
	sess *rpc.Session

	ctx    context.Context // canceled when the connection closes
	cancel context.CancelFunc
	queue  chan []byte   // hands a message to an idle worker
	wlock  chan struct{} // a one-slot lock on data writes that a waiter can give up on
	ping   *time.Timer
	done   chan struct{} // closed when the connection closes
	sem    chan struct{}
	calls  sync.WaitGroup
	budget connBudget

	// The reader's own: the read deadline that pongs keep moving, and the
	// one set for the message being read (zero while there is none).
	pongDeadline time.Time
	msgDeadline  time.Time
	inMessage    bool

	closeOnce sync.Once
	drainMu   sync.Mutex
	draining  bool
}

// serveWS upgrades r after the checks the handshake owes: shutdown, origin,
// credentials, connection cap, in that order.
func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request) {
	if h.closing.Load() {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	if !h.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	var creds *rpc.Credentials
	if h.srv.HasSchemes() {
		creds = h.srv.Authenticate(r.Header)
		creds.Resolve(r.Context())
		if _, reason, failed := creds.Failure(); failed {
			if reason == "" { // the scheme could not decide: fail closed
				http.Error(w, "authentication unavailable", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "unauthorized: "+reason, http.StatusUnauthorized)
			return
		}
	}
	if n := h.active.Add(1); n > int64(h.cfg.maxConns) {
		h.active.Add(-1)
		h.hits.connectionsRefused.Add(1)
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	defer h.active.Add(-1)

	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ctx, cancel := context.WithCancel(withHeaders(context.WithoutCancel(r.Context()), r.Header))
	c := &wsConn{
		h:      h,
		ws:     ws,
		cancel: cancel,
		queue:  make(chan []byte),
		wlock:  make(chan struct{}, 1),
		done:   make(chan struct{}),
		sem:    make(chan struct{}, h.cfg.concurrency),
		budget: connBudget{max: h.cfg.connBudget},
	}
	c.sess = rpc.NewSession(h.srv, c.notify)
	c.ctx = rpc.WithSession(ctx, c.sess)
	creds.Each(c.sess.Bind)
	// Deadlines that the HTTP server set for the handshake (a response
	// timeout, say) would otherwise outlive it: this connection keeps its
	// own.
	_ = ws.NetConn().SetDeadline(time.Time{}) // a broken connection fails its first read

	// The timer exists before it can fire, so sendPing always finds it, and
	// before track makes the connection visible to Shutdown, which stops
	// it.
	c.ping = time.AfterFunc(time.Hour, c.sendPing)
	if !h.track(c) {
		c.close(websocket.CloseGoingAway, "server is shutting down")
		return
	}
	defer h.untrack(c)
	if h.afterTrack != nil {
		h.afterTrack()
	}

	if h.cfg.pingInterval > 0 {
		c.ping.Reset(h.cfg.pingInterval)
	}
	c.close(c.readLoop())
	c.calls.Wait()
	c.sess.Close() // ends its subscriptions and waits for their producers
}

func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range h.cfg.origins {
		if strings.EqualFold(o, origin) || strings.EqualFold(o, u.Host) {
			return true
		}
	}
	return false
}
