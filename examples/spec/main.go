// Command spec serves the example methods of the JSON-RPC 2.0
// specification, section 7, over HTTP POST and WebSocket at "/", and their
// OpenRPC document at GET /openrpc.json and by rpc.discover.
//
//	go run ./examples/spec -addr 127.0.0.1:8081
//
// Every example in the specification gets exactly the specified response.
// The document lists the specification's examples, so that
// @open-rpc/test-coverage can check the server against them; its golden
// copy is testdata/openrpc.json.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, logger); err != nil {
		logger.Error("spec server failed", "error", err)
		os.Exit(1)
	}
}

func run(addr string, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	handler, rpcHandler, err := newMux(logger, fmt.Sprintf("http://%s/", ln.Addr()))
	if err != nil {
		return err
	}
	srv := newHTTPServer(handler, logger)
	logger.Info("serving the JSON-RPC 2.0 specification's examples", "url", fmt.Sprintf("http://%s/", ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// http.Server.Shutdown does not see hijacked WebSocket connections; the
	// transport handler closes those with 1001 once their calls finish.
	wsErr := rpcHandler.Shutdown(shutdown)
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if wsErr == nil {
		logger.Info("stopped")
	}
	return wsErr
}

// newHTTPServer returns the server for handler: transport's, whose
// timeouts and connection cap leave no connection open for ever without
// progress.
func newHTTPServer(handler http.Handler, logger *slog.Logger) *http.Server {
	srv := transport.NewServer(handler)
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	return srv
}

// newMux returns the example's routes, JSON-RPC over HTTP and WebSocket at
// "/" and the OpenRPC document at "/openrpc.json", and the JSON-RPC handler,
// for its Shutdown. url is where the server is reached, for the document's
// servers.
func newMux(logger *slog.Logger, url string) (http.Handler, *transport.Handler, error) {
	srv := newServer(logger)
	docs, err := openrpc.Register(srv,
		openrpc.WithInfo(openrpc.Info{
			Title:       "JSON-RPC 2.0 specification examples",
			Version:     "1.0.0",
			Description: "The example methods of the JSON-RPC 2.0 specification, section 7, served by Warden.",
		}),
		openrpc.WithServers(openrpc.Server{Name: "spec", URL: url}))
	if err != nil {
		return nil, nil, err
	}
	rpcHandler := transport.NewHandler(srv)
	mux := http.NewServeMux()
	mux.Handle("/", rpcHandler)
	mux.Handle("GET /openrpc.json", docs)
	page := openrpc.DocsHandler("/") // an interactive page from the document
	mux.Handle("GET /docs", page)
	mux.Handle("GET /docs/", page)
	return mux, rpcHandler, nil
}

// newServer registers the specification's methods, with the
// specification's calls as their examples.
func newServer(logger *slog.Logger) *rpc.Server {
	s := rpc.NewServer(rpc.WithLogger(logger))
	s.MustRegister("subtract", subtract, rpc.Params("minuend", "subtrahend"),
		rpc.Summary("Subtracts subtrahend from minuend."),
		rpc.Examples(
			example("subtract 42 - 23", 19, "minuend", 42, "subtrahend", 23),
			example("subtract 23 - 42", -19, "minuend", 23, "subtrahend", 42),
		))
	s.MustRegister("sum", sum, rpc.Params("numbers"),
		rpc.Summary("Adds up any count of numbers."),
		rpc.Examples(example("sum 1 + 2 + 4", 7, "numbers", []float64{1, 2, 4})))
	s.MustRegister("get_data", getData,
		rpc.Summary("Returns a fixed list."),
		rpc.Examples(example("get_data", []any{"hello", 5})))
	s.MustRegister("update", update, rpc.Params("values"),
		rpc.Summary("Accepts any count of numbers; meant as a notification."),
		rpc.Description("Called with an id, it answers null."),
		rpc.Examples(example("update 1 to 5", nil, "values", []float64{1, 2, 3, 4, 5})))
	s.MustRegister("notify_hello", notifyHello, rpc.Params("value"),
		rpc.Summary("Accepts one number; meant as a notification."),
		rpc.Description("Called with an id, it answers null."),
		rpc.Examples(example("notify_hello 7", nil, "value", 7)))
	s.MustRegister("notify_sum", notifySum, rpc.Params("numbers"),
		rpc.Summary("Accepts any count of numbers; meant as a notification."),
		rpc.Description("Called with an id, it answers null."),
		rpc.Examples(example("notify_sum 1, 2, 4", nil, "numbers", []float64{1, 2, 4})))
	return s
}

// example is an rpc.Example named name whose params are name, value pairs.
func example(name string, result any, params ...any) rpc.Example {
	ex := rpc.Example{Name: name, Result: result}
	for i := 0; i+1 < len(params); i += 2 {
		ex.Params = append(ex.Params, rpc.ExampleParam{Name: params[i].(string), Value: params[i+1]})
	}
	return ex
}

func subtract(minuend, subtrahend float64) float64 { return minuend - subtrahend }

func sum(numbers ...float64) float64 {
	total := 0.0
	for _, n := range numbers {
		total += n
	}
	return total
}

func getData() []any { return []any{"hello", 5} }

func update(ctx context.Context, values ...float64) error { return nil }

func notifyHello(ctx context.Context, value float64) error { return nil }

func notifySum(ctx context.Context, numbers ...float64) error { return nil }
