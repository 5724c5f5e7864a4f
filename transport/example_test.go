package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// A server on one path answers HTTP POST and WebSocket alike.
func ExampleNewHandler() {
	srv := rpc.NewServer()
	srv.MustRegister("subtract", func(minuend, subtrahend float64) float64 {
		return minuend - subtrahend
	}, rpc.Params("minuend", "subtrahend"))

	ts := httptest.NewServer(transport.NewHandler(srv)) // or http.Handle("/api/v1", …)
	defer ts.Close()

	ctx := context.Background()
	for _, url := range []string{ts.URL, "ws" + strings.TrimPrefix(ts.URL, "http")} {
		c, err := transport.Dial(ctx, url)
		if err != nil {
			log.Fatal(err)
		}
		var diff float64
		if err := c.Call(ctx, "subtract", []int{42, 23}, &diff); err != nil {
			log.Fatal(err)
		}
		fmt.Println(url[:strings.Index(url, ":")], diff)
		c.Close()
	}
	// Output:
	// http 19
	// ws 19
}

// Errors from the server carry their JSON-RPC code and data.
func ExampleClient_Call() {
	srv := rpc.NewServer()
	srv.MustRegister("divide", func(a, b float64) (float64, error) {
		if b == 0 {
			return 0, rpc.NewError(-32010, "division by zero", map[string]string{"param": "b"})
		}
		return a / b, nil
	}, rpc.Params("a", "b"))
	ts := httptest.NewServer(transport.NewHandler(srv))
	defer ts.Close()

	ctx := context.Background()
	c, err := transport.Dial(ctx, ts.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err = c.Call(ctx, "divide", map[string]int{"a": 1, "b": 0}, nil)
	if e, ok := err.(*rpc.Error); ok {
		fmt.Println(e.Code, e.Message, string(e.Data.(json.RawMessage)))
	}
	// Output:
	// -32010 division by zero {"param":"b"}
}

// A WebSocket client signs in on the open connection: rpc.authenticate,
// which the server registers with rpc.RegisterAuthenticate, has the scheme
// read the token and binds the credential to the connection's session,
// and later calls carry it.
func ExampleClient_Authenticate() {
	tokens := tokenScheme{"s3cret-token": "alice"}
	srv := rpc.NewServer(rpc.WithScheme("bearer", tokens), rpc.ProvideSession())
	srv.MustRegister("whoami", func(ctx context.Context) string {
		return string(rpc.CredentialsFrom(ctx).Get(ctx, "bearer").(user))
	}, rpc.Security(rpc.Require("bearer")))
	if err := rpc.RegisterAuthenticate(srv); err != nil { // the in-band sign-in below
		log.Fatal(err)
	}
	ts := httptest.NewServer(transport.NewHandler(srv))
	defer ts.Close()

	ctx := context.Background()
	c, err := transport.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	err = c.Call(ctx, "whoami", nil, nil)
	fmt.Println("anonymous:", err.(*rpc.Error).Code)

	if err := c.Authenticate(ctx, "s3cret-token"); err != nil { // rpc.authenticate, in-band
		log.Fatal(err)
	}
	var who string
	if err := c.Call(ctx, "whoami", nil, &who); err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", who)
	// Output:
	// anonymous: -32001
	// signed in: alice
}

// tokenScheme is a toy bearer scheme: a fixed table of tokens.
type tokenScheme map[string]string

type user string

func (user) HasScope(string) bool { return false }

func (t tokenScheme) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	tok, ok := strings.CutPrefix(md.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, nil
	}
	if name, ok := t[tok]; ok {
		return user(name), nil
	}
	return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
}

// AuthenticateToken makes tokenScheme an rpc.TokenScheme: it reads the
// bare tokens that rpc.authenticate carries.
func (t tokenScheme) AuthenticateToken(_ context.Context, tok string) (rpc.Credential, error) {
	if name, ok := t[tok]; ok {
		return user(name), nil
	}
	return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
}

func (tokenScheme) Info() rpc.SchemeInfo { return rpc.SchemeInfo{Type: "http", Scheme: "bearer"} }

// Shut down HTTP and WebSocket together: http.Server.Shutdown does not see
// hijacked WebSocket connections, so the handler closes those itself, with
// 1001, once their calls in flight have answered.
func ExampleHandler_Shutdown() {
	srv := rpc.NewServer()
	srv.MustRegister("ping", func() string { return "pong" })
	h := transport.NewHandler(srv)
	ts := httptest.NewServer(h)

	ctx := context.Background()
	c, err := transport.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"))
	if err != nil {
		log.Fatal(err)
	}
	var s string
	if err := c.Call(ctx, "ping", nil, &s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)

	shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.Shutdown(shutdown); err != nil { // WebSockets: 1001 after calls finish
		log.Fatal(err)
	}
	if err := ts.Config.Shutdown(shutdown); err != nil { // HTTP
		log.Fatal(err)
	}
	ts.Close()
	<-c.Done()
	fmt.Println(c.Err())
	// Output:
	// pong
	// websocket: close 1001 (going away): server is shutting down
}

// A server with every timeout set and a cap on connections, beside the
// handler's own Shutdown for WebSocket connections.
func ExampleNewServer() {
	srv := rpc.NewServer()
	srv.MustRegister("subtract", func(minuend, subtrahend float64) float64 {
		return minuend - subtrahend
	}, rpc.Params("minuend", "subtrahend"))
	api := transport.NewHandler(srv)
	hs := transport.NewServer(api, transport.WithMaxHTTPConnections(512))
	hs.ErrorLog = log.New(io.Discard, "", 0) // or slog.NewLogLogger(…)

	ln, err := net.Listen("tcp", "127.0.0.1:0") // or hs.Addr = …; hs.ListenAndServe()
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		// Serve returns http.ErrServerClosed once Shutdown is called.
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()

	ctx := context.Background()
	c, err := transport.Dial(ctx, "http://"+ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	var diff float64
	if err := c.Call(ctx, "subtract", []int{42, 23}, &diff); err != nil {
		log.Fatal(err)
	}
	fmt.Println(diff)
	c.Close()

	// On SIGTERM: both at once, under one deadline.
	shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	wsDone := make(chan error, 1)
	go func() { wsDone <- api.Shutdown(shutdown) }()
	if err := hs.Shutdown(shutdown); err != nil {
		log.Fatal(err)
	}
	if err := <-wsDone; err != nil {
		log.Fatal(err)
	}
	// Output: 19
}
