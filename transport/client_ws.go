package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsClientConn is a Client's WebSocket connection: one reader goroutine
// hands each response to the call waiting for its id, and calls write one
// at a time, each under a deadline.
type wsClientConn struct {
	cfg     clientConfig
	ws      *websocket.Conn
	wlock   chan struct{} // a one-slot lock on writes that a waiter can give up on
	pmu     sync.Mutex
	pending map[string]chan *response
	opening map[string]*ClientSubscription // by the id of the subscribe call
	subs    map[string]*ClientSubscription // by subscription id

	failOnce sync.Once
	failErr  error         // why the client closed the connection; set before the socket closes
	closed   chan struct{} // closed when the reader has stopped
	err      error         // why the connection ended; set before closed is closed
}

// HandshakeError is a WebSocket handshake that the server refused.
type HandshakeError struct {
	Status int    // the HTTP status: 401, 403, 503…
	Body   string // the server's plain-text reason
}

// Error reports the status and the server's reason.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("transport: websocket handshake refused: %d %s", e.Status, e.Body)
}

// dialWS opens the connection and starts its reader.
func dialWS(ctx context.Context, url string, cfg clientConfig) (*wsClientConn, error) {
	hdr, err := cfg.headers(ctx)
	if err != nil {
		return nil, err
	}
	ws, resp, err := cfg.dialer.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			_ = resp.Body.Close() // the handshake has failed already
			return nil, &HandshakeError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
		}
		return nil, err
	}
	if cfg.maxRead > 0 {
		ws.SetReadLimit(cfg.maxRead)
	}
	c := &wsClientConn{
		cfg:     cfg,
		ws:      ws,
		wlock:   make(chan struct{}, 1),
		pending: map[string]chan *response{},
		closed:  make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

func (c *wsClientConn) send(ctx context.Context, msg []byte) error { return c.write(ctx, msg) }

// exchange writes msg and waits for the responses to ids.
func (c *wsClientConn) exchange(ctx context.Context, msg []byte, ids []string) ([]*response, error) {
	chans := make([]chan *response, len(ids))
	c.pmu.Lock()
	for i, id := range ids {
		chans[i] = make(chan *response, 1)
		c.pending[id] = chans[i]
	}
	c.pmu.Unlock()
	forget := func() {
		c.pmu.Lock()
		for _, id := range ids {
			delete(c.pending, id)
		}
		c.pmu.Unlock()
	}
	if err := c.write(ctx, msg); err != nil {
		forget()
		return nil, err
	}
	out := make([]*response, len(ids))
	for i, ch := range chans {
		select {
		case r := <-ch:
			out[i] = r
		case <-ctx.Done():
			forget()
			return nil, ctx.Err()
		case <-c.closed:
			forget()
			return nil, fmt.Errorf("transport: connection closed: %w", c.err)
		}
	}
	return out, nil
}

// write sends msg as one text message. Its deadline is the sooner of
// ctx's and the write timeout; a write that fails leaves the connection
// unusable, so it is closed.
func (c *wsClientConn) write(ctx context.Context, msg []byte) error {
	select {
	case c.wlock <- struct{}{}:
	case <-c.closed:
		return fmt.Errorf("transport: connection closed: %w", c.err)
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.wlock }()
	select {
	case <-c.closed:
		return fmt.Errorf("transport: connection closed: %w", c.err)
	default:
	}
	err := c.ws.SetWriteDeadline(c.writeDeadline(ctx))
	if err == nil {
		err = c.ws.WriteMessage(websocket.TextMessage, msg)
	}
	if err != nil {
		err = fmt.Errorf("transport: write failed: %w", err)
		c.fail(err)
		return err
	}
	return nil
}

// writeDeadline is the sooner of ctx's deadline and the write timeout
// from now; the zero time when there is neither.
func (c *wsClientConn) writeDeadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if t := c.cfg.writeTimeout; t > 0 {
		if limit := time.Now().Add(t); !ok || limit.Before(d) {
			d = limit
		}
	}
	return d
}

// fail closes the socket because of err, which the reader then reports as
// why the connection ended.
func (c *wsClientConn) fail(err error) {
	c.failOnce.Do(func() {
		c.failErr = err
		_ = c.ws.Close() // the reader reports err, not this
	})
}

// close sends a close frame, waiting a second at most, and closes the
// connection. Control frames may be written concurrently with data
// frames, so a write under way does not hold it up.
func (c *wsClientConn) close() error {
	// Best effort: the server may be gone, and the socket closes anyway.
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	err := c.ws.Close()
	<-c.closed
	return err
}

func (c *wsClientConn) closeErr() error {
	select {
	case <-c.closed:
		return c.err
	default:
		return nil
	}
}

func (c *wsClientConn) readLoop() {
	var err error
	defer func() {
		c.failOnce.Do(func() {}) // from now on, fail records nothing
		if c.failErr != nil {
			err = c.failErr
		}
		c.err = err
		c.endSubscriptions(err)
		close(c.closed)
	}()
	for {
		var msg []byte
		_, msg, err = c.ws.ReadMessage()
		if err != nil {
			return
		}
		msg = bytes.TrimSpace(msg)
		if len(msg) > 0 && msg[0] == '[' {
			var rs []*response
			if json.Unmarshal(msg, &rs) == nil {
				for _, r := range rs {
					c.deliver(r)
				}
			}
			continue
		}
		r := new(response)
		if json.Unmarshal(msg, r) == nil {
			c.deliver(r)
		}
	}
}

func (c *wsClientConn) deliver(r *response) {
	if r == nil {
		return
	}
	if r.Method != "" && r.ID == nil {
		if c.subscriptionNotification(r) {
			return
		}
		if c.cfg.notify != nil {
			c.cfg.notify(r.Method, r.Params)
		}
		return
	}
	c.pmu.Lock()
	ch, ok := c.pending[string(r.ID)]
	delete(c.pending, string(r.ID))
	c.opened(r)
	c.pmu.Unlock()
	if ok {
		ch <- r
	}
}
