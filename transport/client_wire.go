package transport

import (
	"encoding/json"
	"fmt"

	"github.com/wardenrpc/warden/rpc"
)

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

// decode returns the response's error as an *rpc.Error, or decodes its
// result into result unless result is nil.
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

// encodeRequest encodes a request, or a notification when id is "".
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
