// Package otelrpc traces and measures Warden's JSON-RPC calls with
// OpenTelemetry. [Interceptor] returns an [rpc.Interceptor]; give it to
// rpc.NewServer with rpc.WithInterceptors, outermost, so that it times
// everything the other interceptors do:
//
//	srv := rpc.NewServer(rpc.WithInterceptors(otelrpc.Interceptor(
//		otelrpc.WithTracerProvider(tp), otelrpc.WithMeterProvider(mp))))
//
// It is a module of its own, so that OpenTelemetry enters the build only
// of the programs that import it.
//
// # Spans
//
// Each call that reaches a registered method gets one span of kind SERVER,
// named after the method. Names follow the OpenTelemetry semantic
// conventions for JSON-RPC (https://opentelemetry.io/docs/specs/semconv/rpc/json-rpc/,
// status Development, which replaced the rpc.jsonrpc.* names of earlier
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
// caller is sent. Params, results, tokens and subjects are never
// recorded: a span says what was called and how it ended, not with what.
//
// warden.auth.result is the security outcome, read from the call's error
// and never from its credentials: "missing", "invalid", "expired" or
// "revoked" for a -32001 (its data.reason), "forbidden" for a -32003, and
// "ok" otherwise for a method with a requirement. A public method that
// returns neither code has none, and neither has a -32603 from a method
// with a requirement, since its check may not have decided.
//
// Calls refused before dispatch (an unknown method, an invalid request,
// a parse error) reach no interceptor and so get no span; that also keeps
// the method names that metrics carry to those that are registered.
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
// # Metrics
//
// Two instruments, after the OpenTelemetry RPC metrics conventions
// (https://opentelemetry.io/docs/specs/semconv/rpc/rpc-metrics/):
//
//	rpc.server.call.duration  histogram, seconds, with rpc.system.name,
//	                          rpc.method, rpc.response.status_code,
//	                          error.type and warden.auth.result as on the span
//	warden.rpc.server.active_calls  up-down counter, {call}, the calls
//	                          running now, with rpc.system.name and rpc.method
//
// The conventions define no in-flight instrument for RPC, hence the
// warden prefix on the second.
package otelrpc
