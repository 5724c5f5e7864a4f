package rpc_test

import (
	"context"
	"fmt"

	"github.com/wardenrpc/warden/rpc"
)

// Methods are plain functions. Several arguments are named with
// rpc.Params; every method takes params by position and by name.
func ExampleServer_Register() {
	srv := rpc.NewServer()
	srv.MustRegister("subtract", func(minuend, subtrahend float64) float64 {
		return minuend - subtrahend
	}, rpc.Params("minuend", "subtrahend"))

	ctx := context.Background()
	fmt.Printf("%s\n", srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}`)))
	fmt.Printf("%s\n", srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":2}`)))
	fmt.Printf("%s\n", srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23,"extra":1},"id":3}`)))
	// Output:
	// {"jsonrpc":"2.0","result":19,"id":1}
	// {"jsonrpc":"2.0","result":19,"id":2}
	// {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"extra","problem":"unknown param"}},"id":3}
}

// A single struct argument declares named params by its fields; pointer
// and omitempty fields are optional.
func ExampleServer_Register_struct() {
	type greetParams struct {
		Name  string  `json:"name"`
		Title *string `json:"title"`
	}
	srv := rpc.NewServer()
	srv.MustRegister("greet", func(p greetParams) string {
		if p.Title != nil {
			return "Hello, " + *p.Title + " " + p.Name
		}
		return "Hello, " + p.Name
	})
	ctx := context.Background()
	fmt.Printf("%s\n", srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"greet","params":["Ada"],"id":1}`)))
	fmt.Printf("%s\n", srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"greet","params":{"name":"Ada","title":"Countess"},"id":2}`)))
	// Output:
	// {"jsonrpc":"2.0","result":"Hello, Ada","id":1}
	// {"jsonrpc":"2.0","result":"Hello, Countess Ada","id":2}
}

type account struct{ Name string }

// Arguments of a provided type are injected, never read from the params,
// and resolved after the security check.
func ExampleProvide() {
	currentAccount := func(ctx context.Context) (*account, error) {
		return &account{Name: "ada"}, nil // a real provider reads the caller's credential
	}
	srv := rpc.NewServer(rpc.Provide(currentAccount))
	srv.MustRegister("whoami", func(ctx context.Context, u *account) string { return u.Name })

	fmt.Printf("%s\n", srv.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"whoami","id":1}`)))
	// Output:
	// {"jsonrpc":"2.0","result":"ada","id":1}
}

// Interceptors wrap every call and see the method's name and requirement.
func ExampleWithInterceptors() {
	logCalls := func(next rpc.Handler) rpc.Handler {
		return func(ctx context.Context, req *rpc.Request) (any, error) {
			fmt.Println("call", req.Method.Name, "public:", req.Method.Public())
			return next(ctx, req)
		}
	}
	srv := rpc.NewServer(rpc.WithInterceptors(logCalls))
	srv.MustRegister("ping", func() string { return "pong" })
	fmt.Printf("%s\n", srv.Handle(context.Background(), []byte(`{"jsonrpc":"2.0","method":"ping","id":1}`)))
	// Output:
	// call ping public: true
	// {"jsonrpc":"2.0","result":"pong","id":1}
}

// headerKey is a toy scheme for the example: a fixed key in X-Api-Key,
// granting the scope "read". Real schemes live in package security.
type headerKey string

type keyHolder struct{}

func (keyHolder) HasScope(s string) bool { return s == "read" }

func (k headerKey) Authenticate(_ context.Context, md rpc.Metadata) (rpc.Credential, error) {
	switch got := md.Get("X-Api-Key"); got {
	case "":
		return nil, nil // no credential: public methods still work
	case string(k):
		return keyHolder{}, nil
	default:
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
	}
}

func (headerKey) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "apiKey", In: "header", Name: "X-Api-Key"}
}

type header map[string]string

func (h header) Get(k string) string { return h[k] }

// A method declares its requirement as data; the engine checks it against
// the credentials a transport attached, before params are decoded.
func ExampleSecurity() {
	srv := rpc.NewServer(rpc.WithScheme("key", headerKey("s3cret")))
	srv.MustRegister("report", func() string { return "numbers" },
		rpc.Security(rpc.Require("key", "read")))
	srv.MustRegister("purge", func() string { return "gone" },
		rpc.Security(rpc.Require("key", "admin")))

	call := func(h header, method string) {
		ctx := context.Background()
		ctx = rpc.WithCredentials(ctx, srv.Authenticate(h)) // what a transport does
		fmt.Printf("%s\n", srv.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"`+method+`","id":1}`)))
	}
	call(header{}, "report")
	call(header{"X-Api-Key": "guess"}, "report")
	call(header{"X-Api-Key": "s3cret"}, "report")
	call(header{"X-Api-Key": "s3cret"}, "purge")
	// Output:
	// {"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{"reason":"missing"}},"id":1}
	// {"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized","data":{"reason":"invalid"}},"id":1}
	// {"jsonrpc":"2.0","result":"numbers","id":1}
	// {"jsonrpc":"2.0","error":{"code":-32003,"message":"Forbidden","data":{"required":["admin"]}},"id":1}
}
