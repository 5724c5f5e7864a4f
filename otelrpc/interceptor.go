package otelrpc

import (
	"context"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/wardenrpc/warden/otelrpc"

// Attribute keys. Those without the warden prefix are OpenTelemetry's;
// see the package documentation.
const (
	KeySystemName      = attribute.Key("rpc.system.name")
	KeyMethod          = attribute.Key("rpc.method")
	KeyMethodOriginal  = attribute.Key("rpc.method_original")
	KeyStatusCode      = attribute.Key("rpc.response.status_code")
	KeyErrorType       = attribute.Key("error.type")
	KeyRequestID       = attribute.Key("jsonrpc.request.id")
	KeyProtocolVersion = attribute.Key("jsonrpc.protocol.version")
	KeyAuthResult      = attribute.Key("warden.auth.result")
	KeyBatchSize       = attribute.Key("warden.batch.size")
	KeyEnduserID       = attribute.Key("enduser.id") // only with WithSubject
)

// OtherMethod is the rpc.method of a call to a method that is not
// registered, as the conventions name it, so that the series of metrics
// stay bounded whatever names callers send.
const OtherMethod = "_OTHER"

// BatchSpanName is the name of a batch's span, the parent of the spans of
// its calls.
const BatchSpanName = "jsonrpc.batch"

var (
	systemJSONRPC = KeySystemName.String("jsonrpc")
	protocol20    = KeyProtocolVersion.String("2.0")
)

// Telemetry traces and measures one server's calls, as the package
// documentation describes. Create it with [New], and give its
// [Telemetry.Interceptor] and [Telemetry.BatchInterceptor] to
// rpc.NewServer. It is safe for concurrent use.
type Telemetry struct {
	tracer   trace.Tracer // nil when tracing is off
	subject  bool         // WithSubject
	links    bool         // WithSessionLinks
	prop     propagation.TextMapPropagator
	duration metric.Float64Histogram

	mu       sync.Mutex
	methods  []*methodTelemetry // those called at least once, for the in-flight callback
	handlers []*transport.Handler
	servers  []*rpc.Server
	feeds    []RevocationFeed
	limits   map[string]metric.ObserveOption // by limit, for limit_hits
}

// New returns a Telemetry whose instruments are made, once, from the
// providers that opts name.
func New(opts ...Option) *Telemetry {
	cfg := newConfig(opts)
	t := &Telemetry{prop: cfg.prop, subject: cfg.subject, links: cfg.links}
	if _, off := cfg.tp.(noop.TracerProvider); !off {
		t.tracer = cfg.tp.Tracer(ScopeName)
	}
	t.makeInstruments(cfg.mp.Meter(ScopeName))
	return t
}

// Interceptor returns the interceptor that gives each call a span and
// records its duration. Give it to rpc.NewServer with rpc.WithInterceptors,
// first, so that it times everything the other interceptors do.
func (t *Telemetry) Interceptor() rpc.Interceptor { return t.wrap }

// BatchInterceptor returns the batch interceptor that gives each batch a
// span, the parent of its calls' spans. Give it to rpc.NewServer with
// rpc.WithBatchInterceptors. Without it, a batch's calls are siblings.
func (t *Telemetry) BatchInterceptor() rpc.BatchInterceptor { return t.batch }

// batchKey marks a context inside a batch's span: its calls do not read
// the caller's trace context again, which would make them the batch's
// siblings.
type batchKey struct{}

func (t *Telemetry) batch(ctx context.Context, size int, run func(context.Context)) {
	if t.tracer == nil {
		run(ctx)
		return
	}
	ctx, span := t.start(ctx, BatchSpanName, []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(systemJSONRPC, protocol20, KeyBatchSize.Int(size))})
	defer span.End()
	run(context.WithValue(ctx, batchKey{}, true))
}

// start starts a span in the caller's trace: the one the request's headers
// name (the POST's, or the WebSocket handshake's), unless the call is
// inside a batch, whose span is then its parent. With WithSessionLinks, a
// call on a session starts a trace of its own, linked to the handshake's.
func (t *Telemetry) start(ctx context.Context, name string, opts []trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx.Value(batchKey{}) == nil {
		if h := transport.HeadersFrom(ctx); h != nil {
			// All that the propagator reads (baggage, say) reaches the
			// call; with links, only the parent span is set aside.
			ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(h))
			if t.links && rpc.SessionFrom(ctx) != nil {
				opts = append(opts[:len(opts):len(opts)], trace.WithNewRoot())
				if link := trace.LinkFromContext(ctx); link.SpanContext.IsValid() {
					opts = append(opts, trace.WithLinks(link))
				}
			}
		}
	}
	return t.tracer.Start(ctx, name, opts...)
}

// methodTelemetry is what every call of one method shares, made on its
// first call: its attributes, and its metric series by outcome.
type methodTelemetry struct {
	name      string // the Method's: "" for every method not registered
	spanName  string
	method    attribute.KeyValue // rpc.method
	startOpts []trace.SpanStartOption
	series    atomic.Pointer[map[seriesKey]*series] // copied on write: read without a lock
	seriesMu  sync.Mutex                            // held to add a series

	active      atomic.Int64 // calls running now
	activeAttrs metric.ObserveOption
}

type seriesKey struct {
	code int
	auth string
}

