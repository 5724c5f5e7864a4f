package main

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

type clientAddrKey struct{}

// withClientAddr puts the client's address in the request's context, where
// methods find it with clientAddr: the rpc engine never sees the
// *http.Request. WebSocket calls inherit the handshake's context, so they
// carry it too.
//
// The address is the TCP peer's. Behind a reverse proxy every request
// would seem to come from the proxy, and one throttle budget would serve
// every client; so when the peer is one of proxies, the client is the
// right-most address of X-Forwarded-For that is not itself a trusted
// proxy. From any other peer X-Forwarded-For is ignored: a client could
// write anything there.
func withClientAddr(next http.Handler, proxies []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientAddrKey{}, clientAddrOf(r, proxies))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func clientAddrOf(r *http.Request, proxies []netip.Prefix) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	client := ap.Addr().Unmap()
	if !trusted(client, proxies) {
		return addrKey(client)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage from before our proxies: the last good hop is the client
		}
		client = a.Unmap()
		if !trusted(client, proxies) {
			break
		}
	}
	return addrKey(client)
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseProxies reads -trusted-proxy: addresses or CIDR prefixes, separated
// by commas.
func parseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxy: %q is neither an address nor a CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// addrKey is the throttling key of an address: the IPv4 address, or the
// /64 network of an IPv6 address, which one client usually holds whole.
func addrKey(a netip.Addr) string {
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
