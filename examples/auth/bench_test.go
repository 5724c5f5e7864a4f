package main

// Benchmarks of the auth example as its clients meet it: require_token over
// loopback HTTP with 32 clients at once, and over WebSocket on signed-in
// connections with 8 connections × 16 calls in flight, each beside a raw
// baseline doing the same work in the same run, and the metrics
// interceptor's cost in process. The server logs every call as it does in
// production (text, formatted, then discarded).
//
//	go test -run '^$' -bench . -benchmem ./examples/auth/
//
// The PostgreSQL variants need PostgreSQL (see internal/pgtest).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/wardenrpc/warden/internal/pgtest"
	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
)

const benchSecret = "0123456789abcdef0123456789abcdef"

// benchApp serves the example on store in process, logging every call to
// a discarding text handler, and returns its URL with a signed-in user's
// access token.
func benchApp(b *testing.B, store Store) (url, token string) {
	b.Helper()
	a := runBenchApp(b, store, options{scryptLn: 4})
	h, api, err := a.handler("http://127.0.0.1/api/v1")
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(h)
	b.Cleanup(func() {
		if err := api.Shutdown(context.Background()); err != nil {
			b.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL + APIPath, benchUser(b, a, store)
}

// runBenchApp makes the example's app on store with o, logging to a
// discarding handler, runs its background work until the benchmark ends,
// and returns once its revocations are loaded.
func runBenchApp(b *testing.B, store Store, o options) *app {
	b.Helper()
	a, err := newApp(store, []byte(benchSecret), o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	for a.revocations.Health() != nil {
		time.Sleep(time.Millisecond)
	}
	return a
}

// benchUser stores the user "bench" and returns an access token for it.
func benchUser(b *testing.B, a *app, store Store) string {
	b.Helper()
	ctx := context.Background()
	u := User{ID: "bench-user", Username: "bench", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := store.CreateUser(ctx, u, "$scrypt$unused"); err != nil {
		b.Fatal(err)
	}
	pair, err := a.issuer.Issue(ctx, security.Grant{Subject: u.ID, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return pair.AccessToken
}

// rawJWTServer is the floor for HTTP: a plain net/http handler that reads
// the JSON-RPC request with encoding/json, parses and checks the same HS256
// token with golang-jwt (signature, expiry, issuer, audience), and writes
// the same answer.
func rawJWTServer(b *testing.B) string {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience), jwt.WithExpirationRequired())
	key := func(*jwt.Token) (any, error) { return []byte(benchSecret), nil }
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			JSONRPC string          `json:"jsonrpc"`
			Method  string          `json:"method"`
			ID      json.RawMessage `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		auth := r.Header.Get("Authorization")
		var claims jwt.RegisteredClaims
		if _, err := parser.ParseWithClaims(strings.TrimPrefix(auth, "Bearer "), &claims, key); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// A failed write is the client's to see: it checks each answer.
		_ = json.NewEncoder(w).Encode(struct {
			JSONRPC string          `json:"jsonrpc"`
			Result  User            `json:"result"`
			ID      json.RawMessage `json:"id"`
		}{"2.0", User{ID: claims.Subject, Username: "bench"}, req.ID})
	}))
	b.Cleanup(ts.Close)
	return ts.URL
}

// rawSecretToken signs a token the raw server accepts.
func rawSecretToken(b *testing.B) string {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": tokenIssuer, "aud": tokenAudience, "sub": "bench-user", "exp": time.Now().Add(time.Hour).Unix(),
	})
	s, err := t.SignedString([]byte(benchSecret))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// postLoop sends body with the token to url from 32 goroutines at once,
// b.N requests in all, and checks each answer holds want.
func postLoop(b *testing.B, url, token, body, want string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	b.SetParallelism(16) // 32 goroutines on two cores
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(got), want) {
				b.Errorf("answer %s lacks %s", got, want)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// backends opens each store the benchmarks run on.
func backends(b *testing.B) []struct {
	name string
	open func(b *testing.B) Store
} {
	return []struct {
		name string
		open func(b *testing.B) Store
	}{
		{"sqlite", func(b *testing.B) Store { return openTestStore(b, filepath.Join(b.TempDir(), "auth.db")) }},
		{"postgres", func(b *testing.B) Store {
			url := pgtest.Start(b).NewDatabase(b)
			s, err := OpenPostgres(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
}

const requireTokenBody = `{"jsonrpc":"2.0","method":"require_token","id":1}`

// BenchmarkHTTPRequireToken: require_token with a bearer token, over
// loopback HTTP, against the raw net/http + golang-jwt floor. Goal: at
// least 0.8× the floor's req/s on SQLite, 0.6× on PostgreSQL.
func BenchmarkHTTPRequireToken(b *testing.B) {
	b.Run("impl=raw-jwt", func(b *testing.B) {
		postLoop(b, rawJWTServer(b), rawSecretToken(b), requireTokenBody, `"username":"bench"`)
	})
	for _, be := range backends(b) {
		b.Run("impl=warden/db="+be.name, func(b *testing.B) {
			url, token := benchApp(b, be.open(b))
			postLoop(b, url, token, requireTokenBody, `"username":"bench"`)
		})
	}
}

// BenchmarkHTTPPublicCall: a public call (and an unknown method) with a
// token and without one. Goal: with ≥ 0.95× without.
func BenchmarkHTTPPublicCall(b *testing.B) {
	store := openTestStore(b, filepath.Join(b.TempDir(), "auth.db"))
	url, token := benchApp(b, store)
	for _, call := range []struct{ name, body, want string }{
		{"rpc.discover", `{"jsonrpc":"2.0","method":"rpc.discover","id":1}`, `"openrpc"`},
		{"nosuch", `{"jsonrpc":"2.0","method":"nosuch","id":1}`, `-32601`},
	} {
		b.Run("method="+call.name+"/token=none", func(b *testing.B) { postLoop(b, url, "", call.body, call.want) })
		b.Run("method="+call.name+"/token=bearer", func(b *testing.B) { postLoop(b, url, token, call.body, call.want) })
	}
}

// wsLoop opens conns WebSocket connections to url, signs each in with
// rpc.authenticate when token is set, and sends b.N copies of body in all,
// at most window in flight on each connection, checking each answer.
func wsLoop(b *testing.B, url, token, body, want string) {
	const conns, window = 8, 16
	wsURL := "ws" + strings.TrimPrefix(url, "http")
	cs := make([]*websocket.Conn, conns)
	for i := range cs {
		ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		if token != "" {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"rpc.authenticate","params":{"token":"`+token+`"},"id":0}`)); err != nil {
				b.Fatal(err)
			}
			if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"result"`) {
				b.Fatalf("rpc.authenticate: %s %v", msg, err)
			}
		}
		cs[i] = ws
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, ws := range cs {
		n := b.N / conns
		if i < b.N%conns {
			n++
		}
		slots := make(chan struct{}, window)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range n {
				slots <- struct{}{}
				if err := ws.WriteMessage(websocket.TextMessage, []byte(body)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range n {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					b.Error(err)
					return
				}
				if !strings.Contains(string(msg), want) {
					b.Errorf("answer %s lacks %s", msg, want)
					return
				}
				<-slots
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// rawGorillaServer is the floor for WebSocket: a gorilla loop per
// connection that reads a message, decodes it, encodes the answer and
// writes it, with nothing else.
func rawGorillaServer(b *testing.B) string {
	up := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var req struct {
				JSONRPC string          `json:"jsonrpc"`
				Method  string          `json:"method"`
				ID      json.RawMessage `json:"id"`
			}
			if err := json.Unmarshal(msg, &req); err != nil {
				return
			}
			out, _ := json.Marshal(struct {
				JSONRPC string          `json:"jsonrpc"`
				Result  User            `json:"result"`
				ID      json.RawMessage `json:"id"`
			}{"2.0", User{ID: "bench-user", Username: "bench"}, req.ID})
			if err := ws.WriteMessage(websocket.TextMessage, out); err != nil {
				return
			}
		}
	}))
	b.Cleanup(ts.Close)
	return ts.URL
}

// BenchmarkWebSocketRequireToken: require_token on signed-in WebSocket
// connections, against a raw gorilla read-decode-encode-write loop. Goal:
// at least 0.5× the floor's calls/s on SQLite, 0.4× on PostgreSQL.
func BenchmarkWebSocketRequireToken(b *testing.B) {
	b.Run("impl=raw-gorilla", func(b *testing.B) {
		wsLoop(b, rawGorillaServer(b), "", requireTokenBody, `"username":"bench"`)
	})
	for _, be := range backends(b) {
		b.Run("impl=warden/db="+be.name, func(b *testing.B) {
			url, token := benchApp(b, be.open(b))
			wsLoop(b, url, token, requireTokenBody, `"username":"bench"`)
		})
	}
}

// BenchmarkRevocationPropagation: how long a revocation made on one
// instance takes to hold on another sharing the database, reported as p50
// and p99 over b.N revocations (one at a time, each awaited).
func BenchmarkRevocationPropagation(b *testing.B) {
	type pair struct{ a, b Store }
	setups := []struct {
		name string
		open func(b *testing.B) pair
	}{
		{"sqlite", func(b *testing.B) pair {
			path := filepath.Join(b.TempDir(), "auth.db")
			return pair{openTestStore(b, path), openTestStore(b, path)}
		}},
		{"postgres", func(b *testing.B) pair {
			url := pgtest.Start(b).NewDatabase(b)
			var p [2]Store
			for i := range p {
				s, err := OpenPostgres(context.Background(), url)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				p[i] = s
			}
			return pair{p[0], p[1]}
		}},
	}
	for _, s := range setups {
		b.Run("db="+s.name, func(b *testing.B) {
			p := s.open(b)
			caches := make([]*security.RevocationCache, 2)
			for i, st := range []Store{p.a, p.b} {
				c, err := security.NewRevocationCache(st)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				go func() { _ = c.Run(ctx) }() // ends with ctx's error; Health below shows it runs
				b.Cleanup(cancel)
				for c.Health() != nil {
					time.Sleep(time.Millisecond)
				}
				caches[i] = c
			}
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
				start := time.Now()
				if err := caches[0].Revoke(ctx, id, start.Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
				for {
					if r, _ := caches[1].IsRevoked(ctx, id); r {
						break
					}
					if time.Since(start) > 10*time.Second {
						b.Fatalf("revocation %d not seen in 10 s", i)
					}
					time.Sleep(100 * time.Microsecond)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkMetricsInterceptor: the example's require_token through
// rpc.Server.Handle in process, as a transport hands it a request with a
// bearer header, with -metrics and without, in the same run. The
// difference is what the metrics interceptor costs a call.
func BenchmarkMetricsInterceptor(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			store := openTestStore(b, filepath.Join(b.TempDir(), "auth.db"))
			a := runBenchApp(b, store, options{scryptLn: 4, metrics: on})
			srv := a.rpcServer()
			header := http.Header{"Authorization": {"Bearer " + benchUser(b, a, store)}}
			body, want := []byte(requireTokenBody), []byte(`"username":"bench"`)
			call := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if out := srv.Handle(rpc.WithCredentials(call, srv.Authenticate(header)), body); !bytes.Contains(out, want) {
					b.Fatalf("answer %s lacks %s", out, want)
				}
			}
			if on {
				if n := callsCounted(b, a.metrics); n != uint64(b.N) {
					b.Fatalf("the histogram counted %d calls of %d", n, b.N)
				}
			}
		})
	}
}

// callsCounted is the number of calls m's duration histogram holds.
func callsCounted(b *testing.B, m *metrics) uint64 {
	families, err := m.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var n uint64
	for _, f := range families {
		if f.GetName() == "warden_rpc_server_call_duration_seconds" {
			for _, s := range f.GetMetric() {
				n += s.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}
