package rpc

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
)

// Request is one call as an interceptor sees it. Its fields must not be
// changed. ID and Params may share memory with the transport's read
// buffer, which is reused once the call returns: copy them to keep them
// longer, for an asynchronous log say.
type Request struct {
	Method *Method // the method called: its name, requirement and metadata
	ID     []byte  // the raw JSON id; nil for a notification
	Params []byte  // the raw JSON params, an array or object; nil when absent

	// Name is the method name the caller sent: Method.Name, unless the
	// method is not registered (see [Method.Registered]). Then it is
	// whatever the caller chose, of any length: never a metric's label.
	Name string
}

// Notification reports whether the call expects no response.
func (r *Request) Notification() bool { return r.ID == nil }

// Handler runs a call and returns its result, which the engine encodes as
// JSON, or its error.
type Handler func(ctx context.Context, req *Request) (any, error)

// Interceptor wraps a Handler to add behaviour around every call: logging,
// metrics, rate limits. It sees the call before the security check, so it
// also sees calls that are refused, and it sees calls to methods that are
// not registered, with a Method that reports false from
// [Method.Registered]. Messages that are not requests (a parse error, an
// invalid request) reach no interceptor.
//
// A panic passes through the chain to the engine, which answers -32603;
// an interceptor that reports outcomes records it in a deferred function.
// A result that cannot be encoded as JSON is found after the chain has
// returned: interceptors see the call succeed, the caller gets -32603,
// and the engine logs it.
//
// Interceptors are given to [NewServer] with [WithInterceptors]; each
// method's chain is built once, at registration.
type Interceptor func(next Handler) Handler

func (s *Server) chain(h Handler) Handler {
	for i := len(s.cfg.interceptors) - 1; i >= 0; i-- {
		h = s.cfg.interceptors[i](h)
	}
	return h
}

// BatchInterceptor wraps the running of a batch's items, to add behaviour
// around a whole batch, such as a span that is the parent of each item's.
// It is given the batch's context and its number of items, and must call
// run once, with the context the items are to run in, and return only
// after run has; each item then passes through the [Interceptor] chain as
// a single call does. A batch refused whole, over [WithBatchLimit], runs
// nothing and is not seen.
// BatchInterceptors are given to [NewServer] with
// [WithBatchInterceptors].
type BatchInterceptor func(ctx context.Context, size int, run func(ctx context.Context))

// WithBatchInterceptors adds batch interceptors. The first one given is the
// outermost.
func WithBatchInterceptors(bis ...BatchInterceptor) Option {
	return func(c *config) { c.batchInterceptors = append(c.batchInterceptors, bis...) }
}

// runBatch runs run inside the batch interceptors. A batch is always
// answered, and its items run once: if an interceptor returns without
// having called run, or panics, the items run in the batch's own context
// (outside whatever the interceptors added); a second call of run does
// nothing; and a call of run still in progress on another goroutine is
// waited for.
func (s *Server) runBatch(ctx context.Context, size int, run func(context.Context)) {
	if len(s.cfg.batchInterceptors) == 0 {
		run(ctx)
		return
	}
	var once sync.Once
	do := func(ctx context.Context) { once.Do(func() { run(ctx) }) }
	defer do(ctx)
	defer func() {
		if p := recover(); p != nil {
			s.faults.log(ctx, "batch interceptor panic", "", func() []slog.Attr {
				return []slog.Attr{slog.Any("panic", p), slog.String("stack", string(debug.Stack()))}
			})
		}
	}()
	s.wrapBatch(ctx, 0, size, do)
}

func (s *Server) wrapBatch(ctx context.Context, i, size int, run func(context.Context)) {
	if i == len(s.cfg.batchInterceptors) {
		run(ctx)
		return
	}
	s.cfg.batchInterceptors[i](ctx, size, func(ctx context.Context) { s.wrapBatch(ctx, i+1, size, run) })
}
