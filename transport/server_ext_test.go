package transport_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// hardened is a running transport.NewServer, with hooks that report what
// happened to its connections and requests.
type hardened struct {
	addr    string
	handler *transport.Handler
	server  *http.Server

	mu       sync.Mutex
	states   map[http.ConnState]int
	changed  chan struct{} // receives after each state change
	returned chan struct{} // receives when a request's handler returns
}

func newHardened(t *testing.T, opts ...transport.ServerOption) *hardened {
	t.Helper()
	s := rpc.NewServer()
	s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
	s.MustRegister("big", func(n int) string { return strings.Repeat("x", n) }, rpc.Params("n"))
	hs := &hardened{
		handler:  transport.NewHandler(s),
		states:   map[http.ConnState]int{},
		changed:  make(chan struct{}, 1024),
		returned: make(chan struct{}, 1024),
	}
	hs.server = transport.NewServer(hs.handler, opts...)
	next := hs.server.Handler
	hs.server.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { hs.returned <- struct{}{} }()
		next.ServeHTTP(w, r)
	})
	limit := hs.server.ConnState
	hs.server.ConnState = func(c net.Conn, s http.ConnState) {
		if limit != nil {
			limit(c, s)
		}
		hs.mu.Lock()
		hs.states[s]++
		hs.mu.Unlock()
		select {
		case hs.changed <- struct{}{}:
		default:
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs.addr = ln.Addr().String()
	serve(t, hs.server, ln)
	t.Cleanup(func() {
		shutdown(t, hs.handler)
		hs.server.Close()
	})
	return hs
}

// waitState waits until the server has seen at least n connections reach
// state s.
func (hs *hardened) waitState(t *testing.T, s http.ConnState, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		hs.mu.Lock()
		got := hs.states[s]
		hs.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-hs.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waited in vain for %d connections to reach %v; %d did", n, s, got)
		}
	}
}

func (hs *hardened) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", hs.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func request(body string) string {
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// roundTrip sends one call on c and reads its response.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	send(t, c, request(subtractCall))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result":19`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// expectClosed reads c to its end and fails if the server has not closed
// it within a generous bound.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	setReadDeadline(t, c, 10*time.Second)
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}

func TestServerServesCalls(t *testing.T) {
	hs := newHardened(t)
	c := hs.dial(t)
	br := bufio.NewReader(c)
	roundTrip(t, c, br)
	roundTrip(t, c, br) // and again on the kept-alive connection
}

func TestServerClosesHalfSentHeader(t *testing.T) {
	hs := newHardened(t, transport.WithHeaderTimeout(100*time.Millisecond), transport.WithIdleTimeout(time.Hour))
	c := hs.dial(t)
	send(t, c, "POS")
	expectClosed(t, c, "3 bytes of a first request")
}

func TestServerClosesHalfSentNextRequest(t *testing.T) {
	hs := newHardened(t, transport.WithHeaderTimeout(time.Hour), transport.WithIdleTimeout(100*time.Millisecond))
	c := hs.dial(t)
	roundTrip(t, c, bufio.NewReader(c))
	send(t, c, "POS")
	expectClosed(t, c, "3 bytes of a next request")
}

func TestServerClosesIdleKeepAlive(t *testing.T) {
	hs := newHardened(t, transport.WithHeaderTimeout(time.Hour), transport.WithIdleTimeout(100*time.Millisecond))
	c := hs.dial(t)
	roundTrip(t, c, bufio.NewReader(c))
	expectClosed(t, c, "an idle keep-alive connection")
}

// dribble writes body to c a byte at a time, every interval, until it is
// all sent, the connection fails or stop closes.
func dribble(c net.Conn, body string, interval time.Duration, stop <-chan struct{}) {
	for i := 0; i < len(body); i++ {
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
		if _, err := io.WriteString(c, body[i:i+1]); err != nil {
			return
		}
	}
}

func TestServerCutsOffSlowBody(t *testing.T) {
	// The body timeout is far off: only the rate can end this.
	hs := newHardened(t, transport.WithBodyTimeout(time.Hour),
		transport.WithMinBodyRate(1024, 100*time.Millisecond))
	c := hs.dial(t)
	body := subtractCall + strings.Repeat(" ", 1000)
	send(t, c, strings.TrimSuffix(request(body), body))
	stop := make(chan struct{})
	defer close(stop)
	go dribble(c, body, 10*time.Millisecond, stop) // 100 bytes/s
	setReadDeadline(t, c, 10*time.Second)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("a body at 100 bytes/s was read to its end under a minimum rate of 1024")
	}
	expectClosed(t, c, "a slow body")
}

