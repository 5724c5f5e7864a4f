package transport

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

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
	err := c.ws.SetWriteDeadline(c.writeDeadline())
	if err == nil {
		err = c.ws.WriteMessage(websocket.TextMessage, msg)
	}
	if err != nil {
		// Counted only when the write timed out on a connection still
		// open: a write broken by a close for another reason, or by a
		// client that left, hit no limit.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			select {
			case <-c.done:
			default:
				c.h.hits.writeTimeout.Add(1)
			}
		}
		c.close(websocket.CloseGoingAway, "write failed")
		return errClosed
	}
	return nil
}

// writeDeadline is the deadline of a write that starts now: none when the
// write timeout is off.
func (c *wsConn) writeDeadline() time.Time {
	if c.h.cfg.writeTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.h.cfg.writeTimeout)
}

// sendPing pings the client and schedules the next ping. Control frames
// may be written concurrently with data frames.
func (c *wsConn) sendPing() {
	select {
	case <-c.done:
		return
	default:
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, c.writeDeadline()); err != nil {
		c.close(websocket.CloseGoingAway, "ping failed")
		return
	}
	c.ping.Reset(c.h.cfg.pingInterval)
}

// close sends a close frame with code and text, then closes the socket and
// cancels every call's context. Only the first call does anything.
func (c *wsConn) close(code int, text string) {
	c.closeOnce.Do(func() {
		// Best effort: the peer may be gone, and the socket closes anyway.
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
			time.Now().Add(time.Second))
		close(c.done)
		if c.ping != nil {
			c.ping.Stop()
		}
		c.cancel()
		_ = c.ws.Close() // nothing is left to fail
	})
}
