package otelrpc_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wardenrpc/warden/otelrpc"
	"github.com/wardenrpc/warden/transport"
)

// TestSpans: one SERVER span per call, named after the method, with the
// JSON-RPC conventions' attributes, and the error code on failures.
func TestSpans(t *testing.T) {
	base := map[string]string{"rpc.system.name": "jsonrpc", "jsonrpc.protocol.version": "2.0"}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		body    string
		span    string
		attrs   map[string]string
		status  codes.Code
		message string
	}{
		{"string id", `{"jsonrpc":"2.0","id":"req-7","method":"echo","params":{"text":"hi"}}`,
			"echo", with("rpc.method", "echo", "jsonrpc.request.id", "req-7"), codes.Unset, ""},
		{"number id as sent", `{"jsonrpc":"2.0","id":12.50,"method":"echo","params":["hi"]}`,
			"echo", with("rpc.method", "echo", "jsonrpc.request.id", "12.50"), codes.Unset, ""},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"echo","params":["hi"]}`,
			"echo", with("rpc.method", "echo"), codes.Unset, ""},
		{"notification", `{"jsonrpc":"2.0","method":"echo","params":["hi"]}`,
			"echo", with("rpc.method", "echo"), codes.Unset, ""},
		{"invalid params", `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":5}}`,
			"echo", with("rpc.method", "echo", "jsonrpc.request.id", "1",
				"rpc.response.status_code", "-32602", "error.type", "-32602"), codes.Error, "Invalid params"},
		{"plain error", `{"jsonrpc":"2.0","id":2,"method":"fail"}`,
			"fail", with("rpc.method", "fail", "jsonrpc.request.id", "2",
				"rpc.response.status_code", "-32000", "error.type", "-32000"), codes.Error, "Server error"},
		{"panic", `{"jsonrpc":"2.0","id":3,"method":"boom"}`,
			"boom", with("rpc.method", "boom", "jsonrpc.request.id", "3",
				"rpc.response.status_code", "-32603", "error.type", "-32603"), codes.Error, "Internal error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.post(t, c.body)
			s := f.only(t)
			if s.Name != c.span || s.SpanKind != trace.SpanKindServer {
				t.Errorf("span %q kind %v, want %q SERVER", s.Name, s.SpanKind, c.span)
			}
			if got := attrs(s.Attributes); !maps.Equal(got, c.attrs) {
				t.Errorf("attributes\n got %v\nwant %v", got, c.attrs)
			}
			if s.Status.Code != c.status || s.Status.Description != c.message {
				t.Errorf("status %v %q, want %v %q", s.Status.Code, s.Status.Description, c.status, c.message)
			}
		})
	}
}

// TestUnknownMethod: a call to a method that is not registered gets a
// span named after the system, with rpc.method _OTHER and the name sent
// in rpc.method_original, cut to 128 bytes; its metrics carry _OTHER only.
func TestUnknownMethod(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("é", 100) // 200 bytes
	f.post(t, `{"jsonrpc":"2.0","id":1,"method":"made_up_by_the_client"}`)
	f.post(t, `{"jsonrpc":"2.0","id":2,"method":"`+long+`"}`)
	spans := f.spans.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for i, want := range []string{"made_up_by_the_client", strings.Repeat("é", 64)} {
		a := attrs(spans[i].Attributes)
		if spans[i].Name != "jsonrpc" || a["rpc.method"] != "_OTHER" || a["rpc.method_original"] != want ||
			a["rpc.response.status_code"] != "-32601" {
			t.Errorf("span %q %v, want jsonrpc, _OTHER, original %q, -32601", spans[i].Name, a, want)
		}
	}
	dump := fmt.Sprintf("%+v", f.metrics(t))
	if strings.Contains(dump, "made_up") || strings.Contains(dump, "é") {
		t.Errorf("a made-up method name reached the metrics: %s", dump)
	}
	if !strings.Contains(dump, "_OTHER") {
		t.Errorf("no _OTHER series: %s", dump)
	}
}

