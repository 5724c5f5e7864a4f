package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
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
	url  string
	cfg  clientConfig
	next atomic.Int64

	// WebSocket only.
	ws      *websocket.Conn
	wmu     sync.Mutex // serializes writes
	pmu     sync.Mutex
	pending map[string]chan *response
	closed  chan struct{}
	err     error // why the connection ended; set before closed is closed
}

type clientConfig struct {
	token   func(context.Context) (string, error)
	notify  func(method string, params json.RawMessage)
	httpc   *http.Client
	header  http.Header
	dialer  *websocket.Dialer
	maxRead int64
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

// Dial returns a Client for url. For a ws or wss URL it opens the
// connection now, and ctx bounds the handshake; a refused handshake returns
// an error carrying the HTTP status.
func Dial(ctx context.Context, url string, opts ...ClientOption) (*Client, error) {
	c := &Client{url: url, cfg: clientConfig{
		httpc:   http.DefaultClient,
		header:  http.Header{},
		dialer:  websocket.DefaultDialer,
		maxRead: 16 << 20,
	}}
	for _, o := range opts {
		o(&c.cfg)
	}
	switch {
	case strings.HasPrefix(url, "http://"), strings.HasPrefix(url, "https://"):
		return c, nil
	case strings.HasPrefix(url, "ws://"), strings.HasPrefix(url, "wss://"):
	default:
		return nil, fmt.Errorf("transport: url %q: want http, https, ws or wss", url)
	}
	hdr, err := c.headers(ctx)
	if err != nil {
		return nil, err
	}
	ws, resp, err := c.cfg.dialer.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, &HandshakeError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
		}
		return nil, err
	}
	ws.SetReadLimit(c.cfg.maxRead)
	c.ws = ws
	c.pending = map[string]chan *response{}
	c.closed = make(chan struct{})
	go c.readLoop()
	return c, nil
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

func (c *Client) headers(ctx context.Context) (http.Header, error) {
	hdr := c.cfg.header.Clone()
	if c.cfg.token != nil {
		tok, err := c.cfg.token(ctx)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			hdr.Set("Authorization", "Bearer "+tok)
		}
	}
	return hdr, nil
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
	var resp *response
	if c.ws != nil {
		resps, err := c.roundTripWS(ctx, msg, []string{id})
		if err != nil {
			return err
		}
		resp = resps[0]
	} else {
		body, err := c.post(ctx, msg)
		if err != nil {
			return err
		}
		resp = new(response)
		if err := json.Unmarshal(body, resp); err != nil {
			return fmt.Errorf("transport: malformed response: %w", err)
		}
	}
	return resp.decode(result)
}

// Notify sends a notification: a call without an id, which gets no answer.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	msg, err := encodeRequest(method, params, "")
	if err != nil {
		return err
	}
	if c.ws != nil {
		return c.write(ctx, msg)
	}
	_, err = c.post(ctx, msg)
	return err
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

	var resps []*response
	if c.ws != nil {
		if len(ids) == 0 {
			return c.write(ctx, buf.Bytes())
		}
		var err error
		if resps, err = c.roundTripWS(ctx, buf.Bytes(), ids); err != nil {
			return err
		}
	} else {
		body, err := c.post(ctx, buf.Bytes())
		if err != nil || len(ids) == 0 {
			return err
		}
		if len(body) > 0 && body[0] == '{' { // the batch itself was refused
			var r response
			if err := json.Unmarshal(body, &r); err != nil {
				return fmt.Errorf("transport: malformed response: %w", err)
			}
			return r.decode(nil)
		}
		if err := json.Unmarshal(body, &resps); err != nil {
			return fmt.Errorf("transport: malformed response: %w", err)
		}
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
// reserved method rpc.authenticate. Over HTTP, set the token with
// [WithBearer] or [WithTokenSource] instead.
func (c *Client) Authenticate(ctx context.Context, token string) error {
	if c.ws == nil {
		return errors.New("transport: Authenticate needs a WebSocket connection")
	}
	return c.Call(ctx, AuthenticateMethod, AuthenticateParams{Token: token}, nil)
}

// Close closes the WebSocket connection, failing calls in flight. It does
// nothing for an HTTP client.
func (c *Client) Close() error {
	if c.ws == nil {
		return nil
	}
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline(context.Background()))
	c.wmu.Unlock()
	err := c.ws.Close()
	<-c.closed
	return err
}

// Done is closed when the WebSocket connection ends; [Client.Err] then says
// why. It is nil for an HTTP client.
func (c *Client) Done() <-chan struct{} { return c.closed }

// Err returns why the WebSocket connection ended, once Done is closed. A
// *websocket.CloseError carries the server's close code.
func (c *Client) Err() error {
	select {
	case <-c.closed:
		return c.err
	default:
		return nil
	}
}

func (c *Client) post(ctx context.Context, msg []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	hdr, err := c.headers(ctx)
	if err != nil {
		return nil, err
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.maxRead))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusNoContent:
		return nil, nil
	}
	return nil, &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
}

// HTTPError is an HTTP response that carried no JSON-RPC answer: 405, 413,
// 415 and the like.
type HTTPError struct {
	Status int
	Body   string
}

// Error reports the status and the body.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("transport: http status %d: %s", e.Status, e.Body)
}

// roundTripWS writes msg and waits for the responses to ids.
func (c *Client) roundTripWS(ctx context.Context, msg []byte, ids []string) ([]*response, error) {
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

func (c *Client) write(ctx context.Context, msg []byte) error {
	select {
	case <-c.closed:
		return fmt.Errorf("transport: connection closed: %w", c.err)
	default:
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(deadline(ctx))
	return c.ws.WriteMessage(websocket.TextMessage, msg)
}

func (c *Client) readLoop() {
	var err error
	defer func() {
		c.err = err
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

func (c *Client) deliver(r *response) {
	if r == nil {
		return
	}
	if r.Method != "" && r.ID == nil {
		if c.cfg.notify != nil {
			c.cfg.notify(r.Method, r.Params)
		}
		return
	}
	c.pmu.Lock()
	ch, ok := c.pending[string(r.ID)]
	delete(c.pending, string(r.ID))
	c.pmu.Unlock()
	if ok {
		ch <- r
	}
}

// response is a response, or a notification from the server.
type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *wireError      `json:"error"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

type wireError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (r *response) decode(result any) error {
	if r.Error != nil {
		e := &rpc.Error{Code: r.Error.Code, Message: r.Error.Message}
		if len(r.Error.Data) > 0 {
			e.Data = r.Error.Data
		}
		return e
	}
	if result == nil || len(r.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return fmt.Errorf("transport: decoding result: %w", err)
	}
	return nil
}

func encodeRequest(method string, params any, id string) ([]byte, error) {
	req := struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  any             `json:"params,omitempty"`
		ID      json.RawMessage `json:"id,omitempty"`
	}{JSONRPC: "2.0", Method: method, Params: params}
	if id != "" {
		req.ID = json.RawMessage(id)
	}
	return json.Marshal(req)
}

// deadline returns ctx's deadline, or none.
func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
