package transport

import "time"

// config is a Handler's configuration: the defaults of [NewHandler],
// changed by Options.
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
// Zero or less turns either off: no pings, or no deadline for pongs.
func WithPing(interval, pongWait time.Duration) Option {
	return func(c *config) { c.pingInterval, c.pongWait = interval, pongWait }
}

// WithWriteTimeout sets the deadline for one WebSocket write (default 10 s).
// A client that does not read in time is disconnected. Zero or less
// removes the deadline: a client that stops reading then keeps its
// connection, and the answers queued on it, until it goes.
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
