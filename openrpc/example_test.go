package openrpc_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/rpc"
)

// Register serves the document by rpc.discover; the Service it returns
// serves it over HTTP too.
func ExampleRegister() {
	srv := rpc.NewServer()
	srv.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
	docs, err := openrpc.Register(srv, openrpc.WithInfo(openrpc.Info{Title: "Calculator", Version: "1.0.0"}))
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /openrpc.json", docs)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/openrpc.json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))

	doc, _ := docs.Document()
	fmt.Println(doc.Info.Title, doc.Methods[0].Name, doc.Methods[0].Params[1].Name)
	// Output:
	// 200 application/json
	// Calculator subtract subtrahend
}

// Build writes a document once, for example to a file.
func ExampleBuild() {
	type Point struct {
		X, Y int
	}
	srv := rpc.NewServer()
	srv.MustRegister("origin", func() Point { return Point{} })
	doc, err := openrpc.Build(srv)
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.OpenRPC, doc.Methods[0].Result.Schema.Ref)
	fmt.Println(doc.Components.Schemas["Point"].Title)
	// Output:
	// 1.3.2 #/components/schemas/Point
	// Point
}
