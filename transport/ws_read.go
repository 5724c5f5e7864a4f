package transport

import (
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// readLoop reads messages until the connection fails, and returns the close
// code and text to send. While the handler shuts down it goes on reading, so
// that it sees the peer leave, but starts no new call. While the
// connection holds its budget, it reads nothing.
func (c *wsConn) readLoop() (code int, text string) {
	ws, cfg := c.ws, &c.h.cfg
	ws.SetReadLimit(cfg.maxMessage)
	c.pongDeadline = c.nextPongDeadline()
	_ = ws.SetReadDeadline(c.pongDeadline) // a broken connection fails the first read
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
					c.h.hits.messageTimeout.Add(1)
					return websocket.ClosePolicyViolation, "message not completed in time"
				}
				c.h.hits.pongTimeout.Add(1)
				return websocket.CloseGoingAway, "no pong received"
			case errors.Is(err, websocket.ErrReadLimit):
				c.h.hits.messageTooLarge.Add(1)
				return websocket.CloseMessageTooBig, "message too large"
			case errors.Is(err, errPartialBudget):
				c.h.hits.partialBudget.Add(1)
				return websocket.CloseTryAgainLater, "server busy: too many unfinished messages"
			}
			return websocket.CloseNormalClosure, ""
		}
		if typ != websocket.TextMessage {
			return websocket.CloseUnsupportedData, "binary messages are not supported"
		}
		if !utf8.Valid(msg) {
			c.h.hits.invalidUTF8.Add(1)
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
	c.pongDeadline = c.nextPongDeadline()
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

// nextPongDeadline is when the connection closes without a pong from now:
// never when the pong wait is off.
func (c *wsConn) nextPongDeadline() time.Time {
	if c.h.cfg.pongWait <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.h.cfg.pongWait)
}

func (c *wsConn) setReadDeadline() {
	d := c.pongDeadline
	if !c.msgDeadline.IsZero() && (d.IsZero() || c.msgDeadline.Before(d)) {
		d = c.msgDeadline
	}
	_ = c.ws.SetReadDeadline(d) // a broken connection fails the next read
}
