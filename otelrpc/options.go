package otelrpc

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

type config struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	prop    propagation.TextMapPropagator
	subject bool
	links   bool
}

// Option configures [New].
type Option func(*config)

// WithTracerProvider sets where spans go. The default is OpenTelemetry's
// global provider (otel.GetTracerProvider), as it is when it is read.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	}
}

// WithMeterProvider sets where metrics go. The default is OpenTelemetry's
// global provider (otel.GetMeterProvider), as it is when it is read.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// WithPropagator sets how the caller's trace context is read from the
// request's headers. The default is W3C Trace Context
// (propagation.TraceContext), not the global propagator, which does
// nothing unless a program sets one.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) {
		if p != nil {
			c.prop = p
		}
	}
}

// WithSubject records, on each span that records, the subject of the
// caller's credential as enduser.id: for a method with a requirement, the
// first credential of a scheme it names that names a subject
// (rpc.SubjectCredential, as *security.Principal does). Public methods
// get none. Off by default: a subject is personal data,
// and tracing backends are rarely where it should go. Metrics never carry
// it.
func WithSubject() Option { return func(c *config) { c.subject = true } }

// WithSessionLinks makes each call on a session (a WebSocket connection)
// the root of a trace of its own, linked to the trace its handshake named,
// instead of a child of it. Without it, every call of a connection that
// stays open for hours joins the one trace of its handshake, which few
// tracing backends show well. Calls over HTTP POST are children of their
// request's trace either way.
func WithSessionLinks() Option { return func(c *config) { c.links = true } }

func newConfig(opts []Option) config {
	c := config{prop: propagation.TraceContext{}}
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return c
}
