package transport_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// smallBuffers accepts connections whose send buffer is small, so that an
// answer to a client that does not read stays in the server's memory
// instead of in the kernel's.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		// Without the small buffer the tests would not test what they say,
		// so the connection is refused instead, and the client's dial fails.
		if err := tc.SetWriteBuffer(16 << 10); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, err
}

// newBudgetServer serves "big" (n bytes of x) and "subtract" with opts,
// over connections with small send buffers.
func newBudgetServer(t testing.TB, opts ...transport.Option) (*transport.Handler, string) {
	t.Helper()
	s := rpc.NewServer()
	s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
	s.MustRegister("big", func(n int) string { return strings.Repeat("x", n) }, rpc.Params("n"))
	return serveSmallBuffers(t, s, opts...)
}

// serveSmallBuffers serves s with opts over connections with small send
// buffers, and returns the handler and its WebSocket URL.
func serveSmallBuffers(t testing.TB, s *rpc.Server, opts ...transport.Option) (*transport.Handler, string) {
	t.Helper()
	h := transport.NewHandler(s, opts...)
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = smallBuffers{ts.Listener}
	ts.Start()
	t.Cleanup(func() {
		shutdown(t, h)
		ts.Close()
	})
	return h, "ws" + strings.TrimPrefix(ts.URL, "http")
}

// dialStalled opens a WebSocket connection with a small receive buffer,
// for a client that will not read.
func dialStalled(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			if err := tc.SetReadBuffer(4 << 10); err != nil { // the Dial fails
				c.Close()
				return nil, err
			}
		}
		return c, err
	}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// poll calls cond every few milliseconds until it returns true, or fails
// the test after a generous bound.
func poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWSConnectionBudgetBoundsNonReadingClients(t *testing.T) {
	const (
		budget  = 256 << 10
		answer  = 64 << 10
		clients = 20
		calls   = 20
	)
	// The write timeout is far off: the budget alone must bound them.
	h, url := newBudgetServer(t, transport.WithConnectionBudget(budget), transport.WithWriteTimeout(time.Minute))
	for i := 0; i < clients; i++ {
		ws := dialStalled(t, url)
		for id := 0; id < calls; id++ {
			msg := fmt.Sprintf(`{"jsonrpc":"2.0","method":"big","params":[%d],"id":%d}`, answer, id)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Each connection may overshoot by one answer and the messages it
	// serves; without the budget each would hold 16 answers.
	const bound = budget + answer + 64<<10
	check := func() (full int) {
		conns, _ := transport.Usage(h)
		for _, c := range conns {
			if c.Held > bound {
				t.Fatalf("a connection holds %d bytes, over its budget of %d", c.Held, budget)
			}
			if c.Held >= budget/2 {
				full++
			}
		}
		return full
	}
	poll(t, "every connection to fill half its budget", func() bool { return check() == clients })
	for i := 0; i < 50; i++ { // and stay within it while the rest of their calls run
		check()
		time.Sleep(2 * time.Millisecond)
	}
}

func TestWSConnectionBudgetReplacesAnswersOverIt(t *testing.T) {
	const budget, answer, calls = 256 << 10, 128 << 10, 8
	h, url := newBudgetServer(t, transport.WithConnectionBudget(budget), transport.WithWriteTimeout(time.Minute))
	ws := dialStalled(t, url)
	for id := 1; id <= calls; id++ {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"big","params":[%d],"id":%d}`, answer, id))); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "every call to be answered", func() bool {
		conns, _ := transport.Usage(h)
		return len(conns) == 1 && conns[0].Answers == calls
	})
	setReadDeadline(t, ws, 10*time.Second)
	seen := map[int]bool{}
	results, limited := 0, 0
	for len(seen) < calls {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d answers: %v", len(seen), err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result string          `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(msg, &resp); err != nil || seen[resp.ID] {
			t.Fatalf("answer %.80s: %v (seen %v)", msg, err, seen)
		}
		seen[resp.ID] = true
		switch {
		case len(resp.Result) == answer:
			results++
		case string(resp.Error) == `{"code":-32005,"message":"Limit exceeded","data":{"retry_after_ms":500}}`:
			limited++
		default:
			t.Fatalf("answer %.200s", msg)
		}
	}
	if results == 0 || limited == 0 {
		t.Fatalf("%d results, %d answers replaced by -32005: want some of each", results, limited)
	}
	if n := h.Stats().Limits.AnswersReplaced; n != uint64(limited) {
		t.Errorf("Stats().Limits.AnswersReplaced = %d, want %d", n, limited)
	}
	// Once read, the connection answers in full again.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"big","params":[10],"id":99}`)); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"result":"xxxxxxxxxx"`) {
		t.Fatalf("after reading: %s %v", msg, err)
	}
}

