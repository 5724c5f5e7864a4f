package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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
		httpError(w, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	if !h.originAllowed(r) {
		httpError(w, http.StatusForbidden, "origin not allowed")
		return
	}
	var creds *rpc.Credentials
	if h.srv.HasSchemes() {
		creds = h.srv.Authenticate(r.Header)
		creds.Resolve(r.Context())
		if _, reason, failed := creds.Failure(); failed {
			if reason == "" { // the scheme could not decide: fail closed
				httpError(w, http.StatusServiceUnavailable, "authentication unavailable")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			httpError(w, http.StatusUnauthorized, "unauthorized: "+reason)
			return
		}
	}
	if n := h.active.Add(1); n > int64(h.cfg.maxConns) {
		h.active.Add(-1)
		httpError(w, http.StatusServiceUnavailable, "too many connections")
		return
	}
	defer h.active.Add(-1)

	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
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
	ws.NetConn().SetDeadline(time.Time{})

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

	c.ping.Reset(h.cfg.pingInterval)
	c.close(c.readLoop())
	c.calls.Wait()
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

// readLoop reads messages until the connection fails, and returns the close
// code and text to send. While the handler shuts down it goes on reading, so
// that it sees the peer leave, but starts no new call. While the
// connection holds its budget, it reads nothing.
func (c *wsConn) readLoop() (code int, text string) {
	ws, cfg := c.ws, &c.h.cfg
	ws.SetReadLimit(cfg.maxMessage)
	c.pongDeadline = time.Now().Add(cfg.pongWait)
	ws.SetReadDeadline(c.pongDeadline)
	ws.SetPongHandler(c.pong)
	for {
		if !c.budget.waitBelow(c.done) {
			return websocket.CloseNormalClosure, ""
		}
		typ, msg, err := c.readMessage()
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				if !c.msgDeadline.IsZero() && !time.Now().Before(c.msgDeadline) {
					return websocket.ClosePolicyViolation, "message not completed in time"
				}
				return websocket.CloseGoingAway, "no pong received"
			case errors.Is(err, websocket.ErrReadLimit):
				return websocket.CloseMessageTooBig, "message too large"
			case errors.Is(err, errPartialBudget):
				return websocket.CloseTryAgainLater, "server busy: too many unfinished messages"
			}
			return websocket.CloseNormalClosure, ""
		}
		if typ != websocket.TextMessage {
			return websocket.CloseUnsupportedData, "binary messages are not supported"
		}
		if !utf8.Valid(msg) {
			return websocket.CloseInvalidFramePayloadData, "text message is not valid UTF-8"
		}
		select {
		case c.sem <- struct{}{}: // pauses reading while the cap is reached
		case <-c.done:
			return websocket.CloseNormalClosure, ""
		}
		if !c.startCall() {
			<-c.sem // shutting down: the message is dropped
			continue
		}
		c.budget.add(int64(cap(msg)))
		select {
		case c.queue <- msg:
		default:
			go c.work(msg)
		}
	}
}

// readMessage reads the next message in chunks. Past its first
// partialFree bytes, what it holds is charged to the handler's partial
// budget until it is complete; a message that would take that past its
// limit fails with errPartialBudget. A message that grows past its first
// chunk, or that is still incomplete at a pong, must be complete within
// the message timeout.
func (c *wsConn) readMessage() (int, []byte, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	if typ != websocket.TextMessage {
		return typ, nil, nil
	}
	c.inMessage = true
	h := c.h
	limit := h.cfg.maxMessage + 1 // room to see the end of a message of the largest size
	var charged int64
	defer func() {
		if charged > 0 {
			h.partial.Add(-charged)
		}
	}()
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			n := min(2*int64(cap(buf)), max(limit, int64(cap(buf))+1))
			if n > partialFree {
				delta := n - max(int64(cap(buf)), partialFree)
				if h.partial.Add(delta) > h.cfg.partialBudget {
					h.partial.Add(-delta)
					return 0, nil, errPartialBudget
				}
				charged += delta
				if c.msgDeadline.IsZero() {
					c.startMessageDeadline()
				}
			}
			grown := make([]byte, len(buf), n)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			c.endMessage() // on failure, the deadline stays for readLoop to see
			return typ, buf, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// pong moves the read deadline on, but never past the deadline of a
// message being read: a client that answers pings between the fragments
// of a message that never ends is cut off all the same.
func (c *wsConn) pong(string) error {
	c.pongDeadline = time.Now().Add(c.h.cfg.pongWait)
	if c.inMessage && c.msgDeadline.IsZero() {
		c.startMessageDeadline() // sets the read deadline too
		return nil
	}
	c.setReadDeadline()
	return nil
}

func (c *wsConn) startMessageDeadline() {
	if c.h.cfg.messageTimeout > 0 {
		c.msgDeadline = time.Now().Add(c.h.cfg.messageTimeout)
	}
	c.setReadDeadline()
}

// endMessage lifts the deadline of the message just read.
func (c *wsConn) endMessage() {
	c.inMessage = false
	if !c.msgDeadline.IsZero() {
		c.msgDeadline = time.Time{}
		c.setReadDeadline()
	}
}

func (c *wsConn) setReadDeadline() {
	d := c.pongDeadline
	if !c.msgDeadline.IsZero() && c.msgDeadline.Before(d) {
		d = c.msgDeadline
	}
	c.ws.SetReadDeadline(d)
}

// startCall counts a new call in flight, unless the connection is
// draining. Both happen under drainMu, so once drain has begun no call is
// added behind its back.
func (c *wsConn) startCall() bool {
	c.drainMu.Lock()
	defer c.drainMu.Unlock()
	if c.draining {
		return false
	}
	c.calls.Add(1)
	return true
}

// workerIdle is how long a worker waits for another message before it
// exits.
const workerIdle = time.Second

func (c *wsConn) work(msg []byte) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		c.serve(msg)
		idle.Reset(workerIdle)
		select {
		case msg = <-c.queue:
		case <-idle.C:
			return
		case <-c.done:
			return
		}
	}
}