// TestBatch: a batch gets one span, and each of its calls a child span,
// under the caller's trace when it sent one.
func TestBatch(t *testing.T) {
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	f := newFixture(t)
	resp := f.post(t, `[{"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]},
		{"jsonrpc":"2.0","id":2,"method":"fail"},
		{"jsonrpc":"2.0","method":"echo","params":["b"]},
		{"jsonrpc":"2.0","id":4,"method":"nosuch"}]`, "traceparent: 00-"+traceID+"-"+spanID+"-01")
	if !strings.Contains(resp, `"result":"a"`) {
		t.Fatalf("batch answer %s", resp)
	}
	spans := f.spans.GetSpans()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want the batch's and 4 calls'", len(spans))
	}
	var batch tracetest.SpanStub
	for _, s := range spans {
		if s.Name == otelrpc.BatchSpanName {
			batch = s
		}
	}
	if batch.Name == "" {
		t.Fatalf("no batch span among %v", spans)
	}
	if a := attrs(batch.Attributes); a["warden.batch.size"] != "4" || a["rpc.system.name"] != "jsonrpc" {
		t.Errorf("batch attributes %v", a)
	}
	if batch.SpanContext.TraceID().String() != traceID || batch.Parent.SpanID().String() != spanID {
		t.Errorf("batch span in trace %s under %s, want the caller's", batch.SpanContext.TraceID(), batch.Parent.SpanID())
	}
	names := map[string]int{}
	for _, s := range spans {
		if s.Name == otelrpc.BatchSpanName {
			continue
		}
		names[s.Name]++
		if s.Parent.SpanID() != batch.SpanContext.SpanID() || s.SpanContext.TraceID() != batch.SpanContext.TraceID() {
			t.Errorf("call span %s has parent %s, want the batch's %s", s.Name, s.Parent.SpanID(), batch.SpanContext.SpanID())
		}
		if s.EndTime.After(batch.EndTime) {
			t.Errorf("call span %s ended after its batch", s.Name)
		}
	}
	if !maps.Equal(names, map[string]int{"echo": 2, "fail": 1, "jsonrpc": 1}) {
		t.Errorf("call spans %v", names)
	}
}