func TestWSPartialBudgetHolds(t *testing.T) {
	const budget, clients, half = 1 << 20, 100, 64 << 10
	h, url := newBudgetServer(t, transport.WithPartialBudget(budget))
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
		conns []*websocket.Conn
	)
	for i := 0; i < clients; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, ws)
		// Half a message, in fragments, never finished.
		w, err := ws.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		// A connection past the budget may be closed (1013) before its half
		// message is all sent: that close is what the reader below counts.
		_, _ = w.Write([]byte(strings.Repeat(" ", half)))
		setReadDeadline(t, ws, 20*time.Second)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := ws.ReadMessage()
			var ce *websocket.CloseError
			code := 0
			if errors.As(err, &ce) {
				code = ce.Code
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	// Each connection that holds its half message is charged at least
	// half-4 KiB, so at most budget/(half-4 KiB) of them can.
	holders := budget / (half - 4<<10)
	poll(t, "the connections past the budget to be closed with 1013", func() bool {
		if _, partial := transport.Usage(h); partial > budget {
			t.Fatalf("unfinished messages hold %d bytes, over the budget of %d", partial, budget)
		}
		mu.Lock()
		defer mu.Unlock()
		return codes[websocket.CloseTryAgainLater] >= clients-holders
	})
	if _, partial := transport.Usage(h); partial == 0 {
		t.Fatal("no unfinished message was charged")
	}
	mu.Lock()
	closed := codes[websocket.CloseTryAgainLater]
	mu.Unlock()
	if n := h.Stats().Limits.PartialBudget; n < uint64(closed) {
		t.Errorf("Stats().Limits.PartialBudget = %d, but %d connections were closed with 1013", n, closed)
	}
	for _, ws := range conns {
		ws.Close()
	}
	wg.Wait()
	poll(t, "the budget to be given back", func() bool {
		_, partial := transport.Usage(h)
		return partial == 0
	})
}

// frame is a masked client frame.
func frame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n < 1<<16:
		out = append(out, 0x80|126, 0, 0)
		binary.BigEndian.PutUint16(out[2:], uint16(n))
	default:
		out = append(out, 0x80|127, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint64(out[2:], uint64(n))
	}
	out = append(out, 0, 0, 0, 0) // a zero mask leaves the payload as is
	return append(out, payload...)
}

// closeCode reads from ws, answering pings, until the server closes it,
// and returns the close code.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	setReadDeadline(t, ws, 10*time.Second)
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("want a close frame, got %v", err)
		}
		return ce.Code
	}
}

func TestWSMessageTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"large", 8 << 10}, // past its first 4 KiB: timed from there
		{"small", 3},       // timed from the first pong in its middle
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newWSFixture(t, transport.WithMessageTimeout(100*time.Millisecond),
				transport.WithPing(20*time.Millisecond, time.Hour))
			ws, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			// The start of a message, then nothing; pings are answered.
			if _, err := ws.NetConn().Write(frame(false, websocket.TextMessage, []byte(strings.Repeat(" ", tc.size)))); err != nil {
				t.Fatal(err)
			}
			if code := closeCode(t, ws); code != websocket.ClosePolicyViolation {
				t.Fatalf("a stalled message: close %d, want 1008", code)
			}
			if n := f.handler.Stats().Limits.MessageTimeout; n != 1 {
				t.Errorf("Stats().Limits.MessageTimeout = %d, want 1", n)
			}
		})
	}
}

func TestWSInvalidUTF8Closes1007(t *testing.T) {
	f := newWSFixture(t)
	ws, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("{\"jsonrpc\":\"2.0\",\"method\":\"subtract\",\"params\":[1,2],\"id\":\"\xff\"}")); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ws); code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("invalid UTF-8: close %d, want 1007", code)
	}
	if n := f.handler.Stats().Limits.InvalidUTF8; n != 1 {
		t.Errorf("Stats().Limits.InvalidUTF8 = %d, want 1", n)
	}
}