func (c *wsConn) serve(msg []byte) {
	defer func() {
		<-c.sem
		c.calls.Done()
	}()
	ctx := c.ctx
	if c.h.srv.HasSchemes() {
		ctx = rpc.WithCredentials(ctx, c.sess.Credentials())
	}
	resp := c.h.srv.Handle(ctx, msg)
	if resp == nil {
		c.budget.release(int64(cap(msg)), 0)
		return
	}
	// An answer that would take the connection past its budget while
	// others wait to be written is not kept: its client gets -32005
	// instead, and can ask again once it has read what it asked for.
	if !c.budget.finish(int64(cap(msg)), resp) {
		resp = limitAnswer(resp)
		c.budget.charge(resp)
	}
	c.send(ctx, resp)
}

// notify writes a notification for the session: it waits while the
// connection holds its budget, and fails once the connection is closed or
// ctx ends.
func (c *wsConn) notify(ctx context.Context, msg []byte) error {
	if err := c.budget.admit(ctx, int64(len(msg)), c.done); err != nil {
		return err
	}
	return c.send(ctx, msg)
}

// send writes msg, already charged to the budget, as one text message,
// and gives its bytes back. A write that misses its deadline closes the
// connection, so that a stalled reader holds up nothing but its own
// connection.
func (c *wsConn) send(ctx context.Context, msg []byte) error {
	defer c.budget.release(int64(len(msg)), 1)
	return c.write(ctx, msg)
}

func (c *wsConn) write(ctx context.Context, msg []byte) error {
	select {
	case c.wlock <- struct{}{}:
	case <-c.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.wlock }()
	select {
	case <-c.done:
		return errClosed
	default:
	}
	c.ws.SetWriteDeadline(time.Now().Add(c.h.cfg.writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		c.close(websocket.CloseGoingAway, "write failed")
		return errClosed
	}
	return nil
}

// sendPing pings the client and schedules the next ping. Control frames
// may be written concurrently with data frames.
func (c *wsConn) sendPing() {
	select {
	case <-c.done:
		return
	default:
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.h.cfg.writeTimeout)); err != nil {
		c.close(websocket.CloseGoingAway, "ping failed")
		return
	}
	c.ping.Reset(c.h.cfg.pingInterval)
}

// close sends a close frame with code and text, then closes the socket and
// cancels every call's context. Only the first call does anything.
func (c *wsConn) close(code int, text string) {
	c.closeOnce.Do(func() {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
			time.Now().Add(time.Second))
		close(c.done)
		if c.ping != nil {
			c.ping.Stop()
		}
		c.cancel()
		c.ws.Close()
	})
}

// drain starts no new call; once the calls in flight have finished and
// written their responses, it closes the connection with 1001.
func (c *wsConn) drain() {
	c.drainMu.Lock()
	already := c.draining
	c.draining = true
	c.drainMu.Unlock()
	if already {
		return
	}
	go func() {
		idle := make(chan struct{})
		go func() {
			c.calls.Wait()
			close(idle)
		}()
		select {
		case <-idle:
			c.close(websocket.CloseGoingAway, "server is shutting down")
		case <-c.done:
		}
	}()
}

func (h *Handler) track(c *wsConn) bool {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	if h.closing.Load() {
		return false
	}
	if h.conns == nil {
		h.conns = map[*wsConn]struct{}{}
	}
	h.conns[c] = struct{}{}
	h.connWG.Add(1)
	return true
}

func (h *Handler) untrack(c *wsConn) {
	h.connMu.Lock()
	delete(h.conns, c)
	h.connMu.Unlock()
	h.connWG.Done()
}

// Shutdown stops accepting WebSocket connections, lets calls in flight
// finish and send their responses, and closes every connection with 1001
// (going away). Messages that arrive meanwhile start no call: their
// clients see the connection close instead. When ctx ends first, it
// closes the remaining connections at once, cancelling their calls'
// contexts, and returns ctx's error without waiting for those calls to
// return.
//
// HTTP requests are not tracked here: call it beside http.Server.Shutdown,
// which does not see hijacked WebSocket connections.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.connMu.Lock()
	h.closing.Store(true)
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.connMu.Unlock()
	for _, c := range conns {
		c.drain()
	}
	done := make(chan struct{})
	go func() {
		h.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		// As http.Server.Shutdown does, return now: a call that ignores its
		// context may run on, but its connection is closed and its answer
		// goes nowhere.
		for _, c := range conns {
			c.close(websocket.CloseGoingAway, "server is shutting down")
		}
		return ctx.Err()
	}
}
