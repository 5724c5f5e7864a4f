package transport_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// TestFigures measures what hostile clients make a server with the
// default limits hold, for the notes. It takes about a minute and runs
// only with WARDEN_FIGURES=1:
//
//	WARDEN_FIGURES=1 go test -run TestFigures -v ./transport/
//
// Clients and server share the process; the clients are bare connections
// that hold little of their own, so the growth is nearly all the
// server's. The server's send buffers are small, so that answers stay in
// its memory rather than the kernel's: the worst case. Run each subtest
// in a process of its own (-run 'TestFigures/HTTP'), so that RSS starts
// clean.
func TestFigures(t *testing.T) {
	if os.Getenv("WARDEN_FIGURES") == "" {
		t.Skip("set WARDEN_FIGURES=1 to measure")
	}
	// The size of the probe: a batch of 100 rpc.discover calls.
	const answer = 1_230_000
	t.Run("100 HTTP clients that never read", func(t *testing.T) {
		s := rpc.NewServer()
		s.MustRegister("big", func(n int) string { return strings.Repeat("x", n) }, rpc.Params("n"))
		var entered, returned atomic.Int64
		api := transport.NewHandler(s)
		hs := transport.NewServer(api)
		inner := hs.Handler
		hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered.Add(1)
			defer returned.Add(1)
			inner.ServeHTTP(w, r)
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serve(t, hs, smallBuffers{ln})
		defer hs.Close()
		before := measure()
		var conns []net.Conn
		for i := 0; i < 100; i++ {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.(*net.TCPConn).SetReadBuffer(4 << 10); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			body := fmt.Sprintf(`{"jsonrpc":"2.0","method":"big","params":[%d],"id":1}`, answer)
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
		for entered.Load() < 100 {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		held := measure()
		deadline := time.Now().Add(2 * transport.DefaultResponseTimeout)
		for returned.Load() < 100 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		after := measure()
		t.Logf("peak RSS %.1f MB; while held: %s; after the response timeout (%d of 100 dropped): %s",
			mb(int64(peakRSS())), held.sub(before), returned.Load(), after.sub(before))
		for _, c := range conns {
			c.Close()
		}
	})
	t.Run("100 WebSocket clients that never read", func(t *testing.T) {
		const clients, calls = 100, 4
		var done atomic.Int64
		s := rpc.NewServer()
		s.MustRegister("big", func(n int) string {
			defer done.Add(1)
			return strings.Repeat("x", n)
		}, rpc.Params("n"))
		h := transport.NewHandler(s)
		ts := httptest.NewUnstartedServer(h)
		ts.Listener = smallBuffers{ts.Listener}
		ts.Start()
		defer ts.Close()
		url := "ws" + strings.TrimPrefix(ts.URL, "http")
		before := measure()
		for i := 0; i < clients; i++ {
			ws := dialStalled(t, url)
			for id := 0; id < calls; id++ {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"big","params":[%d],"id":%d}`, answer, id))); err != nil {
					t.Fatal(err)
				}
			}
		}
		for done.Load() < clients*calls {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // the last answers, to the budget
		conns, _ := transport.Usage(h)
		var total, most int64
		for _, c := range conns {
			total += c.Held
			most = max(most, c.Held)
		}
		held := measure()
		t.Logf("held: %s; accounted %.1f MB on %d connections, %.2f MB on the fullest; peak RSS %.1f MB",
			held.sub(before), mb(total), len(conns), mb(most), mb(int64(peakRSS())))
		// The clients still do not read, so Shutdown waits for their writes
		// until its deadline and then closes them; its error says only that.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = h.Shutdown(ctx)
		cancel()
	})
	t.Run("1000 connections each holding a half-sent 1 MiB message", func(t *testing.T) {
		h, url := newBudgetServer(t)
		before := measure()
		var wg sync.WaitGroup
		var closed1013 atomic.Int64
		var conns []*websocket.Conn
		for i := 0; i < 1000; i++ {
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, ws)
			w, err := ws.NextWriter(websocket.TextMessage)
			if err != nil {
				t.Fatal(err)
			}
			// A connection past the budget may be closed (1013) before its
			// half message is all sent: that close is what the reader counts.
			_, _ = w.Write([]byte(strings.Repeat(" ", 512<<10)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := ws.ReadMessage()
				if websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
					closed1013.Add(1)
				}
			}()
		}
		time.Sleep(2 * time.Second)
		held := measure()
		_, partial := transport.Usage(h)
		t.Logf("held: %s; unfinished messages charged %.1f MB; %d of 1000 closed with 1013; peak RSS %.1f MB",
			held.sub(before), mb(partial), closed1013.Load(), mb(int64(peakRSS())))
		for _, ws := range conns {
			ws.Close()
		}
		wg.Wait()
	})
}

type usage struct{ heap, rss uint64 }

func measure() usage {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return usage{m.HeapInuse + m.StackInuse, rss()}
}

func (u usage) sub(v usage) string {
	return fmt.Sprintf("heap+stacks %+.1f MB, RSS %+.1f MB", mb(int64(u.heap)-int64(v.heap)), mb(int64(u.rss)-int64(v.rss)))
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// rss reads the process's resident set from /proc, or returns 0.
func rss() uint64 { return procStatus("VmRSS") }

// peakRSS reads the process's peak resident set from /proc, or returns 0.
func peakRSS() uint64 { return procStatus("VmHWM") }

func procStatus(field string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb uint64
		if n, _ := fmt.Sscanf(sc.Text(), field+": %d kB", &kb); n == 1 {
			return kb << 10
		}
	}
	return 0
}
