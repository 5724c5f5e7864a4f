package main

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// metrics is what GET /metrics serves with -metrics: a registry of the
// app's own, never Prometheus' global one. Its labels name registered
// methods, error codes and security outcomes only, so the series are
// bounded by methods × codes × outcomes.
type metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec // method, code, auth
	active   *prometheus.GaugeVec     // method
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "warden_rpc_server_call_duration_seconds",
			Help: "Duration of JSON-RPC calls, by method (_OTHER for one that is not registered), " +
				"code (the JSON-RPC error code, or ok for a result) and auth (what the security check " +
				"came to: ok, missing, invalid, expired, revoked, forbidden or unknown; empty for a public method).",
			// A call here takes about 100 µs and a sign-in tens of
			// milliseconds; Prometheus' default buckets start at 5 ms and
			// would put most calls in the first.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "code", "auth"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "warden_rpc_server_active_calls",
			Help: "JSON-RPC calls running now, by method (_OTHER for one that is not registered).",
		}, []string{"method"}),
	}
	m.reg.MustRegister(m.duration, m.active,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watch adds the gauges that are read when /metrics is scraped: the
// transport's WebSockets, the server's subscriptions and the revocation
// feed's lag. It is called once, when they exist.
func (m *metrics) watch(api *transport.Handler, srv *rpc.Server, revocations *security.RevocationCache) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "warden_websocket_connections",
			Help: "Open WebSocket connections, those being upgraded included.",
		}, func() float64 { return float64(api.Stats().WebSockets) }),
		limitHits{api},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "warden_websocket_partial_bytes",
			Help: "Bytes of unfinished inbound WebSocket messages held in memory.",
		}, func() float64 { return float64(api.Stats().PartialBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "warden_subscriptions",
			Help: "Open subscriptions (audit_subscribe), on all connections.",
		}, func() float64 { return float64(srv.Subscriptions()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "warden_revocation_lag_seconds",
			Help: "How long ago this instance last read the revocation state, or -1 before its first read. " +
				"Past -max-staleness, protected calls fail and /healthz answers 503.",
		}, func() float64 {
			lag := revocations.Lag()
			if lag < 0 {
				return -1
			}
			return lag.Seconds()
		}),
	)
}

// limitHits collects warden_limit_hits_total: the times each of the
// transport's limits was hit, read from its Stats at scrape time.
type limitHits struct{ api *transport.Handler }

var limitHitsDesc = prometheus.NewDesc("warden_limit_hits_total",
	"The times a limit of the transport was hit, by limit: body_bytes (413), connections (503), "+
		"message_bytes (1009), message_timeout (1008), partial_budget (1013), invalid_utf8 (1007), "+
		"pong_timeout, write_timeout, and connection_budget (an answer, or a batch's, sent as -32005).",
	[]string{"limit"}, nil)

func (l limitHits) Describe(ch chan<- *prometheus.Desc) { ch <- limitHitsDesc }

func (l limitHits) Collect(ch chan<- prometheus.Metric) {
	for name, n := range l.api.Stats().Limits.All() {
		ch <- prometheus.MustNewConstMetric(limitHitsDesc, prometheus.CounterValue, float64(n), name)
	}
}

// handler serves the registry in Prometheus' formats. Collection errors
// go to logger.
func (m *metrics) handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
		Registry: m.reg, // counts failed scrapes in promhttp_metric_handler_errors_total
	})
}

// interceptor records each call's duration under its method and outcome,
// and counts it among the active calls while it runs.
func (m *metrics) interceptor() rpc.Interceptor {
	return func(next rpc.Handler) rpc.Handler {
		// The engine builds one chain per method, at registration, so this
		// closure serves one method: its series are found on its first call.
		var cached atomic.Pointer[methodSeries]
		return func(ctx context.Context, req *rpc.Request) (res any, err error) {
			start := time.Now()
			s := cached.Load()
			if s == nil || s.method != req.Method {
				s = m.methodSeries(req.Method)
				cached.Store(s)
			}
			s.active.Inc()
			returned := false
			defer func() {
				sent := err
				if !returned { // a panic, which the engine answers with -32603
					sent = errPanicked
				}
				s.observer(outcomeOf(req.Method, sent)).Observe(time.Since(start).Seconds())
				s.active.Dec()
			}()
			res, err = next(ctx, req)
			returned = true
			return res, err
		}
	}
}

// methodSeries is one method's children of the call metrics. Its
// histogram series are made on the first call of each outcome and kept in
// a map that is copied on write, so that a call looks its series up
// without a lock or an allocation.
type methodSeries struct {
	method   *rpc.Method
	name     string
	duration *prometheus.HistogramVec
	active   prometheus.Gauge

	mu        sync.Mutex // held to add an outcome
	byOutcome atomic.Pointer[map[outcome]prometheus.Observer]
}

func (m *metrics) methodSeries(method *rpc.Method) *methodSeries {
	name := methodName(method)
	s := &methodSeries{method: method, name: name, duration: m.duration, active: m.active.WithLabelValues(name)}
	s.byOutcome.Store(&map[outcome]prometheus.Observer{})
	return s
}

// outcome is how a call ended, as the labels code and auth say it.
type outcome struct {
	failed bool
	code   int    // the JSON-RPC error code when failed
	auth   string // rpc.AuthResult
}

func outcomeOf(m *rpc.Method, err error) outcome {
	o := outcome{auth: rpc.AuthResult(m, err)}
	if e := rpc.ErrorOf(err); e != nil {
		o.failed, o.code = true, e.Code
	}
	return o
}

func (s *methodSeries) observer(o outcome) prometheus.Observer {
	if obs, ok := (*s.byOutcome.Load())[o]; ok {
		return obs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.byOutcome.Load()
	if obs, ok := old[o]; ok {
		return obs
	}
	code := "ok"
	if o.failed {
		code = strconv.Itoa(o.code)
	}
	obs := s.duration.WithLabelValues(s.name, code, o.auth)
	next := maps.Clone(old)
	next[o] = obs
	s.byOutcome.Store(&next)
	return obs
}
