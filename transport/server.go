package transport

import (
	"net"
	"net/http"
	"time"
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