// TestGauges: open WebSocket connections and subscriptions, and the
// revocation feed's lag, are read at collection.
func TestGauges(t *testing.T) {
	f := newFixture(t)
	gauges := func() map[string]float64 {
		out := map[string]float64{}
		rm := f.metrics(t)
		for _, name := range []string{otelrpc.MetricWebSockets, otelrpc.MetricSubscriptions, otelrpc.MetricRevocationsLag} {
			m, ok := findMetric(rm, name)
			if !ok {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					out[name] += float64(dp.Value)
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					out[name] += dp.Value
				}
			}
		}
		return out
	}
	f.feed.lagMillis.Store(-1) // not read yet: no lag reported
	if g := gauges(); g[otelrpc.MetricWebSockets] != 0 || g[otelrpc.MetricSubscriptions] != 0 {
		t.Fatalf("before any client: %v", g)
	}
	if _, ok := gauges()[otelrpc.MetricRevocationsLag]; ok {
		t.Error("a lag was reported before the feed's first read")
	}

	ctx := context.Background()
	c, err := transport.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "ticks", nil); err != nil {
		t.Fatal(err)
	}
	f.feed.lagMillis.Store(1500)
	g := gauges()
	if g[otelrpc.MetricWebSockets] != 1 || g[otelrpc.MetricSubscriptions] != 1 || g[otelrpc.MetricRevocationsLag] != 1.5 {
		t.Errorf("with one client subscribed and a 1.5 s lag: %v", g)
	}
	_ = c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for g := gauges(); g[otelrpc.MetricWebSockets] != 0 || g[otelrpc.MetricSubscriptions] != 0; g = gauges() {
		if time.Now().After(deadline) {
			t.Fatalf("after the client left: %v", g)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAuthResult: warden.auth.result comes from the call's error code and
// data.
func TestAuthResult(t *testing.T) {
	cases := []struct {
		name, token, code, result string
	}{
		{"ok", tokenAdmin, "", "ok"},
		{"missing", "", "-32001", "missing"},
		{"expired", tokenExpired, "-32001", "expired"},
		{"invalid", "tok-made-up", "-32001", "invalid"},
		{"forbidden", tokenUser, "-32003", "forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			var hdr []string
			if c.token != "" {
				hdr = append(hdr, "Authorization: Bearer "+c.token)
			}
			resp := f.post(t, `{"jsonrpc":"2.0","id":1,"method":"admin_only"}`, hdr...)
			if c.code != "" && !strings.Contains(resp, `"code":`+c.code) {
				t.Fatalf("response %s, want code %s", resp, c.code)
			}
			a := attrs(f.only(t).Attributes)
			if a["warden.auth.result"] != c.result || a["rpc.response.status_code"] != c.code {
				t.Errorf("auth result %q code %q, want %q %q", a["warden.auth.result"], a["rpc.response.status_code"], c.result, c.code)
			}
		})
	}
	t.Run("public method", func(t *testing.T) {
		f := newFixture(t)
		f.post(t, `{"jsonrpc":"2.0","id":1,"method":"echo","params":["x"]}`, "Authorization: Bearer "+tokenAdmin)
		if r, ok := attrs(f.only(t).Attributes)["warden.auth.result"]; ok {
			t.Errorf("warden.auth.result = %q on a public method, want none", r)
		}
	})
	t.Run("panic in a protected method", func(t *testing.T) {
		f := newFixture(t)
		f.post(t, `{"jsonrpc":"2.0","id":1,"method":"admin_boom"}`, "Authorization: Bearer "+tokenAdmin)
		a := attrs(f.only(t).Attributes)
		if a["warden.auth.result"] != "unknown" || a["rpc.response.status_code"] != "-32603" {
			t.Errorf("warden.auth.result %q, code %q; want unknown, -32603", a["warden.auth.result"], a["rpc.response.status_code"])
		}
	})
	t.Run("public method's own -32001", func(t *testing.T) {
		f := newFixture(t)
		f.post(t, `{"jsonrpc":"2.0","id":1,"method":"sign_in","params":{"username":"alice","password":"wrong"}}`)
		a := attrs(f.only(t).Attributes)
		if r, ok := a["warden.auth.result"]; ok || a["rpc.response.status_code"] != "-32001" {
			t.Errorf("warden.auth.result = %q, code %q; want none, since a public method has no check, and -32001", r, a["rpc.response.status_code"])
		}
	})
}

// TestNoSecrets: a password in params and tokens in the headers appear in
// no span and no metric, whether the call succeeds or fails.
func TestNoSecrets(t *testing.T) {
	f := newFixture(t)
	signIn := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"sign_in","params":{"username":"alice","password":%q}}`, password)
	if resp := f.post(t, signIn, "Authorization: Bearer "+tokenAdmin); !strings.Contains(resp, "welcome alice") {
		t.Fatalf("sign_in: %s", resp)
	}
	f.post(t, `{"jsonrpc":"2.0","id":2,"method":"admin_only","params":{"password":"`+password+`"}}`, "Authorization: Bearer "+tokenUser)
	f.post(t, `{"jsonrpc":"2.0","id":3,"method":"admin_only"}`, "Authorization: Bearer "+tokenExpired)
	f.post(t, `{"jsonrpc":"2.0","id":4,"method":"echo","params":["`+tokenAdmin+`"]}`)

	spans := f.spans.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	dump := fmt.Sprintf("%+v\n%+v", spans, f.metrics(t))
	for _, secret := range []string{password, tokenAdmin, tokenUser, tokenExpired, "alice"} {
		if strings.Contains(dump, secret) {
			t.Errorf("%q appears in the telemetry", secret)
		}
	}
	if !strings.Contains(dump, "sign_in") { // the dump holds what it should
		t.Fatalf("the dump lacks the method name: %s", dump)
	}
}

// TestSubject: WithSubject puts the caller's subject on spans, and only
// on spans.
func TestSubject(t *testing.T) {
	f := newFixture(t, otelrpc.WithSubject())
	f.post(t, `{"jsonrpc":"2.0","id":1,"method":"admin_only"}`, "Authorization: Bearer "+tokenAdmin)
	if got := attrs(f.only(t).Attributes)["enduser.id"]; got != "alice" {
		t.Errorf("enduser.id = %q, want alice", got)
	}
	if dump := fmt.Sprintf("%+v", f.metrics(t)); strings.Contains(dump, "alice") {
		t.Errorf("the subject reached the metrics: %s", dump)
	}
	f.spans.Reset()
	f.post(t, `{"jsonrpc":"2.0","id":1,"method":"admin_only"}`)
	if got, ok := attrs(f.only(t).Attributes)["enduser.id"]; ok {
		t.Errorf("enduser.id = %q without credentials", got)
	}

	// In a batch, public calls that share the token get no subject, and
	// reading it races with no sibling's check (-race holds this).
	f.spans.Reset()
	var b strings.Builder
	b.WriteByte('[')
	for i := range 8 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"echo","params":["x"]},{"jsonrpc":"2.0","id":%d,"method":"admin_only"}`, 2*i, 2*i+1)
	}
	b.WriteByte(']')
	f.post(t, b.String(), "Authorization: Bearer "+tokenAdmin)
	for _, s := range f.spans.GetSpans() {
		got, ok := attrs(s.Attributes)["enduser.id"]
		switch s.Name {
		case "admin_only":
			if got != "alice" {
				t.Errorf("admin_only in a batch: enduser.id = %q, want alice", got)
			}
		default:
			if ok {
				t.Errorf("%s (public, or the batch) has enduser.id %q", s.Name, got)
			}
		}
	}
}

