package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// The fan-out benchmarks send b.N values from one producer (the benchmark
// loop) to each of n subscribers, one per WebSocket connection, and
// report notifications per second. Warden's path: Subscription.Send
// (encode, queue), the session's pump, the connection's budget and
// writer. The baseline is a raw gorilla loop per connection writing the
// same frames from a channel. Both producers pause while they are more
// than window values ahead of the slowest reader, so neither measures a
// queue filling up.

const fanoutWindow = 1024

type benchValue struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

// fanoutReaders dials n connections with dial and counts the notifications
// each reads.
type fanoutReaders struct {
	counts []atomic.Int64
	wg     sync.WaitGroup
}

func (r *fanoutReaders) minCount() int64 {
	m := r.counts[0].Load()
	for i := range r.counts {
		m = min(m, r.counts[i].Load())
	}
	return m
}

func (r *fanoutReaders) read(i int, ws *websocket.Conn, want int64) {
	defer r.wg.Done()
	for r.counts[i].Load() < want {
		if _, _, err := ws.NextReader(); err != nil {
			return
		}
		r.counts[i].Add(1)
	}
}

func (r *fanoutReaders) waitAhead(sent int64) {
	for sent-r.minCount() > fanoutWindow {
		runtime.Gosched()
	}
}

func BenchmarkSubscriptionFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("raw-gorilla/subscribers=%d", n), func(b *testing.B) { benchRawFanout(b, n) })
		b.Run(fmt.Sprintf("warden/subscribers=%d", n), func(b *testing.B) { benchWardenFanout(b, n) })
	}
}

func benchWardenFanout(b *testing.B, n int) {
	var mu sync.Mutex
	var subs []*rpc.Subscription[benchValue]
	opened := make(chan struct{}, n)
	srv := rpc.NewServer(rpc.WithSubscriptionBuffer(4 * fanoutWindow))
	srv.MustRegisterSubscription("feed", func(ctx context.Context, sub *rpc.Subscription[benchValue]) error {
		mu.Lock()
		subs = append(subs, sub)
		mu.Unlock()
		opened <- struct{}{}
		<-ctx.Done()
		return nil
	})
	h := transport.NewHandler(srv)
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()
	url := "ws" + strings.TrimPrefix(ts.URL, "http")

	r := &fanoutReaders{counts: make([]atomic.Int64, n)}
	for i := 0; i < n; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"feed_subscribe"}`))
		if _, _, err := ws.ReadMessage(); err != nil { // the id
			b.Fatal(err)
		}
		<-opened
		r.wg.Add(1)
		go r.read(i, ws, int64(b.N))
	}
	v := benchValue{Text: "a value of a few dozen bytes, as events are"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		v.N = i
		for _, sub := range subs {
			if err := sub.Send(v); err != nil {
				b.Fatal(err)
			}
		}
		r.waitAhead(int64(i))
	}
	r.wg.Wait()
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "notifications/s")
}

func benchRawFanout(b *testing.B, n int) {
	up := websocket.Upgrader{}
	feeds := make(chan chan []byte, n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		feed := make(chan []byte, 4*fanoutWindow)
		feeds <- feed
		for msg := range feed {
			if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	r := &fanoutReaders{counts: make([]atomic.Int64, n)}
	var chans []chan []byte
	for i := 0; i < n; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		chans = append(chans, <-feeds)
		r.wg.Add(1)
		go r.read(i, ws, int64(b.N))
	}
	prefix := []byte(`{"jsonrpc":"2.0","method":"feed_subscription","params":{"subscription":"0x0123456789abcdef0123456789abcdef","result":`)
	v := benchValue{Text: "a value of a few dozen bytes, as events are"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		v.N = i
		for _, ch := range chans {
			// The same work per frame as Send: encode, frame, hand over.
			val, _ := json.Marshal(v)
			msg := make([]byte, 0, len(prefix)+len(val)+2)
			msg = append(append(append(msg, prefix...), val...), "}}"...)
			ch <- msg
		}
		r.waitAhead(int64(i))
	}
	r.wg.Wait()
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "notifications/s")
	for _, ch := range chans {
		close(ch)
	}
}

// BenchmarkSubscriptionIdleMemory opens 1,000 subscriptions on 10
// connections and reports what each costs the process while idle: heap
// bytes and goroutines (its producer, which the application writes, is one).
func BenchmarkSubscriptionIdleMemory(b *testing.B) {
	const conns, perConn = 10, 100
	srv := rpc.NewServer(rpc.WithSubscriptionLimit(perConn))
	srv.MustRegisterSubscription("idle", func(ctx context.Context, sub *rpc.Subscription[int]) error {
		<-ctx.Done()
		return nil
	})
	h := transport.NewHandler(srv)
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()
	url := "ws" + strings.TrimPrefix(ts.URL, "http")
	var wss []*websocket.Conn
	for i := 0; i < conns; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		wss = append(wss, ws)
	}
	measure := func() (uint64, int) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, runtime.NumGoroutine()
	}
	time.Sleep(1500 * time.Millisecond) // the connections' idle workers exit
	heap0, g0 := measure()
	for _, ws := range wss {
		for j := 0; j < perConn; j++ {
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"idle_subscribe"}`))
			if _, _, err := ws.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
	}
	time.Sleep(1500 * time.Millisecond)
	heap1, g1 := measure()
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(float64(int64(heap1)-int64(heap0))/(conns*perConn), "heap-B/subscription")
	b.ReportMetric(float64(g1-g0)/(conns*perConn), "goroutines/subscription")
}
