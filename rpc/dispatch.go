package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"unicode/utf8"
)

// Handle processes one JSON-RPC message, a single request or a batch, and
// returns the response to send, or nil when there is none (a notification,
// or a batch of them). Credentials for the security check are read from ctx
// (see [WithCredentials]); the transport attaches them. Handle never panics
// because of its input or a handler.
func (s *Server) Handle(ctx context.Context, msg []byte) []byte {
	msg = trimSpace(msg)
	valid, shallow := validMessage(msg, s.cfg.depthLimit)
	if !valid {
		return errorResponse(nil, errParse())
	}
	if !shallow {
		return errorResponse(nil, invalidRequest("nesting too deep"))
	}
	if msg[0] == '[' {
		return s.handleBatch(ctx, msg)
	}
	return s.handleOne(ctx, msg)
}

// handleOne answers one request object.
func (s *Server) handleOne(ctx context.Context, data []byte) []byte {
	env, answer, perr := parseEnvelope(data)
	if perr != nil {
		return errorResponse(answer, perr)
	}
	m, ok := s.table.Load().byName[string(env.method)] // no copy of the name
	var name string
	if ok {
		name = m.Name
	} else {
		if s.unknown == nil {
			if env.id == nil {
				return nil
			}
			return errorResponse(env.id, errNotFound())
		}
		m = s.unknown
		name = string(env.method)
	}
	res, rerr := s.invoke(ctx, m, &Request{Method: m, ID: env.id, Params: env.params, Name: name})
	if env.id == nil {
		return nil
	}
	if rerr != nil {
		return errorResponse(env.id, rerr)
	}
	return resultResponse(env.id, res)
}

// invoke runs the method's chain and encodes its result. It turns every
// failure, a panic included, into the error to send.
func (s *Server) invoke(ctx context.Context, m *Method, req *Request) (res []byte, rerr *Error) {
	defer func() {
		if p := recover(); p != nil {
			s.faults.log(ctx, "handler panic", m.Name, func() []slog.Attr {
				return []slog.Attr{slog.Any("panic", p), slog.String("stack", string(debug.Stack()))}
			})
			rerr = errInternal()
			if s.cfg.debug {
				rerr = &Error{Code: CodeInternalError, Message: "Internal error", Data: map[string]string{"panic": fmt.Sprint(p)}}
			}
		}
	}()
	v, err := m.handler(ctx, req)
	if err != nil {
		return nil, s.toError(ctx, m, err)
	}
	b, ok := v.(json.RawMessage)
	if !ok || !json.Valid(b) {
		if b, err = json.Marshal(v); err != nil {
			return nil, s.encodingFailed(ctx, m, err)
		}
	}
	// json.Marshal repairs the strings it encodes, but not the bytes of a
	// json.RawMessage or of a MarshalJSON method, and an answer must be
	// text (see "Wire text" in doc.go).
	if !utf8.Valid(b) {
		return nil, s.encodingFailed(ctx, m, errInvalidUTF8)
	}
	return b, nil
}

var errInvalidUTF8 = errors.New("the result is not valid UTF-8")

func (s *Server) encodingFailed(ctx context.Context, m *Method, err error) *Error {
	s.faults.log(ctx, "result encoding failed", m.Name, func() []slog.Attr {
		return []slog.Attr{slog.String("error", err.Error())}
	})
	return s.debugError(errInternal(), err)
}

func (s *Server) toError(ctx context.Context, m *Method, err error) *Error {
	if e, ok := asCoded(err); ok {
		return e
	}
	s.faults.log(ctx, "handler error", m.Name, func() []slog.Attr {
		return []slog.Attr{slog.String("error", err.Error())}
	})
	return s.debugError(errServer(), err)
}

func (s *Server) debugError(base *Error, err error) *Error {
	if !s.cfg.debug {
		return base
	}
	return &Error{Code: base.Code, Message: base.Message, Data: map[string]string{"error": err.Error()}}
}

// resultResponse returns the response carrying result.
func resultResponse(id, result []byte) []byte {
	buf := make([]byte, 0, len(`{"jsonrpc":"2.0","result":,"id":}`)+len(result)+len(id))
	buf = append(buf, `{"jsonrpc":"2.0","result":`...)
	buf = append(buf, result...)
	buf = append(buf, `,"id":`...)
	buf = append(buf, id...)
	return append(buf, '}')
}

// errorResponse returns the response carrying e; a nil id is sent as null.
func errorResponse(id []byte, e *Error) []byte {
	b, err := json.Marshal(e)
	if err != nil || !utf8.Valid(b) {
		// A handler's data that cannot be encoded, or that a MarshalJSON
		// method filled with bytes that are not text.
		b, _ = json.Marshal(errInternal())
	}
	return appendEncodedError(nil, id, b)
}

// appendEncodedError appends a response carrying the encoded error object
// e; a nil id is sent as null.
func appendEncodedError(buf, id, e []byte) []byte {
	if id == nil {
		id = []byte("null")
	}
	buf = slices.Grow(buf, len(`{"jsonrpc":"2.0","error":,"id":}`)+len(e)+len(id))
	buf = append(buf, `{"jsonrpc":"2.0","error":`...)
	buf = append(buf, e...)
	buf = append(buf, `,"id":`...)
	buf = append(buf, id...)
	return append(buf, '}')
}
