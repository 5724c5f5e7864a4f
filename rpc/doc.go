// Package rpc is Warden's JSON-RPC 2.0 engine: a registry of methods that
// are plain Go functions, and the dispatch of messages to them. It imports
// only the standard library; transports, JWT and OpenRPC live in other
// packages and plug in through the types here.
//
// Some names recur in the openrpc package for other things: [Server] here
// is the engine, openrpc.Server a URL listed in a document; [Method],
// [Error] and [Example] here are what a method is, returns and documents,
// and openrpc's namesakes are their entries in an OpenRPC document, built
// from them.
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
// All reflection happens in [Server.Register] (compile.go): it checks the
// function's shape, decides which arguments are injected and which are
// params, and compiles the method into closures, as jrpc2's handler.New
// does: one that reads its results as its shape says, one per provider it
// uses, a slot per param, and its security check, all wrapped once in its
// interceptor chain. A call only runs what was prepared then. The [Method]
// that the registry lists describes the method; what a call runs is kept
// apart from it. Register returns an error naming the method for an unsupported
// shape, missing param names, a duplicate name, a requirement naming an
// undeclared scheme or a malformed scope, and a name starting with "rpc.",
// which is reserved for the framework ([Server.RegisterReserved]).
//
// # What a message goes through
//
// [Server.Handle] takes one message and returns the response, or nil:
//
//  1. The message must be one JSON value. Only JSON white space (space,
//     tab, CR, LF; RFC 8259) may surround it or come between its tokens:
//     a form feed, a vertical tab or a Unicode space is a Parse error,
//     -32700, id null, as is trailing data. It may nest no deeper than the
//     depth limit (64; deeper is -32600).
//  2. An array is a batch. Empty is one -32600. A batch is answered with
//     an array, in request order, holding one response for each item that
//     gets one; a batch of notifications gets no response at all. See
//     Batches below for its limits.
//  3. Each request object is read by a small scanner (wire.go), not by
//     encoding/json: "jsonrpc" must be exactly "2.0", "method" a string,
//     "params" an array, an object, null or absent, and "id" a string, a
//     number, null or absent. The id is echoed byte for byte, so large
//     integers and fractions come back exactly as sent. An object or array
//     id is -32600 with id null, and so is a string id that is not valid
//     Unicode text (see Wire text). A duplicate member ("method" twice,
//     say) is -32600 with id null: Warden refuses to choose, so that an
//     interceptor or a log can never see a different request than dispatch
//     does. Other invalid requests are answered with their id when it is
//     readable. Unknown members are ignored. A request without an id is a
//     notification: it gets no response, even on error, unless the request
//     itself is invalid.
//  4. The method is looked up and its interceptor chain runs; a method
//     that is not registered runs the chain of a stand-in whose innermost
//     step is -32601, so that interceptors can count it (see
//     [Method.Registered]). Innermost, in this order: the requirement is checked against the
//     credentials in the context; the params are decoded; injected arguments
//     are resolved; the function is called.
//  5. Errors become responses. An *[Error], or any error implementing
//     [Coder], keeps its code, message and data. An *[AuthError] becomes
//     -32001 with its reason. Any other error is logged and sent as -32000
//     "Server error". A panic is logged with its stack and sent as -32603
//     "Internal error", as is a result that cannot be encoded. [WithDebug]
//     adds the error's text to data. A client can cause these failures at
//     will (+Inf from subtract [1.7e308,-1.7e308] cannot be encoded), so
//     each method logs each kind at most once a second, at Error; the next
//     line it writes carries "suppressed", the count of lines dropped
//     meanwhile.
//
// [Server.Call] runs one call from a method name and params already taken
// apart, as openrpc does to check rpc.discover's requirement for GET
// /openrpc.json. It holds the params to the rules above (-32700 for bytes
// that are not one JSON value, -32600 for a value that is not an array, an
// object or null, or that is nested too deep) and then runs step 4. Its
// error is always an *[Error].
//
// # Batches
//
// Items run concurrently, at most [WithBatchConcurrency] at once (8), and
// their responses keep request order. A [BatchInterceptor] wraps the
// running of a batch's items, to give them a common parent span, say. Two limits bound what a batch may
// cost:
//
//   - Items: a batch holds at most [WithBatchLimit] items (100). None of a
//     larger batch runs. Its items are only scanned, and it is answered
//     with an array of -32600 errors whose data says the limit: one for
//     each call, with that call's id, so that every client can match every
//     call it is waiting for (go-ethereum's client and jrpc2 drop an answer
//     they cannot match, and wait for their deadline). Notifications get
//     nothing, as they would if they ran. Items that are not valid requests
//     share one error with id null, which no client can match anyway; and
//     when no item gets an error (every one is a notification), the array
//     holds that one error alone, so the refusal is never silent. The
//     answer is at most about four times the message's size.
//   - Response size: a batch's responses may total at most
//     [WithBatchResponseLimit] bytes (1 MiB). They are counted in request
//     order, whatever order the items finish in, so the outcome never
//     depends on scheduling. The response that passes the limit is still
//     sent; every item after it is not run, or, if it already ran
//     alongside, its response is dropped. Each call among them gets -32005
//     "Limit exceeded" with data {"limit":"batch_response_bytes","max":N};
//     notifications get nothing. This is go-ethereum's BatchResponseMaxSize,
//     with a different code: go-ethereum sends -32003, which is Warden's
//     Forbidden, and -32005 is the code Warden gives every cap, with data
//     naming it. While the finished responses already pass the limit, no
//     new item starts, so a batch holds at most the limit plus what its
//     running items return.
//
// # Wire text
//
// Every answer is valid JSON text, UTF-8 (RFC 8259, section 8.1), and so a
// valid WebSocket text frame (RFC 6455). What a client sent goes back
// only in the id, byte for byte, so a string id must be valid Unicode:
// valid UTF-8 with no escape of an unpaired surrogate ("\ud800"). The
// grammar allows such an escape, but strict decoders (Rust's serde_json,
// for one) refuse it, and the client could not read its own answer. Such
// an id is -32600 with id null. A method name must be valid Unicode too;
// it is not echoed, so that -32600 carries the request's id. Params are
// held to the same rule, with -32602 naming the param. A handler's result
// or error data that would go out as bytes that are not UTF-8 (from a
// json.RawMessage or a MarshalJSON method; encoding/json repairs
// ordinary strings) becomes -32603.
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
//
// # Sessions
//
// A connection that outlives one request (a WebSocket, or any transport of
// your own) keeps a [Session]: the credentials bound to it, re-checked
// only for the calls that need them, and a way to send the client
// notifications. Methods take a *Session argument ([ProvideSession]); it
// is nil over HTTP. A client signs a connection in with rpc.authenticate,
// which [RegisterAuthenticate] adds for the schemes that read a bare token
// ([TokenScheme]).
//
// # Subscriptions
//
// [Server.RegisterSubscription] registers a namespace NS: NS_subscribe,
// NS_unsubscribe, and the notifications NS_subscription, in go-ethereum's
// wire format, so that its client works unchanged. NS_subscribe answers
// an opaque id ("0x" and 32 hex digits); values follow as
//
//	{"jsonrpc":"2.0","method":"NS_subscription","params":{"subscription":ID,"result":VALUE}}
//
// and NS_unsubscribe [ID] answers true, after which nothing more is sent
// for it. The method is a function like any other, with one more
// argument, a *[Subscription][T], and an error for result. Its
// requirement, params and injected arguments are handled as for a call;
// then it runs in a goroutine of its own and sends with
// [Subscription.Send], which never waits for the client, until its
// context is done. Subscriptions need a [Session] that can send
// notifications; without one (over HTTP) subscribing is -32600, as
// rpc.authenticate is.
//
// A subscription lives no longer than the credentials it was opened with,
// and is rechecked as a call would be: when the session binds or unbinds
// credentials ([Session.Bind], [Session.Clear]...), at the moment a
// credential expires ([ExpiryScheme], else [ExpiringCredential]: a timer,
// not the next call), and whenever a scheme reports that credentials may
// have been revoked ([CredentialWatcher]; security.Bearer passes on its
// RevocationCache's changes, including those made by other instances).
// When a check fails the subscription ends at once: its queued values are
// dropped, its producer's context is canceled, and one last notification
// carries the error instead of a result:
//
//	{"jsonrpc":"2.0","method":"NS_subscription","params":{"subscription":ID,"error":{"code":-32001,"message":"Unauthorized","data":{"reason":"expired"}}}}
//
// The reasons are those of a call: "expired" or "revoked" from the
// scheme, "missing" after sign-out, and -32003 when a credential rebound
// in-band lacks a scope the method requires. A credential of another
// subject rebound under the same scheme ([SubjectCredential]) ends it as
// "revoked"; one of the same subject (a refreshed token) keeps it, and
// its expiry is followed from then on. A producer that returns an error
// ends its subscription with that error in the last notification; one
// that returns nil ends it without a word, as go-ethereum does.
//
// Costs are bounded. A session holds at most [WithSubscriptionLimit]
// subscriptions (64); one more is -32005 with data
// {"limit":"subscriptions","max":64}. A subscription holds at most
// [WithSubscriptionBuffer] values (256) that its client has not been
// sent: a client too slow to take them has the subscription end with
// -32005, data {"limit":"subscription_buffer","max":256}, and its
// producer's next Send returns [ErrSubscriptionEnded]; the connection and
// its other subscriptions go on. Each session writes its notifications
// from one goroutine, taking its subscriptions in turn, through the
// transport's send function, so the transport's own limits (WebSocket's
// byte budget and write timeout) apply and only that goroutine waits on
// them. A transport wraps each message's context in [HoldNotifications]
// so that a subscription's first value follows the answer carrying its
// id, calls [CancelHeld] when it replaces that answer (WebSocket's -32005
// over the byte budget), since the client never learned the id, and calls
// [Session.Close] when the connection ends, which ends its
// subscriptions without a notification and waits for their producers.
package rpc