// TestMetrics: the duration histogram counts calls by method and outcome,
// and the in-flight counter returns to zero.
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.post(t, `{"jsonrpc":"2.0","id":1,"method":"echo","params":["x"]}`)
	}
	f.post(t, `{"jsonrpc":"2.0","id":1,"method":"admin_only"}`, "Authorization: Bearer "+tokenUser)
	rm := f.metrics(t)

	m, ok := findMetric(rm, otelrpc.MetricCallDuration)
	if !ok {
		t.Fatalf("no %s", otelrpc.MetricCallDuration)
	}
	if m.Unit != "s" {
		t.Errorf("unit %q, want s", m.Unit)
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T", m.Name, m.Data)
	}
	got := map[string]uint64{}
	for _, dp := range h.DataPoints {
		got[setString(dp.Attributes)] += dp.Count
	}
	want := map[string]uint64{
		"rpc.method=echo,rpc.system.name=jsonrpc": 3,
		"error.type=-32003,rpc.method=admin_only,rpc.response.status_code=-32003,rpc.system.name=jsonrpc,warden.auth.result=forbidden": 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("duration counts\n got %v\nwant %v", got, want)
	}

	a, ok := findMetric(rm, otelrpc.MetricActiveCalls)
	if !ok {
		t.Fatalf("no %s", otelrpc.MetricActiveCalls)
	}
	sum, ok := a.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T", a.Name, a.Data)
	}
	if len(sum.DataPoints) != 2 {
		t.Errorf("%d in-flight series, want 2 (echo, admin_only)", len(sum.DataPoints))
	}
	for _, dp := range sum.DataPoints {
		if dp.Value != 0 {
			t.Errorf("%s in flight after the calls: %d", setString(dp.Attributes), dp.Value)
		}
	}
}

// TestActiveCalls: a call that is running counts in flight.
func TestActiveCalls(t *testing.T) {
	f := newFixture(t)
	done := make(chan string)
	go func() { done <- f.post(t, `{"jsonrpc":"2.0","id":1,"method":"wait"}`) }()
	<-f.entered
	inFlight := func() int64 {
		m, ok := findMetric(f.metrics(t), otelrpc.MetricActiveCalls)
		if !ok {
			t.Fatalf("no %s", otelrpc.MetricActiveCalls)
		}
		var n int64
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			n += dp.Value
		}
		return n
	}
	if n := inFlight(); n != 1 {
		t.Errorf("in flight during the call: %d, want 1", n)
	}
	close(f.release)
	<-done
	if n := inFlight(); n != 0 {
		t.Errorf("in flight after the call: %d, want 0", n)
	}
}

func setString(s attribute.Set) string {
	var b strings.Builder
	for i, kv := range s.ToSlice() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(kv.Key) + "=" + kv.Value.String())
	}
	return b.String()
}

