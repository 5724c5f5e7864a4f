// Package transport serves an [rpc.Server] over HTTP and WebSocket, on one
// path, and provides a Go client for both.
//
// # HTTP
//
// [NewHandler] returns an http.Handler. A POST with Content-Type
// application/json (a charset is allowed) gets 200 with the JSON-RPC
// response, or 204 when every request in it was a notification. Another
// method gets 405 with an Allow header; another content type, 415; a body
// over the limit (1 MiB by default, [WithMaxBodyBytes]), 413, without the
// rest being read, chunked or not. JSON-RPC errors, authentication failures
// included, travel inside a 200. The request's context flows into handlers,
// carrying the request's headers ([HeadersFrom]); a WebSocket's calls carry
// the handshake's.
//
// Before dispatch the handler runs every scheme declared on the server over
// the request's headers ([rpc.Server.Authenticate]) and attaches the outcome
// to the context. A request with no credential, or a bad one, still reaches
// public methods; protected ones answer -32001 or -32003, and in a batch
// each item is judged on its own.
//
// # WebSocket
//
// A WebSocket handshake on the same path is checked before the upgrade, in
// this order: a server shutting down answers 503; an Origin header that
// matches neither the host nor [WithAllowedOrigins], 403; a credential that
// is present but bad or expired, 401 with the reason in plain text; a full
// connection cap ([WithMaxConnections]), 503. No credential gives an
// anonymous connection.
//
// Each connection has an [rpc.Session], which methods receive by
// injection ([rpc.ProvideSession]); the WebSocket transport is one user of
// it, and any transport that keeps connections open can be another.
// Credentials from the handshake are bound to it; a method binds more
// ([rpc.Session.Bind], [rpc.Session.Authenticate]) or clears them
// ([rpc.Session.Clear]), which is how an application's sign_in and
// sign_out work on a connection. A server that registers the reserved
// method rpc.authenticate ([rpc.RegisterAuthenticate]; NewHandler
// registers nothing) lets any client, browsers included, present a token
// in-band to a scheme that implements [rpc.TokenScheme]. Each call
// re-checks the bound credentials it needs with schemes that implement
// [rpc.Revalidator], so an expired token answers -32001 "expired" while
// the connection stays open for a new one, and a revoked token stops
// working on the next call. [rpc.Session.Notify] sends the client
// notifications, under the connection's budget and write timeout.
//
// Subscriptions ([rpc.Server.RegisterSubscription]) live on WebSocket
// connections only; over HTTP, NS_subscribe answers -32600. A
// subscription's values are written after the answer that carries its id,
// one notification per message, under the connection's budget and write
// timeout, by one goroutine per connection that never holds up a
// producer: a client that reads too slowly loses the subscription (-32005)
// rather than the connection. A subscription ends, with a last
// notification saying why, when the credential that opened it expires,
// is revoked or is signed out; closing the connection ends its
// subscriptions and their producers, and [Handler.Shutdown] closes it
// with 1001 as for any connection.
//
// Messages are read by one goroutine and run concurrently, at most 16 per
// connection ([WithConnectionConcurrency]); at the cap, reading pauses.
// Responses are written one at a time, each under a deadline
// ([WithWriteTimeout]): a client that stops reading is disconnected and
// holds up nothing else. A message over 1 MiB ([WithMaxMessageBytes])
// closes the connection with 1009, a binary message with 1003, and a text
// message that is not valid UTF-8 with 1007. The server pings every 30 s
// and closes a connection that has not answered for 60 s ([WithPing]).
// [Handler.Shutdown] refuses new connections, lets calls in flight finish
// and send their responses, and closes every connection with 1001; at its
// deadline it closes them at once and returns.
//
// # Memory
//
// What a client can make the server hold is bounded whatever it does.
// Each WebSocket connection has a byte budget (2 MiB,
// [WithConnectionBudget]) for the messages whose calls run and the answers
// not yet written. While it is spent, nothing more is read from the
// connection; an answer that would overspend it while others wait is
// replaced by -32005 under the same id, so that the client can ask again
// once it has read; and a client that reads nothing is dropped by the
// write timeout. Messages are read in chunks: past their first 4 KiB,
// unfinished ones are charged to a budget shared by all connections
// (64 MiB, [WithPartialBudget]), and a connection whose message would
// overspend it is closed with 1013. A message must be complete within 30 s
// of its start ([WithMessageTimeout]), or the connection closes with 1008.
//
// # Serving
//
// [NewServer] returns an *http.Server for the handler, in the manner of
// go-ethereum's node package, with every timeout set: the request header
// (10 s), the body (30 s, and no slower than 1 KiB/s after 5 s), the
// response (30 s, so that a client that does not read its answer is
// dropped and the answer freed) and the wait for the next request on a
// kept-alive connection (60 s). It caps open HTTP connections (1024): past
// the cap a new connection replaces an idle one, or is closed unread.
// Upgraded WebSocket connections leave the HTTP server's timeouts and cap
// behind and keep the deadlines above.
//
// # Client
//
// [Dial] returns a [Client] for an http(s) or ws(s) URL, with Call, Notify,
// Batch and, over WebSocket, Subscribe ([ClientSubscription]: its values,
// Unsubscribe, and the error that ended it), a static or refreshing bearer token, a handler for server
// notifications, and errors that carry the JSON-RPC code and data as an
// *rpc.Error. It reads responses of up to 16 MiB
// ([WithMaxResponseBytes]), and bounds each WebSocket write by 10 s
// ([WithClientWriteTimeout]) or the call's context, whichever ends first,
// so that a server that stops reading cannot hold every call up.
package transport
