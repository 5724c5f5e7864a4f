package transport

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// HTTP server defaults, for [NewServer]. Each can be changed with a
// [ServerOption].
const (
	DefaultHeaderTimeout      = 10 * time.Second
	DefaultBodyTimeout        = 30 * time.Second
	DefaultMinBodyRate        = 1024 // bytes per second
	DefaultMinBodyRateGrace   = 5 * time.Second
	DefaultResponseTimeout    = 30 * time.Second
	DefaultIdleTimeout        = 60 * time.Second
	DefaultMaxHeaderBytes     = 64 << 10
	DefaultMaxHTTPConnections = 1024
)

type serverConfig struct {
	header, body, response, idle time.Duration
	minRate                      int64
	rateGrace                    time.Duration
	maxHeader                    int
	maxConns                     int
}

// ServerOption configures the *http.Server made by [NewServer].
type ServerOption func(*serverConfig)

// WithHeaderTimeout sets how long a client may take to send a request's
// header, counted from the first byte of the request (default 10 s). Zero
// means none.
func WithHeaderTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.header = d }
}

// WithBodyTimeout sets how long a request's body may take to arrive,
// counted from the end of its header (default 30 s). Zero means none.
func WithBodyTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.body = d }
}

// WithMinBodyRate sets the slowest a request body may arrive: after grace,
// it must have come at bytesPerSecond on average since its header ended, or
// reading it fails and the connection is closed (default 1024 bytes/s after
// 5 s). A body dribbled at a byte a second is cut off after about grace.
// Zero bytesPerSecond turns the check off; [WithBodyTimeout] still holds.
func WithMinBodyRate(bytesPerSecond int64, grace time.Duration) ServerOption {
	return func(c *serverConfig) { c.minRate, c.rateGrace = bytesPerSecond, grace }
}

// WithResponseTimeout sets how long a request may take, from the end of
// its header until its response is written, handler included (default
// 30 s): it is http.Server's WriteTimeout. A client that does not read its
// response is disconnected when it passes, and the response freed. Zero
// means none.
func WithResponseTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.response = d }
}

// WithIdleTimeout sets how long a keep-alive connection may wait for its
// next request, or for the rest of that request's first bytes (default
// 60 s). Zero means the header timeout.
func WithIdleTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.idle = d }
}

// WithMaxHeaderBytes sets the largest request header (default 64 KiB,
// room for several 8 KiB tokens).
func WithMaxHeaderBytes(n int) ServerOption {
	return func(c *serverConfig) { c.maxHeader = n }
}

// WithMaxHTTPConnections caps the server's open HTTP connections (default
// 1024). See [NewServer] for what happens at the cap. Zero or less removes
// the cap.
func WithMaxHTTPConnections(n int) ServerOption {
	return func(c *serverConfig) { c.maxConns = n }
}

// NewServer returns an *http.Server for h with every timeout set, so that
// no connection lives for ever without progress, and with a cap on open
// connections. Set Addr, TLSConfig or ErrorLog on it as usual; its Handler
// and ConnState carry the limits, so wrap rather than replace them.
//
// A request's header must arrive within [WithHeaderTimeout], its body
// within [WithBodyTimeout] and at no less than [WithMinBodyRate], and its
// response must be written within [WithResponseTimeout]; an idle
// keep-alive connection is closed after [WithIdleTimeout]. A WebSocket
// connection is exempt from all of these once upgraded: [Handler] keeps
// its own deadlines for it (ping, pong and write timeouts).
//
// At the cap ([WithMaxHTTPConnections]), a new connection takes the place
// of an idle keep-alive one when there is one, and is otherwise closed at
// once, before anything is read from it, so that it costs nothing while
// the connections that hold the cap run into their timeouts. Upgraded
// WebSocket connections leave the count: [WithMaxConnections] caps them.
// Leave room for both caps in the process's file descriptor limit.
func NewServer(h http.Handler, opts ...ServerOption) *http.Server {
	cfg := serverConfig{
		header:    DefaultHeaderTimeout,
		body:      DefaultBodyTimeout,
		response:  DefaultResponseTimeout,
		idle:      DefaultIdleTimeout,
		minRate:   DefaultMinBodyRate,
		rateGrace: DefaultMinBodyRateGrace,
		maxHeader: DefaultMaxHeaderBytes,
		maxConns:  DefaultMaxHTTPConnections,
	}
	for _, o := range opts {
		o(&cfg)
	}
	hs := &http.Server{
		Handler:           &bodyDeadline{next: h, cfg: cfg},
		ReadHeaderTimeout: cfg.header,
		WriteTimeout:      cfg.response,
		IdleTimeout:       cfg.idle,
		MaxHeaderBytes:    cfg.maxHeader,
	}
	if cfg.maxConns > 0 {
		lim := &connLimiter{max: cfg.maxConns, conns: map[net.Conn]bool{}}
		hs.ConnState = lim.track
	}
	return hs
}

