package main

import (
	"context"
	"net/http"
	"net/netip"
)

type clientAddrKey struct{}

// withClientAddr puts the client's address in the request's context, where
// methods find it with clientAddr: the rpc engine never sees the
// *http.Request. WebSocket calls inherit the handshake's context, so they
// carry it too. It is the TCP peer; behind a reverse proxy, replace it with
// the proxy's forwarded address, trusting only your own proxy.
func withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientAddrKey{}, addrKey(r.RemoteAddr))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// addrKey is the throttling key of a peer address: the IPv4 address, or
// the /64 network of an IPv6 address, which one client usually holds whole.
func addrKey(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return remote
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// clientAddr returns the address withClientAddr recorded, or "".
func clientAddr(ctx context.Context) string {
	s, _ := ctx.Value(clientAddrKey{}).(string)
	return s
}
