package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wardenrpc/warden/rpc"
)

// Client calls a JSON-RPC server over HTTP or WebSocket, chosen by the URL's
// scheme: http and https post each call; ws and wss keep one connection for
// every call, with many in flight at once. Create one with [Dial]. A Client
// is safe for concurrent use.
//
// Errors that the server sends come back as *rpc.Error, whose Data is the
// raw JSON of the error's data member (a json.RawMessage).
type Client struct {
	next atomic.Int64
	conn clientConn
	ws   *wsClientConn // the same as conn over WebSocket; nil over HTTP
}

// clientConn is how a Client reaches its server: an HTTP request per
// message ([httpClientConn]) or one WebSocket connection
// ([wsClientConn]).
type clientConn interface {
	// exchange sends msg, a request or a batch, and returns the responses
	// to ids, in any order. A batch that the server refuses as a whole is
	// its error.
	exchange(ctx context.Context, msg []byte, ids []string) ([]*response, error)
	// send sends msg, which holds only notifications.
	send(ctx context.Context, msg []byte) error
}

// Dial returns a Client for url. For a ws or wss URL it opens the
// connection now, and ctx bounds the handshake; a refused handshake returns
// a *[HandshakeError] carrying the HTTP status.
func Dial(ctx context.Context, url string, opts ...ClientOption) (*Client, error) {
	cfg := newClientConfig(opts)
	switch {
	case strings.HasPrefix(url, "http://"), strings.HasPrefix(url, "https://"):
		return &Client{conn: &httpClientConn{url: url, cfg: cfg}}, nil
	case strings.HasPrefix(url, "ws://"), strings.HasPrefix(url, "wss://"):
		ws, err := dialWS(ctx, url, cfg)
		if err != nil {
			return nil, err
		}
		return &Client{conn: ws, ws: ws}, nil
	}
	return nil, fmt.Errorf("transport: url %q: want http, https, ws or wss", url)
}

// Call calls method with params (nil, a slice for positional params, or a
// map or struct for named ones) and decodes the result into result, unless
// result is nil.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	id := strconv.FormatInt(c.next.Add(1), 10)
	msg, err := encodeRequest(method, params, id)
	if err != nil {
		return err
	}
	resps, err := c.conn.exchange(ctx, msg, []string{id})
	if err != nil {
		return err
	}
	return resps[0].decode(result)
}

// Notify sends a notification: a call without an id, which gets no answer.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	msg, err := encodeRequest(method, params, "")
	if err != nil {
		return err
	}
	return c.conn.send(ctx, msg)
}

// BatchCall is one call of a [Client.Batch]. After the batch, Error holds
// its error, and Result its decoded result.
type BatchCall struct {
	Method       string
	Params       any
	Result       any  // decoded into, when not nil
	Notification bool // send without an id; it gets no answer
	Error        error
}

// Batch sends calls as one batch. Its error is for the batch as a whole;
// each call's own error is in its Error field.
func (c *Client) Batch(ctx context.Context, calls []*BatchCall) error {
	var buf bytes.Buffer
	buf.WriteByte('[')
	ids := make([]string, 0, len(calls))
	byID := map[string]*BatchCall{}
	for i, bc := range calls {
		id := ""
		if !bc.Notification {
			id = strconv.FormatInt(c.next.Add(1), 10)
			ids = append(ids, id)
			byID[id] = bc
		}
		msg, err := encodeRequest(bc.Method, bc.Params, id)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(msg)
	}
	buf.WriteByte(']')

	if len(ids) == 0 {
		return c.conn.send(ctx, buf.Bytes())
	}
	resps, err := c.conn.exchange(ctx, buf.Bytes(), ids)
	if err != nil {
		return err
	}
	for _, r := range resps {
		if r == nil {
			continue
		}
		if bc, ok := byID[string(r.ID)]; ok {
			bc.Error = r.decode(bc.Result)
			delete(byID, string(r.ID))
		}
	}
	for _, bc := range byID {
		bc.Error = errors.New("transport: no response for this call")
	}
	return nil
}

// Authenticate presents token on the open WebSocket connection through the
// reserved method rpc.authenticate ([rpc.AuthenticateMethod]), which the
// server must have registered. Over HTTP, set the token with [WithBearer]
// or [WithTokenSource] instead.
func (c *Client) Authenticate(ctx context.Context, token string) error {
	if c.ws == nil {
		return errors.New("transport: Authenticate needs a WebSocket connection")
	}
	return c.Call(ctx, rpc.AuthenticateMethod, rpc.AuthenticateParams{Token: token}, nil)
}

// Close closes the WebSocket connection, failing calls in flight. It does
// nothing for an HTTP client.
func (c *Client) Close() error {
	if c.ws == nil {
		return nil
	}
	return c.ws.close()
}

// Done is closed when the WebSocket connection ends; [Client.Err] then says
// why. It is nil for an HTTP client.
func (c *Client) Done() <-chan struct{} {
	if c.ws == nil {
		return nil
	}
	return c.ws.closed
}

// Err returns why the WebSocket connection ended, once Done is closed: a
// *websocket.CloseError carries the server's close code. It is nil before
// then, and for an HTTP client.
func (c *Client) Err() error {
	if c.ws == nil {
		return nil
	}
	return c.ws.closeErr()
}
