package otelrpc

import (
	"context"
	"strconv"
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
		// The conventions' advice: a call is expected to take from a
		// fraction of a millisecond to seconds.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		otel.Handle(err) // the instrument returned still works as a no-op
	}
	t.active, err = meter.Int64UpDownCounter(MetricActiveCalls,
		metric.WithUnit("{call}"),
		metric.WithDescription("The JSON-RPC calls running now."))
	if err != nil {
		otel.Handle(err)
	}
	return t.wrap
}

type telemetry struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
}

// wrap runs once per method, at registration.
func (t *telemetry) wrap(next rpc.Handler) rpc.Handler {
	return func(ctx context.Context, req *rpc.Request) (res any, err error) {
		start := time.Now()
		if h := transport.HeadersFrom(ctx); h != nil {
			ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(h))
		}
		name := req.Method.Name
		method := KeyMethod.String(name)
		startOpts := []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(systemJSONRPC, method, protocol20),
		}
		if id, ok := requestID(req.ID); ok {
			startOpts = append(startOpts, trace.WithAttributes(KeyRequestID.String(id)))
		}
		ctx, span := t.tracer.Start(ctx, name, startOpts...)
		activeAttrs := metric.WithAttributes(systemJSONRPC, method)
		t.active.Add(ctx, 1, activeAttrs)

		done := false
		defer func() {
			if !done { // a panic: the engine answers -32603 and logs it
				t.end(ctx, span, req.Method, start, outcome{code: rpc.CodeInternalError, message: "Internal error"}, activeAttrs)
			}
		}()
		res, err = next(ctx, req)
		done = true
		t.end(ctx, span, req.Method, start, outcomeOf(req.Method, err), activeAttrs)
		return res, err
	}
}

func (t *telemetry) end(ctx context.Context, span trace.Span, m *rpc.Method, start time.Time, o outcome, activeAttrs metric.AddOption) {
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, systemJSONRPC, KeyMethod.String(m.Name))
	var spanAttrs []attribute.KeyValue
	if o.code != 0 {
		code := strconv.Itoa(o.code)
		spanAttrs = append(spanAttrs, KeyStatusCode.String(code), KeyErrorType.String(code))
		span.SetStatus(codes.Error, o.message)
	}
	if o.auth != "" {
		spanAttrs = append(spanAttrs, KeyAuthResult.String(o.auth))
	}
	if len(spanAttrs) > 0 {
		span.SetAttributes(spanAttrs...)
	}
	attrs = append(attrs, spanAttrs...)
	span.End()
	t.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
	t.active.Add(ctx, -1, activeAttrs)
}
