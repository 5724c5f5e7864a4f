package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"math"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// scrape gets GET /metrics from s and parses it; it returns the text too.
func scrape(t *testing.T, s *server) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse the scrape: %v\n%s", err, body)
	}
	return families, string(body)
}

// gauge returns the value of the family name's only series.
func gauge(t *testing.T, families map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f := families[name]
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("%s: want one series, got %v", name, f)
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}

// series is one call-duration series, by its labels.
type series struct{ method, code, auth string }

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// postBatch posts a batch with a bearer token and returns its responses.
func postBatch(t *testing.T, url, token string, calls ...string) []json.RawMessage {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("["+strings.Join(calls, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("batch: %s: %v", resp.Status, err)
	}
	return out
}

// With -metrics, GET /metrics counts each call under its method, code and
// security outcome, and every call to a method that is not registered as
// _OTHER; it names no user, token, param or unknown method; and it
// follows open WebSockets.
func TestMetrics(t *testing.T) {
	t.Parallel()
	s := startWith(t, "", []string{"-metrics"})
	const password = "metered-password"
	user := "user" + strings.ToLower(rand.Text())
	unknown := "probe_" + rand.Text() // a name only this caller knows
	inBatch := "probe_" + rand.Text()
	notified := "probe_" + rand.Text()

	c := dial(t, s.url("http"))
	signUp(t, c, user, password)
	p := signIn(t, c, user, password)
	wantCode(t, c.Call(ctxT(t), "sign_in", []string{user, "wrong-" + password}, nil), rpc.CodeUnauthorized)
	_, err := requireToken(t, c)
	wantCode(t, err, rpc.CodeUnauthorized)
	authed := dial(t, s.url("http"), transport.WithBearer(p.AccessToken))
	wantUser(t, authed, user)
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": tokenIssuer, "aud": tokenAudience, "sub": user, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte("not-the-servers-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = requireToken(t, dial(t, s.url("http"), transport.WithBearer(forged)))
	if d := wantCode(t, err, rpc.CodeUnauthorized); d["reason"] != rpc.ReasonInvalid {
		t.Fatalf("forged token: reason %v", d["reason"])
	}
	wantCode(t, authed.Call(ctxT(t), "list_users", nil, nil), rpc.CodeForbidden)
	wantCode(t, c.Call(ctxT(t), unknown, []string{password}, nil), rpc.CodeMethodNotFound)
	answers := postBatch(t, s.url("http"), p.AccessToken,
		`{"jsonrpc":"2.0","method":"require_token","id":1}`,
		`{"jsonrpc":"2.0","method":"`+inBatch+`","params":["`+password+`"],"id":2}`,
		`{"jsonrpc":"2.0","method":"`+notified+`","params":["`+p.AccessToken+`"]}`,
		`{"jsonrpc":"2.0","method":"sign_up","params":["`+user+`2"],"id":3}`)
	if len(answers) != 3 {
		t.Fatalf("batch: %d answers, want 3 (no answer to the notification): %s", len(answers), answers)
	}
	ws := dial(t, s.url("ws"), transport.WithBearer(p.AccessToken))
	wantUser(t, ws, user)

	families, text := scrape(t, s)
	want := map[series]uint64{
		{"sign_up", "ok", ""}:                  1,
		{"sign_up", "-32602", ""}:              1, // in the batch
		{"sign_in", "ok", ""}:                  1,
		{"sign_in", "-32001", ""}:              1, // wrong password
		{"require_token", "-32001", "missing"}: 1,
		{"require_token", "-32001", "invalid"}: 1, // forged
		{"require_token", "ok", "ok"}:          3, // HTTP, batch, WebSocket
		{"list_users", "-32003", "forbidden"}:  1,
		{otherMethod, "-32601", ""}:            3, // a call, a batched call, a batched notification
	}
	wantBounds := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, math.Inf(1)}
	got := map[series]uint64{}
	for _, m := range families["warden_rpc_server_call_duration_seconds"].GetMetric() {
		l := labels(m)
		if len(l) != 3 {
			t.Errorf("call duration labels %v, want method, code and auth", l)
		}
		got[series{l["method"], l["code"], l["auth"]}] = m.GetHistogram().GetSampleCount()
		var bounds []float64
		for _, b := range m.GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if !slices.Equal(bounds, wantBounds) {
			t.Errorf("%v: bucket bounds %v, want %v", l, bounds, wantBounds)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("call counts by (method, code, auth):\n got %v\nwant %v", got, want)
	}
	active := families["warden_rpc_server_active_calls"].GetMetric()
	for _, m := range active {
		if l := labels(m); !slices.Contains([]string{"sign_up", "sign_in", "require_token", "list_users", otherMethod}, l["method"]) || m.GetGauge().GetValue() != 0 {
			t.Errorf("active calls %v = %v, want 0 for a method called", l, m.GetGauge().GetValue())
		}
	}
	if len(active) != 5 {
		t.Errorf("active calls: %d series, want one per method called (5)", len(active))
	}

	if n := gauge(t, families, "warden_websocket_connections"); n != 1 {
		t.Errorf("websocket connections %v with one open, want 1", n)
	}
	if n := gauge(t, families, "warden_subscriptions"); n != 0 {
		t.Errorf("subscriptions %v, want 0", n)
	}
	if lag := gauge(t, families, "warden_revocation_lag_seconds"); lag < 0 || lag > 5 {
		t.Errorf("revocation lag %v s, want between 0 and -max-staleness (5 s)", lag)
	}
	if _, ok := families["warden_websocket_partial_bytes"]; !ok {
		t.Error("no warden_websocket_partial_bytes")
	}
	wantFamilies := []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds"}
	if runtime.GOOS == "linux" {
		wantFamilies = append(wantFamilies, "process_start_time_seconds", "process_resident_memory_bytes")
	}
	for _, name := range wantFamilies {
		if _, ok := families[name]; !ok {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}

	secrets := []string{password, p.AccessToken, p.RefreshToken, forged, unknown, inBatch, notified, "probe_", user, "eyJ"}
	for _, line := range strings.Split(text, "\n") {
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("a line of the scrape holds %.12q…: %s", secret, line)
			}
		}
	}

	// A body over the limit is counted under its limit; every limit has a
	// series from the start.
	if hits := families["warden_limit_hits_total"].GetMetric(); len(hits) != 9 {
		t.Errorf("warden_limit_hits_total: %d series, want one per limit (9)", len(hits))
	}
	resp, err := http.Post("http://"+s.addr+APIPath, "application/json", strings.NewReader(strings.Repeat(" ", 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB body: %s, want 413", resp.Status)
	}
	families, _ = scrape(t, s)
	for _, m := range families["warden_limit_hits_total"].GetMetric() {
		want := 0.0
		if labels(m)["limit"] == "body_bytes" {
			want = 1
		}
		if got := m.GetCounter().GetValue(); got != want {
			t.Errorf("warden_limit_hits_total%v = %v, want %v", labels(m), got, want)
		}
	}

	// The gauge follows the connection closing.
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		families, _ := scrape(t, s)
		if gauge(t, families, "warden_websocket_connections") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("websocket connections still counted 10 s after the connection closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.stop()
	s.checkLog(password, p.AccessToken, p.RefreshToken, forged, unknown, inBatch, notified)
}

// Without -metrics, /metrics is not served: the answer is the mux's to a
// path it does not know.
func TestMetricsOff(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	for _, path := range []string{"/metrics", "/no-such-path"} {
		resp, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "warden_") {
			t.Errorf("GET %s without -metrics: %s %q, want 404", path, resp.Status, body)
		}
	}
	if !strings.Contains(s.logText(), "metrics=false") {
		t.Errorf("the listening line does not say metrics are off:\n%s", s.logText())
	}
}

var metricsListeningRE = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

// TestMetricsAddr: with -metrics-addr, /metrics is served on its own
// listener and not on the API's.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	s := startWith(t, "", []string{"-metrics-addr", "127.0.0.1:0"})
	m := metricsListeningRE.FindStringSubmatch(s.logText())
	if m == nil {
		t.Fatalf("no \"serving metrics\" line:\n%s", s.logText())
	}
	c := dial(t, "http://"+s.addr+APIPath)
	if err := c.Call(ctxT(t), "require_token", nil, nil); err == nil {
		t.Fatal("require_token without a token succeeded")
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(body), `warden_rpc_server_call_duration_seconds_count{auth="missing",code="-32001",method="require_token"} 1`) {
		t.Errorf("GET /metrics on its listener: %s\n%s", resp.Status, body)
	}
	resp, err = http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the API's listener with -metrics-addr: %s, want 404", resp.Status)
	}
}