// wrap runs once per method, at registration; the method is known at its
// first call.
func (t *Telemetry) wrap(next rpc.Handler) rpc.Handler {
	var cached atomic.Pointer[methodTelemetry]
	return func(ctx context.Context, req *rpc.Request) (res any, err error) {
		start := time.Now()
		mt := cached.Load()
		if mt == nil || mt.name != req.Method.Name {
			mt = t.methodTelemetry(req.Method)
			cached.Store(mt)
		}
		span := noSpan
		if t.tracer != nil {
			ctx, span = t.start(ctx, mt.spanName, mt.startOpts)
		}
		mt.active.Add(1)

		done := false
		defer func() {
			if !done { // a panic: the engine answers -32603 and logs it
				t.end(ctx, span, mt, req, start, rpc.CodeInternalError, "Internal error",
					rpc.AuthResult(req.Method, errPanic))
			}
		}()
		res, err = next(ctx, req)
		done = true
		code, message := 0, ""
		if e := rpc.ErrorOf(err); e != nil {
			code, message = e.Code, e.Message
		}
		t.end(ctx, span, mt, req, start, code, message, rpc.AuthResult(req.Method, err))
		return res, err
	}
}

// errPanic is what a call that panicked returns, as the engine answers it.
var errPanic = rpc.NewError(rpc.CodeInternalError, "Internal error", nil)

// noSpan stands for the span of a call when tracing is off.
var noSpan = trace.SpanFromContext(context.Background())

// methodTelemetry returns the method's shared telemetry, made once per
// method: every method that is not registered shares one.
func (t *Telemetry) methodTelemetry(m *rpc.Method) *methodTelemetry {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, mt := range t.methods {
		if mt.name == m.Name {
			return mt
		}
	}
	name, spanName := m.Name, m.Name
	if !m.Registered() {
		// The conventions' fallback when the method is not known: the
		// span is named after the system.
		name, spanName = OtherMethod, "jsonrpc"
	}
	method := KeyMethod.String(name)
	mt := &methodTelemetry{
		name:     m.Name,
		spanName: spanName,
		method:   method,
		// The method's attributes are set once a span is known to record
		// (see endAttrs): start options are applied to every span, sampled
		// or not, and attributes given there are copied each time.
		startOpts:   []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)},
		activeAttrs: metric.WithAttributeSet(attribute.NewSet(systemJSONRPC, method)),
	}
	t.methods = append(t.methods, mt)
	return mt
}

// outcomeAttrs returns the attributes that say how a call ended.
func outcomeAttrs(code int, auth string) []attribute.KeyValue {
	var kvs []attribute.KeyValue
	if code != 0 {
		c := strconv.Itoa(code)
		kvs = append(kvs, KeyStatusCode.String(c), KeyErrorType.String(c))
	}
	if auth != "" {
		kvs = append(kvs, KeyAuthResult.String(auth))
	}
	return kvs
}

// series is one metric series of a method: the options for its
// measurements, and the attributes that say how its calls ended, for
// their spans.
type series struct {
	rec   []metric.RecordOption // one option, made once: a variadic call would allocate
	attrs []attribute.KeyValue
}

func (t *Telemetry) end(ctx context.Context, span trace.Span, mt *methodTelemetry, req *rpc.Request, start time.Time, code int, message, auth string) {
	elapsed := time.Since(start).Seconds()
	s := mt.seriesOf(seriesKey{code, auth})
	if span.IsRecording() {
		span.SetAttributes(endAttrs(mt, req, s.attrs)...)
		if t.subject {
			if sub := subjectOf(ctx, req.Method); sub != "" {
				span.SetAttributes(KeyEnduserID.String(sub))
			}
		}
		if code != 0 {
			span.SetStatus(codes.Error, message)
		}
	}
	span.End()
	t.duration.Record(ctx, elapsed, s.rec...)
	mt.active.Add(-1)
}

// seriesOf returns the method's series for an outcome, made on its first
// call.
func (mt *methodTelemetry) seriesOf(key seriesKey) *series {
	if m := mt.series.Load(); m != nil {
		if s, ok := (*m)[key]; ok {
			return s
		}
	}
	mt.seriesMu.Lock()
	defer mt.seriesMu.Unlock()
	old := map[seriesKey]*series{}
	if m := mt.series.Load(); m != nil {
		if s, ok := (*m)[key]; ok {
			return s
		}
		old = *m
	}
	attrs := outcomeAttrs(key.code, key.auth)
	all := append([]attribute.KeyValue{systemJSONRPC, mt.method}, attrs...)
	s := &series{[]metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(all...))}, attrs}
	next := maps.Clone(old)
	next[key] = s
	mt.series.Store(&next)
	return s
}

// endAttrs returns the attributes a recording span gets as its call ends,
// in one slice, so that the span grows its own once: the system's, the
// method's, the id, the name sent for a method that is not registered, and
// how the call ended.
func endAttrs(mt *methodTelemetry, req *rpc.Request, outcome []attribute.KeyValue) []attribute.KeyValue {
	kvs := make([]attribute.KeyValue, 0, 5+len(outcome))
	kvs = append(kvs, systemJSONRPC, mt.method, protocol20)
	if id, ok := truncated(req.ID, true); ok {
		kvs = append(kvs, KeyRequestID.String(id))
	}
	if !req.Method.Registered() {
		name, _ := truncated([]byte(req.Name), false)
		kvs = append(kvs, KeyMethodOriginal.String(name))
	}
	return append(kvs, outcome...)
}

// subjectOf returns the subject of the first credential that names one,
// of a scheme m's requirement names, or "": none for a public method,
// whatever credentials came with the call. It runs no scheme: the
// requirement's check has run those the call needed.
func subjectOf(ctx context.Context, m *rpc.Method) string {
	var sub string
	rpc.CredentialsFrom(ctx).Each(func(scheme string, cred rpc.Credential) {
		sc, ok := cred.(rpc.SubjectCredential)
		if !ok || sub != "" {
			return
		}
		for _, alt := range m.Requirement {
			if _, named := alt[scheme]; named {
				sub = sc.CredentialSubject()
				return
			}
		}
	})
	return sub
}
