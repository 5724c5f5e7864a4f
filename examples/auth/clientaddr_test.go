package main

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies, err := parseProxies("10.0.0.0/8, 192.0.2.7,2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct IPv4", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"mapped IPv4", "[::ffff:10.1.2.3]:80", nil, "10.1.2.3"},
		{"IPv6 keyed by /64", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"IPv6 same /64", "[2001:db8:1:2:ff:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"untrusted peer's X-Forwarded-For is ignored", "203.0.113.9:1", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy: the client it names", "10.1.1.1:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", "10.1.1.1:1", []string{"198.51.100.1, 192.0.2.7", "10.2.2.2"}, "198.51.100.1"},
		{"a spoofed hop left of the real client is not believed", "10.1.1.1:1", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"garbage stops the walk", "10.1.1.1:1", []string{"nonsense, 198.51.100.1"}, "198.51.100.1"},
		{"trusted proxy without the header", "192.0.2.7:1", nil, "192.0.2.7"},
		{"IPv6 client through an IPv6 proxy", "[2001:db8:ffff::1]:1", []string{"2001:db8:5:6::9"}, "2001:db8:5:6::/64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddrOf(r, proxies); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := parseProxies("10.0.0.0/8,not-an-ip"); err == nil {
		t.Error("a bad -trusted-proxy was accepted")
	}
}
