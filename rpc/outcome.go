package rpc

import "context"

// ErrorOf returns the error object a caller is sent when a method returns
// err, for interceptors that report outcomes: nil for nil; the error's own
// code and message for an [*Error], an [*AuthError] or a [Coder]; and
// CodeServerError, "Server error", for an error that carries no code. It
// does not log, and it does not add what [WithDebug] adds. The value
// returned must not be changed.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := asCoded(err); ok {
		return e
	}
	return errServer()
}

// Outcomes of the security check, as [AuthResult] names them. The others
// are the reasons of a CodeUnauthorized error: [ReasonMissing],
// [ReasonInvalid], [ReasonExpired] and [ReasonRevoked].
const (
	AuthOK        = "ok"        // the credentials met the requirement
	AuthForbidden = "forbidden" // valid credentials without the required scopes
	AuthUnknown   = "unknown"   // CodeInternalError: the check may not have decided
)

// AuthResult names what the security check of a call to m came to, given
// the error the call returned: "" for a public method or a method that is
// not registered; the reason of a CodeUnauthorized error; [AuthForbidden];
// [AuthUnknown] for CodeInternalError, which the check sends when it cannot
// decide and the engine sends for a panic; else [AuthOK], since a call that
// failed in its handler passed the check. It never names the caller.
func AuthResult(m *Method, err error) string {
	if m == nil || m.Public() {
		return ""
	}
	e := ErrorOf(err)
	if e == nil {
		return AuthOK
	}
	switch e.Code {
	case CodeUnauthorized:
		switch reason := unauthorizedReason(e); reason {
		case ReasonMissing, ReasonExpired, ReasonRevoked:
			return reason
		}
		return ReasonInvalid // the engine's reading of an empty or unknown reason
	case CodeForbidden:
		return AuthForbidden
	case CodeInternalError:
		return AuthUnknown
	}
	return AuthOK
}

func unauthorizedReason(e *Error) string {
	switch d := e.Data.(type) {
	case UnauthorizedData:
		return d.Reason
	case *UnauthorizedData:
		if d != nil {
			return d.Reason
		}
	}
	return ""
}

// Registered reports whether m is a registered method. An interceptor is
// also given calls to methods that are not registered, so that it can
// count and log them; their Method is not registered, has an empty Name
// and no requirement, and the call fails with CodeMethodNotFound. The
// name the caller sent is in [Request.Name]: it is the caller's to choose,
// and a metric labelled with it would grow without bound.
func (m *Method) Registered() bool { return m.Name != "" }

// BatchInterceptor wraps the running of a batch's items, to add behaviour
// around a whole batch, such as a span that is the parent of each item's.
// It is given the batch's context and its number of items, and must call
// run once before it returns, with the context the items are to run in; each item then
// passes through the [Interceptor] chain as a single call does. A batch
// refused whole, over [WithBatchLimit], runs nothing and is not seen.
// BatchInterceptors are given to [NewServer] with
// [WithBatchInterceptors].
type BatchInterceptor func(ctx context.Context, size int, run func(ctx context.Context))

// WithBatchInterceptors adds batch interceptors. The first one given is the
// outermost.
func WithBatchInterceptors(bis ...BatchInterceptor) Option {
	return func(c *config) { c.batchInterceptors = append(c.batchInterceptors, bis...) }
}

// runBatch runs run inside the batch interceptors. If one fails to call
// run, the items run anyway, in the context it was given: a batch is
// always answered. If one calls it twice, the second call does nothing.
func (s *Server) runBatch(ctx context.Context, size int, run func(context.Context)) {
	if len(s.cfg.batchInterceptors) == 0 {
		run(ctx)
		return
	}
	ran := false
	once := func(ctx context.Context) {
		if !ran {
			ran = true
			run(ctx)
		}
	}
	s.wrapBatch(ctx, 0, size, once)
	once(ctx)
}

func (s *Server) wrapBatch(ctx context.Context, i, size int, run func(context.Context)) {
	if i == len(s.cfg.batchInterceptors) {
		run(ctx)
		return
	}
	s.cfg.batchInterceptors[i](ctx, size, func(ctx context.Context) { s.wrapBatch(ctx, i+1, size, run) })
}
