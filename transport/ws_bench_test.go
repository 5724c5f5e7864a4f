package transport_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// The WebSocket benchmarks drive both servers with the same pipelining
// client: one goroutine writes b.N subtract calls without waiting, another
// reads the b.N responses. So the difference between the two is the
// server's: Warden's reader, per-call goroutines, engine and single writer
// against a raw gorilla loop that reads, decodes, encodes and writes in
// turn.

func BenchmarkWebSocketSubtract(b *testing.B) {
	b.Run("raw-gorilla", func(b *testing.B) {
		up := websocket.Upgrader{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			for {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				var req struct {
					JSONRPC string          `json:"jsonrpc"`
					Method  string          `json:"method"`
					Params  [2]float64      `json:"params"`
					ID      json.RawMessage `json:"id"`
				}
				if err := json.Unmarshal(msg, &req); err != nil {
					return
				}
				out, _ := json.Marshal(struct {
					JSONRPC string          `json:"jsonrpc"`
					Result  float64         `json:"result"`
					ID      json.RawMessage `json:"id"`
				}{"2.0", req.Params[0] - req.Params[1], req.ID})
				if err := ws.WriteMessage(websocket.TextMessage, out); err != nil {
					return
				}
			}
		}))
		defer srv.Close()
		pipeline(b, srv.URL)
	})
	b.Run("warden", func(b *testing.B) {
		s := rpc.NewServer()
		s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
		h := transport.NewHandler(s)
		srv := httptest.NewServer(h)
		defer srv.Close()
		defer shutdown(b, h)
		pipeline(b, srv.URL)
	})
}

func pipeline(b *testing.B, url string) {
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	msgs := make([][]byte, 256)
	for i := range msgs {
		msgs[i] = []byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"subtract","params":[%d,23],"id":%d}`, i+42, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			if err := ws.WriteMessage(websocket.TextMessage, msgs[i%len(msgs)]); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < b.N; i++ {
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkIdleConnections opens 2,000 WebSocket connections that then sit
// idle, and reports what the server holds for each: heap and goroutine
// stacks. The clients are bare TCP connections that did the handshake by
// hand, with no goroutine of their own, so nearly all of the growth is the
// server's.
func BenchmarkIdleConnections(b *testing.B) {
	const n = 2000
	for i := 0; i < b.N; i++ {
		s := rpc.NewServer()
		s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
		h := transport.NewHandler(s)
		srv := httptest.NewServer(h)
		addr := strings.TrimPrefix(srv.URL, "http://")

		before := memInUse()
		conns := make([]net.Conn, 0, n)
		for j := 0; j < n; j++ {
			c, err := rawHandshake(addr)
			if err != nil {
				b.Fatalf("connection %d: %v", j, err)
			}
			conns = append(conns, c)
		}
		time.Sleep(200 * time.Millisecond) // let every server goroutine park
		after := memInUse()
		b.ReportMetric(float64(after-before)/n, "bytes/conn")

		for _, c := range conns {
			c.Close()
		}
		shutdown(b, h)
		srv.Close()
	}
}

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func rawHandshake(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return c, nil
}
