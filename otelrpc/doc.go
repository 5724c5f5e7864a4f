// Package otelrpc traces and measures Warden's JSON-RPC calls with
// OpenTelemetry. [New] returns a [Telemetry] for one server; give its
// interceptor to rpc.NewServer first, so that it times everything the
// other interceptors do, and its batch interceptor with it:
//
//	tel := otelrpc.New(otelrpc.WithTracerProvider(tp), otelrpc.WithMeterProvider(mp))
//	srv := rpc.NewServer(
//		rpc.WithInterceptors(tel.Interceptor(), myInterceptor),
//		rpc.WithBatchInterceptors(tel.BatchInterceptor()))
//	h := transport.NewHandler(srv)
//	tel.ObserveHandler(h)      // open WebSocket connections, limits hit
//	tel.ObserveServer(srv)     // open subscriptions
//	tel.ObserveRevocations(rc) // a *security.RevocationCache's lag
//
// It is a module of its own, so that OpenTelemetry enters the build only
// of the programs that import it.
//
// # Spans
//
// Each call gets one span of kind SERVER, named after the method. Names
// follow the OpenTelemetry semantic conventions for JSON-RPC
// (https://opentelemetry.io/docs/specs/semconv/rpc/json-rpc/, status
// Development, which replaced the rpc.jsonrpc.* names of earlier
// versions):
//
//	rpc.system.name           "jsonrpc"
//	rpc.method                the method's name
//	jsonrpc.protocol.version  "2.0"
//	jsonrpc.request.id        the id, a string's text or a number as sent;
//	                          absent for a notification or a null id
//	rpc.response.status_code  the error code, as a string ("-32602"); on errors only
//	error.type                the same; on errors only
//	warden.auth.result        see below
//
// A failed call sets the span's status to Error, with the message the
// caller is sent. Params, results and tokens are never recorded: a span
// says what was called and how it ended, not with what. The caller's
// subject is recorded, as enduser.id, only with [WithSubject].
//
// warden.auth.result is the security outcome of a method with a
// requirement, as rpc.AuthResult reads it from the call's error, never
// from its credentials: "missing", "invalid", "expired" or "revoked" for
// a -32001 (its data.reason), "forbidden" for a -32003, "unknown" for a
// -32603, since the check may not have decided, and "ok" otherwise. A
// public method has none.
//
// A call to a method that is not registered is named "jsonrpc", its
// rpc.method is "_OTHER" ([OtherMethod]) and rpc.method_original holds the
// name sent, cut to 128 bytes; metrics carry "_OTHER" only, so that their
// series stay bounded whatever names callers send. Messages that are not
// requests (a parse error, an invalid request) get no span.
//
// A batch gets a span of its own, "jsonrpc.batch" ([BatchSpanName]), with
// rpc.system.name, jsonrpc.protocol.version and warden.batch.size, the
// number of items; each of its calls' spans is its child. A batch refused
// whole (over rpc.WithBatchLimit) runs nothing and gets no span.
//
// # Trace context
//
// A call continues its caller's trace. The interceptor reads the headers
// that the transport put in the context ([transport.HeadersFrom]: the
// POST's, or the WebSocket handshake's) with the propagator of
// [WithPropagator], W3C Trace Context by default. Without those headers,
// or without a traceparent in them, a span already in the context (from
// an HTTP middleware, say) is the parent.
//
// Every call on a WebSocket connection then joins the handshake's trace,
// however long the connection stays open. [WithSessionLinks] makes each
// such call the root of a trace of its own, linked to the handshake's.
//
// # Metrics
//
// After the OpenTelemetry RPC metrics conventions
// (https://opentelemetry.io/docs/specs/semconv/rpc/rpc-metrics/):
//
//	rpc.server.call.duration  histogram, seconds, with rpc.system.name,
//	                          rpc.method, rpc.response.status_code,
//	                          error.type and warden.auth.result as on the span
//	warden.rpc.server.active_calls  up-down counter, {call}, the calls
//	                          running now, with rpc.system.name and rpc.method
//	warden.rpc.server.websocket.connections  up-down counter, {connection},
//	                          of the handlers given to ObserveHandler
//	warden.rpc.server.subscriptions  up-down counter, {subscription}, of the
//	                          servers given to ObserveServer
//	warden.security.revocations.lag  gauge, seconds, how long ago the feeds
//	                          given to ObserveRevocations last read their log
//	warden.rpc.server.limit_hits  counter, {hit}, the times the handlers'
//	                          limits were hit, by warden.limit (body_bytes,
//	                          connections, message_bytes, message_timeout,
//	                          partial_budget, invalid_utf8, pong_timeout,
//	                          write_timeout, connection_budget)
//
// The conventions define none of the last five, hence the warden prefix.
// The gauges are read at collection: they cost nothing between scrapes.
//
// # Cost
//
// A span costs what the SDK makes it cost; the interceptor adds little of
// its own: each method's attributes and metric series are made on its
// first call, and a span that is not recording (not sampled) gets no
// attributes. With an SDK that samples every span, tracing dominates the
// cost of a cheap call; a production sampler
// (sdktrace.ParentBased(sdktrace.TraceIDRatioBased(p))) keeps it small.
// The README gives figures.
package otelrpc
