package otelrpc

import (
	"context"
	"math"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/transport"
)

// Metric names; see the package documentation.
const (
	MetricCallDuration   = "rpc.server.call.duration"
	MetricActiveCalls    = "warden.rpc.server.active_calls"
	MetricWebSockets     = "warden.rpc.server.websocket.connections"
	MetricSubscriptions  = "warden.rpc.server.subscriptions"
	MetricRevocationsLag = "warden.security.revocations.lag"
	MetricLimitHits      = "warden.rpc.server.limit_hits"
)

// KeyLimit names the limit a client hit, on warden.rpc.server.limit_hits:
// one of the names transport.LimitHits.All gives.
const KeyLimit = attribute.Key("warden.limit")

// RevocationFeed is what [Telemetry.ObserveRevocations] reads: how long
// ago revocations were last read from their log, negative before the
// first read. *security.RevocationCache is one.
type RevocationFeed interface {
	Lag() time.Duration
}

// ObserveHandler adds h's open WebSocket connections to the
// warden.rpc.server.websocket.connections gauge, and the times its limits
// were hit to warden.rpc.server.limit_hits. Several handlers add up.
func (t *Telemetry) ObserveHandler(h *transport.Handler) {
	t.mu.Lock()
	t.handlers = append(t.handlers, h)
	t.mu.Unlock()
}

// ObserveServer adds srv's open subscriptions to the
// warden.rpc.server.subscriptions gauge. Several servers add up.
func (t *Telemetry) ObserveServer(srv *rpc.Server) {
	t.mu.Lock()
	t.servers = append(t.servers, srv)
	t.mu.Unlock()
}

// ObserveRevocations reports f's lag as the warden.security.revocations.lag
// gauge; with several feeds, the largest lag. Nothing is reported before
// the first read.
func (t *Telemetry) ObserveRevocations(f RevocationFeed) {
	t.mu.Lock()
	t.feeds = append(t.feeds, f)
	t.mu.Unlock()
}

// makeInstruments makes the instruments and the one callback that reads
// every gauge at collection. An error leaves a no-op instrument, and goes
// to otel.Handle as the SDKs' do.
func (t *Telemetry) makeInstruments(meter metric.Meter) {
	var err error
	t.duration, err = meter.Float64Histogram(MetricCallDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Measures the duration of inbound JSON-RPC calls."),
		// The boundaries the conventions advise for request durations
		// (http.server.request.duration), from 5 ms to 10 s.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		otel.Handle(err)
	}
	// In-flight calls are observed at collection from a counter per
	// method, so that a call pays two atomic adds rather than two
	// measurements.
	active, err := meter.Int64ObservableUpDownCounter(MetricActiveCalls,
		metric.WithUnit("{call}"),
		metric.WithDescription("The JSON-RPC calls running now."))
	if err != nil {
		otel.Handle(err)
	}
	conns, err := meter.Int64ObservableUpDownCounter(MetricWebSockets,
		metric.WithUnit("{connection}"),
		metric.WithDescription("The WebSocket connections open now."))
	if err != nil {
		otel.Handle(err)
	}
	subs, err := meter.Int64ObservableUpDownCounter(MetricSubscriptions,
		metric.WithUnit("{subscription}"),
		metric.WithDescription("The subscriptions open now, on every connection."))
	if err != nil {
		otel.Handle(err)
	}
	lag, err := meter.Float64ObservableGauge(MetricRevocationsLag,
		metric.WithUnit("s"),
		metric.WithDescription("How long ago revocations were last read from their log."))
	if err != nil {
		otel.Handle(err)
	}
	hits, err := meter.Int64ObservableCounter(MetricLimitHits,
		metric.WithUnit("{hit}"),
		metric.WithDescription("The times a limit of the transport was hit, by limit."))
	if err != nil {
		otel.Handle(err)
	}
	if _, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, mt := range t.methods {
			o.ObserveInt64(active, mt.active.Load(), mt.activeAttrs)
		}
		if len(t.handlers) > 0 {
			n := 0
			byLimit := map[string]uint64{}
			var names []string
			for _, h := range t.handlers {
				st := h.Stats()
				n += st.WebSockets
				for name, c := range st.Limits.All() {
					if _, seen := byLimit[name]; !seen {
						names = append(names, name)
					}
					byLimit[name] += c
				}
			}
			o.ObserveInt64(conns, int64(n))
			for _, name := range names {
				o.ObserveInt64(hits, int64(min(byLimit[name], math.MaxInt64)), t.limitAttrs(name))
			}
		}
		if len(t.servers) > 0 {
			n := 0
			for _, s := range t.servers {
				n += s.Subscriptions()
			}
			o.ObserveInt64(subs, int64(n))
		}
		worst, any := time.Duration(-1), false
		for _, f := range t.feeds {
			if l := f.Lag(); l >= 0 {
				worst, any = max(worst, l), true
			}
		}
		if any {
			o.ObserveFloat64(lag, worst.Seconds())
		}
		return nil
	}, active, conns, subs, lag, hits); err != nil {
		otel.Handle(err)
	}
}

// limitAttrs returns the observe option of a limit's series, made once.
// t.mu is held.
func (t *Telemetry) limitAttrs(name string) metric.ObserveOption {
	opt, ok := t.limits[name]
	if !ok {
		if t.limits == nil {
			t.limits = map[string]metric.ObserveOption{}
		}
		opt = metric.WithAttributeSet(attribute.NewSet(systemJSONRPC, KeyLimit.String(name)))
		t.limits[name] = opt
	}
	return opt
}
