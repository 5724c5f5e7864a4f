package otelrpc

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/wardenrpc/warden/otelrpc"

// Attribute keys. The first six are OpenTelemetry's; see the package
// documentation.
const (
	KeySystemName      = attribute.Key("rpc.system.name")
	KeyMethod          = attribute.Key("rpc.method")
	KeyStatusCode      = attribute.Key("rpc.response.status_code")
	KeyErrorType       = attribute.Key("error.type")
	KeyRequestID       = attribute.Key("jsonrpc.request.id")
	KeyProtocolVersion = attribute.Key("jsonrpc.protocol.version")
	KeyAuthResult      = attribute.Key("warden.auth.result")
)

// Metric names; see the package documentation.
const (
	MetricCallDuration = "rpc.server.call.duration"
	MetricActiveCalls  = "warden.rpc.server.active_calls"
)

var (
	systemJSONRPC = KeySystemName.String("jsonrpc")
	protocol20    = KeyProtocolVersion.String("2.0")
)

// Interceptor returns an interceptor that gives each call a span and
// records its duration, as the package documentation describes. Its
// instruments are made once, here.
func Interceptor(opts ...Option) rpc.Interceptor {
	cfg := newConfig(opts)
	t := &telemetry{
		tracer: cfg.tp.Tracer(ScopeName),
		prop:   cfg.prop,
	}
	meter := cfg.mp.Meter(ScopeName)
	var err error
	t.duration, err = meter.Float64Histogram(MetricCallDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Measures the duration of inbound JSON-RPC calls."),
		// The boundaries the conventions advise for request durations
		// (http.server.request.duration), from 5 ms to 10 s.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		otel.Handle(err) // the instrument returned still works as a no-op
	}
	// Observed at collection from a counter per method, so that a call
	// pays two atomic adds rather than two measurements.
	active, err := meter.Int64ObservableUpDownCounter(MetricActiveCalls,
		metric.WithUnit("{call}"),
		metric.WithDescription("The JSON-RPC calls running now."))
	if err != nil {
		otel.Handle(err)
	}
	if _, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, mt := range t.methods {
			o.ObserveInt64(active, mt.active.Load(), mt.activeAttrs)
		}
		return nil
	}, active); err != nil {
		otel.Handle(err)
	}
	return t.wrap
}

type telemetry struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	duration metric.Float64Histogram

	mu      sync.Mutex
	methods []*methodTelemetry // those called at least once, for the in-flight callback
}

// methodTelemetry is what every call of one method shares, made on its
// first call: its attributes, and its metric series by outcome.
type methodTelemetry struct {
	name      string
	startOpts []trace.SpanStartOption
	series    sync.Map // seriesKey → metric.RecordOption

	active      atomic.Int64 // calls running now
	activeAttrs metric.ObserveOption
}

type seriesKey struct {
	code int
	auth string
}

// wrap runs once per method, at registration; the method is known at its
// first call.
func (t *telemetry) wrap(next rpc.Handler) rpc.Handler {
	var cached atomic.Pointer[methodTelemetry]
	return func(ctx context.Context, req *rpc.Request) (res any, err error) {
		start := time.Now()
		mt := cached.Load()
		if mt == nil || mt.name != req.Method.Name {
			mt = t.methodTelemetry(req.Method.Name)
			cached.Store(mt)
		}
		if h := transport.HeadersFrom(ctx); h != nil {
			ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(h))
		}
		ctx, span := t.tracer.Start(ctx, mt.name, mt.startOpts...)
		if id, ok := requestID(req.ID); ok {
			span.SetAttributes(KeyRequestID.String(id))
		}
		mt.active.Add(1)

		done := false
		defer func() {
			if !done { // a panic: the engine answers -32603 and logs it
				t.end(ctx, span, mt, start, outcome{code: rpc.CodeInternalError, message: "Internal error"})
			}
		}()
		res, err = next(ctx, req)
		done = true
		t.end(ctx, span, mt, start, outcomeOf(req.Method, err))
		return res, err
	}
}

// methodTelemetry returns the method's shared telemetry, made once per
// method and name.
func (t *telemetry) methodTelemetry(name string) *methodTelemetry {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, mt := range t.methods {
		if mt.name == name {
			return mt
		}
	}
	method := KeyMethod.String(name)
	mt := &methodTelemetry{
		name: name,
		startOpts: []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(systemJSONRPC, method, protocol20),
		},
		activeAttrs: metric.WithAttributeSet(attribute.NewSet(systemJSONRPC, method)),
	}
	t.methods = append(t.methods, mt)
	return mt
}

// outcomeAttrs returns the attributes that say how a call ended.
func outcomeAttrs(o outcome) []attribute.KeyValue {
	var kvs []attribute.KeyValue
	if o.code != 0 {
		code := strconv.Itoa(o.code)
		kvs = append(kvs, KeyStatusCode.String(code), KeyErrorType.String(code))
	}
	if o.auth != "" {
		kvs = append(kvs, KeyAuthResult.String(o.auth))
	}
	return kvs
}

func (t *telemetry) end(ctx context.Context, span trace.Span, mt *methodTelemetry, start time.Time, o outcome) {
	elapsed := time.Since(start).Seconds()
	key := seriesKey{o.code, o.auth}
	var kvs []attribute.KeyValue
	if o.code != 0 || o.auth != "" {
		kvs = outcomeAttrs(o)
		span.SetAttributes(kvs...)
	}
	if o.code != 0 {
		span.SetStatus(codes.Error, o.message)
	}
	span.End()
	rec, ok := mt.series.Load(key)
	if !ok {
		all := append([]attribute.KeyValue{systemJSONRPC, KeyMethod.String(mt.name)}, kvs...)
		rec, _ = mt.series.LoadOrStore(key, metric.WithAttributeSet(attribute.NewSet(all...)))
	}
	t.duration.Record(ctx, elapsed, rec.(metric.RecordOption))
	mt.active.Add(-1)
}
