package transport

import (
	"context"

	"github.com/gorilla/websocket"
)

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
