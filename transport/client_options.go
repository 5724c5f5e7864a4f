package transport

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Client defaults. Each can be changed with a [ClientOption].
const (
	// DefaultMaxResponseBytes is the largest response a Client reads: an
	// HTTP body or a WebSocket message, 16 MiB. It is larger than the
	// server's default message limit because a batch's answer may be
	// larger than the batch.
	DefaultMaxResponseBytes = 16 << 20
	// DefaultClientWriteTimeout bounds one WebSocket write by a Client,
	// 10 s, so that a server that stops reading cannot hold up every other
	// call of the connection behind a write that never ends.
	DefaultClientWriteTimeout = 10 * time.Second
)

type clientConfig struct {
	token        func(context.Context) (string, error)
	notify       func(method string, params json.RawMessage)
	httpc        *http.Client
	header       http.Header
	dialer       *websocket.Dialer
	maxRead      int64 // zero or less: no limit
	writeTimeout time.Duration
	subBuffer    int // values a subscription holds; zero or less: the default
}

func newClientConfig(opts []ClientOption) clientConfig {
	cfg := clientConfig{
		httpc:        http.DefaultClient,
		header:       http.Header{},
		dialer:       websocket.DefaultDialer,
		maxRead:      DefaultMaxResponseBytes,
		writeTimeout: DefaultClientWriteTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// ClientOption configures a [Client].
type ClientOption func(*clientConfig)

// WithBearer sends token as "Authorization: Bearer" on every HTTP request
// and on the WebSocket handshake.
func WithBearer(token string) ClientOption {
	return WithTokenSource(func(context.Context) (string, error) { return token, nil })
}

// WithTokenSource calls fn for the bearer token before every HTTP request
// and before the WebSocket handshake, so that it can refresh the token. On
// an open WebSocket, present a new token with [Client.Authenticate].
func WithTokenSource(fn func(ctx context.Context) (string, error)) ClientOption {
	return func(c *clientConfig) { c.token = fn }
}

// WithNotificationHandler sets the function that receives the server's
// notifications on a WebSocket connection. It runs on the connection's
// reader: keep it short.
func WithNotificationHandler(fn func(method string, params json.RawMessage)) ClientOption {
	return func(c *clientConfig) { c.notify = fn }
}

// WithHTTPClient sets the *http.Client used for HTTP calls.
func WithHTTPClient(hc *http.Client) ClientOption { return func(c *clientConfig) { c.httpc = hc } }

// WithHeader adds a header to every HTTP request and to the handshake.
func WithHeader(key, value string) ClientOption {
	return func(c *clientConfig) { c.header.Add(key, value) }
}

// WithMaxResponseBytes sets the largest response the client reads
// (default [DefaultMaxResponseBytes], 16 MiB). Over HTTP a longer body
// fails its call; over WebSocket a longer message closes the connection
// with 1009, failing every call in flight. Zero or less removes the
// limit.
func WithMaxResponseBytes(n int64) ClientOption {
	return func(c *clientConfig) { c.maxRead = n }
}

// WithClientWriteTimeout sets how long one WebSocket write may take
// (default [DefaultClientWriteTimeout], 10 s), or less when the call's
// context ends sooner. A write that misses it closes the connection,
// failing every call in flight: a half-written message leaves nothing
// else to do. Zero or less leaves writes bounded by their context alone.
func WithClientWriteTimeout(d time.Duration) ClientOption {
	return func(c *clientConfig) { c.writeTimeout = d }
}

// headers returns the headers of a request or handshake: the configured
// ones, and the bearer token if there is one.
func (cfg *clientConfig) headers(ctx context.Context) (http.Header, error) {
	hdr := cfg.header.Clone()
	if cfg.token != nil {
		tok, err := cfg.token(ctx)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			hdr.Set("Authorization", "Bearer "+tok)
		}
	}
	return hdr, nil
}
