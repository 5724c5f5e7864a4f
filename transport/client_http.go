package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// httpClientConn posts each message to url and reads the answer from the
// response.
type httpClientConn struct {
	url string
	cfg clientConfig
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

func (c *httpClientConn) send(ctx context.Context, msg []byte) error {
	_, err := c.post(ctx, msg)
	return err
}

func (c *httpClientConn) exchange(ctx context.Context, msg []byte, _ []string) ([]*response, error) {
	body, err := c.post(ctx, msg)
	if err != nil {
		return nil, err
	}
	if msg[0] == '[' && len(body) > 0 && body[0] != '{' {
		var resps []*response
		if err := json.Unmarshal(body, &resps); err != nil {
			return nil, fmt.Errorf("transport: malformed response: %w", err)
		}
		return resps, nil
	}
	r := new(response)
	if err := json.Unmarshal(body, r); err != nil {
		return nil, fmt.Errorf("transport: malformed response: %w", err)
	}
	if msg[0] == '[' { // the batch itself was refused
		return nil, r.decode(nil)
	}
	return []*response{r}, nil
}

// post sends msg and returns the body of a 200, nil for a 204, or an
// *HTTPError.
func (c *httpClientConn) post(ctx context.Context, msg []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	hdr, err := c.cfg.headers(ctx)
	if err != nil {
		return nil, err
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read to its end or limit: closing says nothing more
	var r io.Reader = resp.Body
	if c.cfg.maxRead > 0 {
		r = io.LimitReader(resp.Body, c.cfg.maxRead+1)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if c.cfg.maxRead > 0 && int64(len(body)) > c.cfg.maxRead {
		return nil, fmt.Errorf("transport: response larger than %d bytes (see WithMaxResponseBytes)", c.cfg.maxRead)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusNoContent:
		return nil, nil
	}
	return nil, &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
}