// Regression: after its deadline, Shutdown closed the connections but then
// waited for every call to return, so a method that ignores its context
// kept Shutdown, and a SIGTERM, waiting for ever.
func TestWSShutdownReturnsAtDeadlineWhenCallIgnoresContext(t *testing.T) {
	f := newWSFixture(t)
	release, started := make(chan struct{}), make(chan struct{}, 1)
	f.srv.MustRegister("stubborn", func() string {
		started <- struct{}{}
		<-release
		return "late"
	})
	t.Cleanup(func() { close(release) }) // before the fixture's own Shutdown
	c := f.dial(t)
	callCtx := testCtx(t)
	go func() {
		// Ends with an error when Shutdown closes the connection under it.
		_ = c.Call(callCtx, "stubborn", nil, nil)
	}()
	<-started
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- f.handler.Shutdown(ctx) }()
	select {
	case err := <-shut:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown past its deadline: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown is still waiting for a call that ignores its context")
	}
	<-c.Done() // and the connection is closed all the same
}

// Regression: the ping timer was assigned after track made the connection
// visible to Shutdown, whose close stops it: a data race, seen under -race
// when Shutdown closes the connection in between.
func TestWSShutdownRacesWithPingTimer(t *testing.T) {
	f := newWSFixture(t)
	entered, proceed := make(chan struct{}), make(chan struct{})
	transport.SetAfterTrack(f.handler, func() {
		close(entered)
		<-proceed
	})
	ws, _, err := websocket.DefaultDialer.Dial(f.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- f.handler.Shutdown(testCtx(t)) }()
	if code := closeCode(t, ws); code != websocket.CloseGoingAway {
		t.Fatalf("close %d, want 1001", code)
	}
	close(proceed)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

// Zero turns each WebSocket budget and timeout off rather than refusing
// everything.
func TestWSBudgetsOff(t *testing.T) {
	f := newWSFixture(t, transport.WithConnectionBudget(0), transport.WithPartialBudget(0), transport.WithMessageTimeout(0))
	c := f.dial(t)
	var s string
	if err := c.Call(testCtx(t), "big", []int{64 << 10}, &s); err != nil || len(s) != 64<<10 {
		t.Fatalf("%d bytes, %v", len(s), err)
	}
	var diff float64
	big := fmt.Sprintf(`[42, 23%s]`, strings.Repeat(" ", 64<<10)) // a message past 4 KiB
	if err := c.Call(testCtx(t), "subtract", json.RawMessage(big), &diff); err != nil || diff != 19 {
		t.Fatalf("%v %v", diff, err)
	}
}

// WithWriteTimeout(0) used to give every write a deadline of now, so that
// the first answer closed the connection. Zero turns the timeout off.
func TestWSWriteTimeoutOff(t *testing.T) {
	f := newWSFixture(t, transport.WithWriteTimeout(0))
	c := f.dial(t)
	for range 3 {
		var diff float64
		if err := c.Call(testCtx(t), "subtract", []int{42, 23}, &diff); err != nil || diff != 19 {
			t.Fatalf("%v %v", diff, err)
		}
	}
}

// TestWSReplacedSubscribeAnswerEndsTheSubscription: a subscribe call
// whose answer is replaced by -32005 (the connection's budget is full)
// leaves no subscription behind, since its client never got the id.
func TestWSReplacedSubscribeAnswerEndsTheSubscription(t *testing.T) {
	// One answer, to a client that does not read, that leaves 20 bytes of
	// the budget while it waits to be written: reading goes on, and the
	// subscribe answer, longer than 20 bytes, does not fit.
	// `{"jsonrpc":"2.0","result":"…","id":1}` is 36 bytes around the
	// string; 256 KiB outgrows the sockets' small buffers.
	const budget = 256 << 10
	const answer = budget - 36 - 20
	s := rpc.NewServer(rpc.ProvideSession())
	s.MustRegister("big", func(n int) string { return strings.Repeat("x", n) }, rpc.Params("n"))
	s.MustRegisterSubscription("ticks", func(ctx context.Context, sub *rpc.Subscription[int]) error {
		<-ctx.Done()
		return nil
	})
	h, url := serveSmallBuffers(t, s, transport.WithConnectionBudget(budget), transport.WithWriteTimeout(time.Minute))
	ws := dialStalled(t, url)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"big","params":[%d],"id":1}`, answer))); err != nil {
		t.Fatal(err)
	}
	poll(t, "the big answer to be queued", func() bool {
		conns, _ := transport.Usage(h)
		return len(conns) == 1 && conns[0].Answers == 1 && conns[0].Held == budget-20
	})
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"ticks_subscribe","id":"sub"}`)); err != nil {
		t.Fatal(err)
	}
	// Two answers queued at once: the subscribe answer was charged while
	// the big one still held the budget, so it was replaced.
	poll(t, "the subscribe answer to be queued behind the big one", func() bool {
		conns, _ := transport.Usage(h)
		return len(conns) == 1 && conns[0].Answers == 2
	})
	poll(t, "the orphaned subscription to end", func() bool { return s.Subscriptions() == 0 })
}
