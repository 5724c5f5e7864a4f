package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"sync"
)

// Handle processes one JSON-RPC message, a single request or a batch, and
// returns the response to send, or nil when there is none (a notification,
// or a batch of them). Credentials for the security check are read from ctx
// (see [WithCredentials]); the transport attaches them. Handle never panics
// because of its input or a handler.
func (s *Server) Handle(ctx context.Context, msg []byte) []byte {
	msg = bytes.TrimSpace(msg)
	valid, shallow := validMessage(msg, s.cfg.depthLimit)
	if !valid {
		return appendError(nil, nil, errParse())
	}
	if !shallow {
		return appendError(nil, nil, invalidRequest("nesting too deep"))
	}
	if msg[0] == '[' {
		return s.handleBatch(ctx, msg)
	}
	return s.handleOne(ctx, msg, nil)
}

func (s *Server) handleBatch(ctx context.Context, msg []byte) []byte {
	n := 0
	eachElement(msg, func([]byte) bool { n++; return n <= s.cfg.batchLimit })
	if n == 0 {
		return appendError(nil, nil, invalidRequest("empty batch"))
	}
	if n > s.cfg.batchLimit {
		return appendError(nil, nil, invalidRequest(fmt.Sprintf("batch has more than %d items", s.cfg.batchLimit)))
	}
	items := make([][]byte, 0, n)
	eachElement(msg, func(v []byte) bool { items = append(items, v); return true })

	out := make([][]byte, n)
	if n == 1 || s.cfg.batchConcurrency == 1 {
		for i, it := range items {
			out[i] = s.handleOne(ctx, it, nil)
		}
	} else {
		sem := make(chan struct{}, s.cfg.batchConcurrency)
		var wg sync.WaitGroup
		for i, it := range items {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				out[i] = s.handleOne(ctx, it, nil)
			}()
		}
		wg.Wait()
	}

	size := 2
	for _, r := range out {
		size += len(r) + 1
	}
	resp := make([]byte, 0, size)
	resp = append(resp, '[')
	for _, r := range out {
		if r == nil {
			continue
		}
		if len(resp) > 1 {
			resp = append(resp, ',')
		}
		resp = append(resp, r...)
	}
	if len(resp) == 1 {
		return nil // every item was a notification
	}
	return append(resp, ']')
}

// handleOne answers one request object, appending to buf.
func (s *Server) handleOne(ctx context.Context, data, buf []byte) []byte {
	env, answer, perr := parseEnvelope(data)
	if perr != nil {
		return appendError(buf, answer, perr)
	}
	m, ok := s.Method(env.method)
	if !ok {
		if env.id == nil {
			return nil
		}
		return appendError(buf, env.id, errNotFound())
	}
	res, rerr := s.invoke(ctx, m, &Request{Method: m, ID: env.id, Params: env.params})
	if env.id == nil {
		return nil
	}
	if rerr != nil {
		return appendError(buf, env.id, rerr)
	}
	return appendResult(buf, env.id, res)
}

// invoke runs the method's chain and encodes its result. It turns every
// failure, a panic included, into the error to send.
func (s *Server) invoke(ctx context.Context, m *Method, req *Request) (res []byte, rerr *Error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.logger.LogAttrs(ctx, slog.LevelError, "handler panic",
				slog.String("method", m.Name), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
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
	if raw, ok := v.(json.RawMessage); ok && json.Valid(raw) {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.cfg.logger.LogAttrs(ctx, slog.LevelError, "result encoding failed",
			slog.String("method", m.Name), slog.String("error", err.Error()))
		return nil, s.debugError(errInternal(), err)
	}
	return b, nil
}

func (s *Server) toError(ctx context.Context, m *Method, err error) *Error {
	if e, ok := asCoded(err); ok {
		return e
	}
	s.cfg.logger.LogAttrs(ctx, slog.LevelError, "handler error",
		slog.String("method", m.Name), slog.String("error", err.Error()))
	return s.debugError(errServer(), err)
}

func (s *Server) debugError(base *Error, err error) *Error {
	if !s.cfg.debug {
		return base
	}
	return &Error{Code: base.Code, Message: base.Message, Data: map[string]string{"error": err.Error()}}
}

// execute is the innermost handler of every method: the security check,
// then params, then injected dependencies, then the call itself.
func (s *Server) execute(ctx context.Context, m *Method, req *Request) (any, error) {
	if err := m.Requirement.check(ctx, CredentialsFrom(ctx)); err != nil {
		return nil, err
	}
	args := make([]reflect.Value, m.numIn)
	if m.hasCtx {
		args[0] = reflect.ValueOf(ctx)
	}
	if m.form == formNone {
		if err := m.bindNone(req.Params, s.cfg.lenient); err != nil {
			return nil, err
		}
	} else if err := m.bind(req.Params, args, s.cfg.lenient); err != nil {
		return nil, err
	}
	if err := m.resolveInjected(ctx, args); err != nil {
		return nil, err
	}
	var out []reflect.Value
	if m.variadic {
		out = m.fn.CallSlice(args)
	} else {
		out = m.fn.Call(args)
	}
	if m.retErr {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
	}
	if m.retVal {
		return out[0].Interface(), nil
	}
	return nil, nil
}

// bindNone checks that a method without params was sent none.
func (m *Method) bindNone(raw []byte, lenient bool) *Error {
	if len(raw) == 0 || lenient {
		return nil
	}
	var bad *Error
	if raw[0] == '[' {
		eachElement(raw, func([]byte) bool {
			bad = InvalidParams("params[0]", "unexpected positional param")
			return false
		})
	} else {
		eachMember(raw, func(key, _ []byte) bool {
			bad = InvalidParams(keyString(key), "unknown param")
			return false
		})
	}
	return bad
}

func appendResult(buf, id, result []byte) []byte {
	buf = append(buf, `{"jsonrpc":"2.0","result":`...)
	buf = append(buf, result...)
	buf = append(buf, `,"id":`...)
	buf = append(buf, id...)
	return append(buf, '}')
}

func appendError(buf, id []byte, e *Error) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		b, _ = json.Marshal(errInternal())
	}
	if id == nil {
		id = []byte("null")
	}
	buf = append(buf, `{"jsonrpc":"2.0","error":`...)
	buf = append(buf, b...)
	buf = append(buf, `,"id":`...)
	buf = append(buf, id...)
	return append(buf, '}')
}
