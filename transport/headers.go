package transport

import (
	"context"
	"net/http"
)

type headersKey struct{}

// HeadersFrom returns the headers of the HTTP request that carried the
// call: the POST's, or, for every call on a WebSocket connection, the
// handshake's. It returns nil for a context that a [Handler] did not make.
// It is there for interceptors that read what a caller sent beside the
// message, such as a W3C traceparent (see the otelrpc module). The headers
// include Authorization: read only the ones you need, and never log them
// whole. They must not be changed.
func HeadersFrom(ctx context.Context) http.Header {
	h, _ := ctx.Value(headersKey{}).(http.Header)
	return h
}

func withHeaders(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, headersKey{}, h)
}