func TestServerBodyTimeout(t *testing.T) {
	hs := newHardened(t, transport.WithBodyTimeout(100*time.Millisecond), transport.WithMinBodyRate(0, 0))
	c := hs.dial(t)
	body := subtractCall + strings.Repeat(" ", 100)
	send(t, c, strings.TrimSuffix(request(body), body)+body[:50]) // half, then nothing
	expectClosed(t, c, "a half-sent body")
}

// A body that keeps up with the rate is read, even when it takes longer
// than the grace period.
func TestServerAcceptsBodyAtRate(t *testing.T) {
	hs := newHardened(t, transport.WithMinBodyRate(1, time.Hour))
	c := hs.dial(t)
	body := subtractCall
	send(t, c, strings.TrimSuffix(request(body), body))
	dribble(c, body, time.Millisecond, nil)
	setReadDeadline(t, c, 10*time.Second)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%v %v", resp, err)
	}
}

func TestServerDropsClientThatNeverReads(t *testing.T) {
	hs := newHardened(t, transport.WithResponseTimeout(200*time.Millisecond))
	c := hs.dial(t)
	// A small receive buffer, so that the answer backs up into the server.
	if err := c.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	send(t, c, request(`{"jsonrpc":"2.0","method":"big","params":[16777216],"id":1}`))
	// Never read. The handler, which holds the 16 MB answer, must return,
	// and the connection must close.
	select {
	case <-hs.returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is still writing to a client that does not read")
	}
	hs.waitState(t, http.StateClosed, 1)
}

func TestServerConnectionCap(t *testing.T) {
	hs := newHardened(t, transport.WithMaxHTTPConnections(3), transport.WithHeaderTimeout(time.Hour))
	var silent []net.Conn
	for i := 0; i < 3; i++ {
		silent = append(silent, hs.dial(t))
	}
	hs.waitState(t, http.StateNew, 3)

	// A well-behaved client past the cap is closed at once, unanswered.
	c := hs.dial(t)
	// The server may close the connection before the request is written:
	// either way, it must not answer.
	_, _ = io.WriteString(c, request(subtractCall))
	setReadDeadline(t, c, 10*time.Second)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		t.Fatalf("a connection past the cap was served: %d", resp.StatusCode)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("a connection past the cap was held instead of closed")
	}

	// Once the silent connections are gone, clients are served again.
	for _, s := range silent {
		s.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", hs.addr)
		if err != nil {
			t.Fatal(err)
		}
		// Until the server sees the silent connections close, it may still
		// close this one before the request is written: then try again.
		_, _ = io.WriteString(c, request(subtractCall))
		setReadDeadline(t, c, 10*time.Second)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client served after the cap freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server has yet to see them close
	}
}

// Idle keep-alive connections give way to new ones at the cap.
func TestServerConnectionCapEvictsIdle(t *testing.T) {
	hs := newHardened(t, transport.WithMaxHTTPConnections(2))
	var idle []net.Conn
	for i := 0; i < 2; i++ {
		c := hs.dial(t)
		roundTrip(t, c, bufio.NewReader(c))
		idle = append(idle, c)
	}
	hs.waitState(t, http.StateIdle, 2)
	c := hs.dial(t)
	roundTrip(t, c, bufio.NewReader(c))
	closed := 0
	for _, c := range idle {
		setReadDeadline(t, c, 100*time.Millisecond)
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d idle connections closed for the new one, want 1", closed)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// The server's timeouts do not reach a WebSocket connection once upgraded.
func TestServerKeepsWebSocketsOpen(t *testing.T) {
	short := 50 * time.Millisecond
	hs := newHardened(t, transport.WithHeaderTimeout(short), transport.WithBodyTimeout(short),
		transport.WithResponseTimeout(short), transport.WithIdleTimeout(short), transport.WithMaxHTTPConnections(1))
	ctx := testCtx(t)
	c, err := transport.Dial(ctx, "ws://"+hs.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(8 * short) // well past every timeout above
	var diff float64
	if err := c.Call(ctx, "subtract", []int{42, 23}, &diff); err != nil || diff != 19 {
		t.Fatalf("WebSocket call after the HTTP timeouts: %v %v", diff, err)
	}
	// Upgraded, it has left the HTTP cap of 1.
	hc := hs.dial(t)
	roundTrip(t, hc, bufio.NewReader(hc))
}

// Zero turns the connection cap off rather than refusing everything.
func TestServerConnectionCapOff(t *testing.T) {
	hs := newHardened(t, transport.WithMaxHTTPConnections(0))
	c := hs.dial(t)
	roundTrip(t, c, bufio.NewReader(c))
}