// TestTraceparent: a call continues the trace that the caller's W3C
// traceparent names, sent with a POST or with a WebSocket's handshake.
func TestTraceparent(t *testing.T) {
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
		tp      = "00-" + traceID + "-" + spanID + "-01"
	)
	for _, scheme := range []string{"http", "ws"} {
		t.Run(scheme, func(t *testing.T) {
			f := newFixture(t)
			url := scheme + strings.TrimPrefix(f.url, "http")
			c, err := transport.Dial(context.Background(), url, transport.WithHeader("traceparent", tp))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			for range 2 {
				var got string
				if err := c.Call(context.Background(), "echo", []string{"x"}, &got); err != nil {
					t.Fatal(err)
				}
			}
			spans := f.spans.GetSpans()
			if len(spans) != 2 {
				t.Fatalf("%d spans, want 2", len(spans))
			}
			for _, s := range spans {
				if s.SpanContext.TraceID().String() != traceID || s.Parent.SpanID().String() != spanID || !s.Parent.IsRemote() {
					t.Errorf("span in trace %s with parent %s (remote %v), want trace %s parent %s",
						s.SpanContext.TraceID(), s.Parent.SpanID(), s.Parent.IsRemote(), traceID, spanID)
				}
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		f := newFixture(t)
		f.post(t, `{"jsonrpc":"2.0","id":1,"method":"echo","params":["x"]}`)
		if s := f.only(t); s.Parent.IsValid() {
			t.Errorf("span has parent %v, want a root", s.Parent)
		}
	})
}

// TestSessionLinks: with WithSessionLinks, each call on a WebSocket starts
// a trace of its own linked to the handshake's; a POST stays a child.
func TestSessionLinks(t *testing.T) {
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
		tp      = "00-" + traceID + "-" + spanID + "-01"
	)
	f := newFixture(t, otelrpc.WithSessionLinks(),
		otelrpc.WithPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})))
	ctx := context.Background()
	ws, err := transport.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http"),
		transport.WithHeader("traceparent", tp), transport.WithHeader("baggage", "tenant=acme"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ws.Close() }()
	for range 2 {
		// What else the handshake carried still reaches the call.
		var tenant string
		if err := ws.Call(ctx, "tenant", nil, &tenant); err != nil || tenant != "acme" {
			t.Fatalf("tenant %q, %v; want the handshake's baggage, acme", tenant, err)
		}
	}
	spans := f.spans.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	if spans[0].SpanContext.TraceID() == spans[1].SpanContext.TraceID() {
		t.Error("two calls on one connection share a trace")
	}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() == traceID || s.Parent.IsValid() {
			t.Errorf("a WebSocket call is in the handshake's trace (parent %v)", s.Parent)
		}
		if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != traceID || s.Links[0].SpanContext.SpanID().String() != spanID {
			t.Errorf("links %v, want one to the handshake's %s/%s", s.Links, traceID, spanID)
		}
	}

	f.spans.Reset()
	f.post(t, `{"jsonrpc":"2.0","id":1,"method":"echo","params":["x"]}`, "traceparent: "+tp)
	if s := f.only(t); s.SpanContext.TraceID().String() != traceID || s.Parent.SpanID().String() != spanID || len(s.Links) != 0 {
		t.Errorf("a POST's call: trace %s parent %s links %v, want the caller's trace as parent", s.SpanContext.TraceID(), s.Parent.SpanID(), s.Links)
	}
}

// TestLimitHits: the clients a handler's limits stop are counted by
// limit.
func TestLimitHits(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Post(f.url, "application/json", strings.NewReader(strings.Repeat(" ", transport.DefaultMaxBodyBytes+1)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized body: %s, want 413", resp.Status)
	}
	m, ok := findMetric(f.metrics(t), otelrpc.MetricLimitHits)
	if !ok {
		t.Fatalf("no %s", otelrpc.MetricLimitHits)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic {
		t.Fatalf("%s is a %T, want a monotonic sum", m.Name, m.Data)
	}
	got := map[string]int64{}
	for _, dp := range sum.DataPoints {
		v, _ := dp.Attributes.Value(otelrpc.KeyLimit)
		got[v.AsString()] = dp.Value
	}
	if len(got) != 9 || got["body_bytes"] != 1 || got["connections"] != 0 {
		t.Errorf("limit hits %v, want 9 limits, body_bytes 1, the rest 0", got)
	}
}
