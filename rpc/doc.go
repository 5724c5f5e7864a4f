// Package rpc is Warden's JSON-RPC 2.0 engine: a registry of methods that
// are plain Go functions, and the dispatch of messages to them. It imports
// only the standard library; transports, JWT and OpenRPC live in other
// packages and plug in through the types here.
//
// # Methods
//
// A method is a Go func. An optional [context.Context] comes first. Each of
// its other arguments is either injected (its type has a provider, see
// [Provide]) or a JSON param. It returns (R, error), error, or R.
//
// Params take one of two forms:
//
//   - one struct argument, whose exported fields are the params, named by
//     their json tags, in field order for positional calls;
//   - several arguments, named at registration with [Params]. A variadic
//     last argument takes the remaining positional params, or an array by
//     name.
//
// Every method accepts params by position and by name. A param is optional
// when it is a pointer field, an omitempty or omitzero field, a trailing
// pointer argument, or variadic. A null param counts as absent. A missing
// required param, a value of the wrong type, an unknown named param and an
// extra positional param are CodeInvalidParams, with data naming the param;
// [WithLenientParams] ignores unknown and extra ones instead. Inside a param
// whose type is a struct, unknown fields are rejected the same way.
//
// All reflection happens in [Server.Register]: it checks the function's
// shape, decides which arguments are injected and which are params, and
// builds the method's interceptor chain. A call only runs what was prepared
// then. Register returns an error naming the method for an unsupported
// shape, missing param names, a duplicate name, a requirement naming an
// undeclared scheme or a malformed scope, and a name starting with "rpc.",
// which is reserved for the framework ([Server.RegisterReserved]).
//
// # What a message goes through
//
// [Server.Handle] takes one message and returns the response, or nil:
//
//  1. The message must be one JSON value (trailing data is a Parse error,
//     -32700, id null), nested no deeper than the depth limit (64; deeper is
//     -32600).
//  2. An array is a batch: empty is one -32600; more items than the batch
//     limit (100) is one -32600. Items run concurrently, at most
//     [WithBatchConcurrency] at once, and their responses keep request
//     order. A batch of notifications gets no response at all.
//  3. Each request object is read by a small scanner (wire.go), not by
//     encoding/json: "jsonrpc" must be exactly "2.0", "method" a string,
//     "params" an array, an object, null or absent, and "id" a string, a
//     number, null or absent. The id is echoed byte for byte, so large
//     integers and fractions come back exactly as sent. An object or array
//     id is -32600 with id null. A duplicate member ("method" twice, say) is
//     -32600 with id null: Warden refuses to choose, so that an interceptor
//     or a log can never see a different request than dispatch does.
//     Unknown members are ignored. A request without an id is a
//     notification: it gets no response, even on error, unless the request
//     itself is invalid.
//  4. The method is looked up (-32601 if absent) and its interceptor chain
//     runs. Innermost, in this order: the requirement is checked against the
//     credentials in the context; the params are decoded; injected arguments
//     are resolved; the function is called.
//  5. Errors become responses. An *[Error], or any error implementing
//     [Coder], keeps its code, message and data. An *[AuthError] becomes
//     -32001 with its reason. Any other error is logged and sent as -32000
//     "Server error". A panic is logged with its stack and sent as -32603
//     "Internal error". [WithDebug] adds the error's text to data.
//
// # Security
//
// A method declares a [Requirement]: alternatives, any one of which
// suffices, each naming schemes with the scopes it needs, all of which are
// required. Schemes are declared on the server with [WithScheme]; the
// engine knows nothing of how a scheme reads a token. A transport calls
// [Server.Authenticate] with the request's headers, once per request, and
// attaches the resulting [Credentials] to the context with
// [WithCredentials]. Nothing runs yet: a scheme runs when a call first
// needs its credential, because the method's requirement names it or a
// provider asks for it, and at most once per request, so the items of a
// batch share its outcome. A public method, an unknown method and a request
// refused before its check cost the same with a token as without one. The
// check happens before params are decoded and before injected arguments
// are resolved: a caller without the right credentials learns nothing
// about params. Failing it is -32001 with data.reason ("missing",
// "invalid", "expired" or "revoked"), or -32003 with data.required when
// valid credentials lack scopes. A scheme that cannot decide (it returns an
// error other than *[AuthError], say because its revocation state is
// stale) fails closed: -32603, with the cause logged at Error. Why a
// credential was refused is logged at Debug and never sent. In a batch,
// each item is judged on its own.
package rpc
