package transport_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// The benchmarks compare Warden's handler serving subtract with a plain
// net/http handler that does the same with encoding/json. Both are called
// in process through ServeHTTP, with the same reused request and
// ResponseWriter, so the numbers are the handlers' own cost.

const benchBody = `{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}`

// rawSubtract is the baseline: what a careful user would write by hand
// with encoding/json to answer subtract, with the same checks of method,
// content type, body size and version.
func rawSubtract(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  [2]float64      `json:"params"`
		ID      json.RawMessage `json:"id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, transport.DefaultMaxBodyBytes)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if req.JSONRPC != "2.0" || req.Method != "subtract" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	resp := struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  float64         `json:"result"`
		ID      json.RawMessage `json:"id"`
	}{"2.0", req.Params[0] - req.Params[1], req.ID}
	b, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// benchWriter is a ResponseWriter that keeps only the status and the
// length written, so that neither side pays for a recorder.
type benchWriter struct {
	header http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) WriteHeader(code int)        { w.status = code }
func (w *benchWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func (w *benchWriter) reset() {
	clear(w.header)
	w.status, w.n = 0, 0
}

// benchServe serves body to h b.N times in process, after checking once
// that h answers want. headers are extra request headers, as key, value
// pairs. Every HTTP benchmark in this package runs through it, so they
// differ only in what they serve.
func benchServe(b *testing.B, h http.Handler, body, want string, headers ...string) {
	b.Helper()
	r := bytes.NewReader([]byte(body))
	req, err := http.NewRequest(http.MethodPost, "/", io.NopCloser(r))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.ContentLength = int64(len(body))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusOK || got != want {
		b.Fatalf("status %d, body %s; want %s", rec.Code, got, want)
	}

	w := &benchWriter{header: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		r.Reset([]byte(body))
		w.reset()
		h.ServeHTTP(w, req)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

const benchWant = `{"jsonrpc":"2.0","result":19,"id":1}`

// BenchmarkSubtractRaw is the baseline: net/http and encoding/json alone.
func BenchmarkSubtractRaw(b *testing.B) {
	benchServe(b, http.HandlerFunc(rawSubtract), benchBody, benchWant)
}

// BenchmarkSubtractWarden is Warden's HTTP handler serving the same method.
func BenchmarkSubtractWarden(b *testing.B) {
	s := rpc.NewServer()
	s.MustRegister("subtract", func(minuend, subtrahend float64) float64 { return minuend - subtrahend },
		rpc.Params("minuend", "subtrahend"))
	benchServe(b, transport.NewHandler(s), benchBody, benchWant)
}

// BenchmarkSubtractWardenNamed is Warden with named params.
func BenchmarkSubtractWardenNamed(b *testing.B) {
	s := rpc.NewServer()
	s.MustRegister("subtract", func(minuend, subtrahend float64) float64 { return minuend - subtrahend },
		rpc.Params("minuend", "subtrahend"))
	const named = `{"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23},"id":1}`
	benchServe(b, transport.NewHandler(s), named, benchWant)
}

// BenchmarkHTTPServerSubtract serves subtract over loopback, keep-alive,
// from a bare http.Server and from NewServer, so that the difference is
// what the timeouts, the body deadline and the connection cap cost.
func BenchmarkHTTPServerSubtract(b *testing.B) {
	s := rpc.NewServer()
	s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, rpc.Params("minuend", "subtrahend"))
	h := transport.NewHandler(s)
	for _, tc := range []struct {
		name string
		srv  func() *http.Server
	}{
		{"plain", func() *http.Server { return &http.Server{Handler: h} }},
		{"hardened", func() *http.Server { return transport.NewServer(h) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ts := httptest.NewUnstartedServer(nil)
			ts.Config = tc.srv()
			ts.Start()
			defer ts.Close()
			client := ts.Client()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := client.Post(ts.URL, "application/json", strings.NewReader(benchBody))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}
