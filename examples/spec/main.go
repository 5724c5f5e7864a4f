// Command spec serves the example methods of the JSON-RPC 2.0
// specification, section 7, over HTTP POST at "/".
//
//	go run ./examples/spec -addr 127.0.0.1:8081
//
// Every example in the specification gets exactly the specified response.
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
	srv := &http.Server{Handler: newMux(logger), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("serving the JSON-RPC 2.0 specification's examples", "url", fmt.Sprintf("http://%s/", ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newMux returns the example's routes: JSON-RPC at "/".
func newMux(logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", transport.NewHandler(newServer(logger)))
	return mux
}

// newServer registers the specification's methods.
func newServer(logger *slog.Logger) *rpc.Server {
	s := rpc.NewServer(rpc.WithLogger(logger))
	s.MustRegister("subtract", subtract, rpc.Params("minuend", "subtrahend"),
		rpc.Summary("Subtracts subtrahend from minuend."))
	s.MustRegister("sum", sum, rpc.Params("numbers"),
		rpc.Summary("Adds up any count of numbers."))
	s.MustRegister("get_data", getData,
		rpc.Summary("Returns a fixed list."))
	s.MustRegister("update", update, rpc.Params("values"),
		rpc.Summary("Accepts any count of numbers; meant as a notification."))
	s.MustRegister("notify_hello", notifyHello, rpc.Params("value"),
		rpc.Summary("Accepts one number; meant as a notification."))
	s.MustRegister("notify_sum", notifySum, rpc.Params("numbers"),
		rpc.Summary("Accepts any count of numbers; meant as a notification."))
	return s
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