// connLimiter counts a server's connections through ConnState. Every
// connection is in conns, with true while it is idle; idle counts those.
type connLimiter struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]bool
	idle  int
}

func (l *connLimiter) track(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	switch s {
	case http.StateNew:
		if len(l.conns) >= l.max && !l.evictIdle() {
			l.mu.Unlock()
			c.Close() // never counted: its StateClosed finds nothing
			return
		}
		l.conns[c] = false
	case http.StateActive, http.StateIdle:
		idle, ok := l.conns[c]
		if !ok {
			break
		}
		now := s == http.StateIdle
		if idle != now {
			l.conns[c] = now
			if now {
				l.idle++
			} else {
				l.idle--
			}
		}
	case http.StateHijacked, http.StateClosed:
		if idle, ok := l.conns[c]; ok {
			delete(l.conns, c)
			if idle {
				l.idle--
			}
		}
	}
	l.mu.Unlock()
}

// evictIdle closes an idle connection, if there is one, and forgets it at
// once, so that its place is free for the caller.
func (l *connLimiter) evictIdle() bool {
	if l.idle == 0 {
		return false
	}
	for c, idle := range l.conns {
		if idle {
			delete(l.conns, c)
			l.idle--
			c.Close()
			return true
		}
	}
	return false
}

// bodyDeadline bounds the time a request body takes to arrive: the
// connection's read deadline starts at the body timeout, or at the grace
// period when a minimum rate is set, and moves on as bytes arrive.
type bodyDeadline struct {
	next http.Handler
	cfg  serverConfig
}

func (b *bodyDeadline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || websocket.IsWebSocketUpgrade(r) {
		b.next.ServeHTTP(w, r)
		return
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	br := &rateReader{body: r.Body, rc: rc, start: now, rate: b.cfg.minRate, grace: b.cfg.rateGrace}
	if b.cfg.body > 0 {
		br.end = now.Add(b.cfg.body)
	}
	if br.setDeadline(br.next(0)) != nil {
		b.next.ServeHTTP(w, r) // not a connection that takes deadlines
		return
	}
	r.Body = br
	b.next.ServeHTTP(w, r)
}

// rateReader moves the connection's read deadline on as a body arrives.
// The deadline is start + grace + read/rate, never past end; it is set
// again only once it has moved by a quarter of grace, so that a body read
// in large pieces costs few updates.
type rateReader struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	end   time.Time // zero: no overall bound
	rate  int64
	grace time.Duration
	read  int64
	set   time.Time // the deadline in force
	done  bool
}

func (r *rateReader) next(read int64) time.Time {
	var d time.Time
	if r.rate > 0 {
		d = r.start.Add(r.grace + time.Duration(float64(read)/float64(r.rate)*float64(time.Second)))
	}
	if !r.end.IsZero() && (d.IsZero() || d.After(r.end)) {
		d = r.end
	}
	return d
}

func (r *rateReader) setDeadline(d time.Time) error {
	r.set = d
	return r.rc.SetReadDeadline(d)
}

func (r *rateReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if r.done {
		return n, err
	}
	if err != nil {
		// At the end of the body the server clears the deadline itself,
		// for its own background read; touching it now would cut that
		// read, and the request's context with it.
		r.done = true
		return n, err
	}
	r.read += int64(n)
	if r.rate > 0 {
		if d := r.next(r.read); d.Sub(r.set) > r.grace/4 {
			r.setDeadline(d)
		}
	}
	return n, err
}

func (r *rateReader) Close() error { return r.body.Close() }
