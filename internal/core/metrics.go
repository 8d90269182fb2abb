package core

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics counts the middlewares' decisions per route with one
// OpenTelemetry counter, protocors.decisions, whose attributes say which
// RPC (OpenTelemetry's RPC semantic conventions: rpc.system, rpc.service,
// rpc.method; for gateway routes also http.route and http.request.method)
// and which outcome. The raw Origin is never an attribute: its values are
// unbounded; refused origins are in the log (WithLogger).
type Metrics struct {
	counter metric.Int64Counter
}

// Instrument and attribute names.
const (
	MetricName   = "protocors.decisions"
	AttrOutcome  = "protocors.outcome"
	AttrReason   = "protocors.reason"
	meterName    = "github.com/protocors/protocors"
	outcomeCount = 9
)

// The values of AttrOutcome (and AttrReason for refused preflights).
const (
	OutcomePreflightAllowed    = "preflight_allowed"
	OutcomePreflightRefused    = "preflight_refused"
	OutcomeActualGranted       = "actual_granted"
	OutcomeActualNotGranted    = "actual_not_granted"
	OutcomeCrossOriginRefused  = "cross_origin_refused"
	OutcomeCrossOriginReported = "cross_origin_reported"
)

// NewMetrics creates the counter on a meter of mp.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	c, err := mp.Meter(meterName).Int64Counter(MetricName,
		metric.WithDescription("CORS decisions of the protocors middleware, by RPC and outcome: preflights allowed or refused (with the reason), actual cross-origin requests granted or not, requests the cross-origin request protection refused or reported."),
		metric.WithUnit("{request}"))
	if err != nil {
		return nil, err
	}
	return &Metrics{counter: c}, nil
}

// Counts are one route's precomputed attribute sets, one per outcome, so
// counting allocates nothing. A nil *Counts counts nothing: the middlewares
// call it unconditionally and pay one comparison when metrics are off.
type Counts struct {
	counter metric.Int64Counter
	// opts[i] is a one-element slice, passed as Add's variadic options so
	// that no slice is made per call.
	opts [outcomeCount][]metric.AddOption
}

// Indexes into Counts.opts.
const (
	iPreflightAllowed = iota
	iRefusedOrigin
	iRefusedMethod
	iRefusedHeader
	iRefusedMalformed
	iActualGranted
	iActualNotGranted
	iCrossOriginRefused
	iCrossOriginReported
)

// Route returns the Counts of a route with these attributes; nil when m is
// nil.
func (m *Metrics) Route(route ...attribute.KeyValue) *Counts {
	if m == nil {
		return nil
	}
	c := &Counts{counter: m.counter}
	set := func(i int, kv ...attribute.KeyValue) {
		c.opts[i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(append(append([]attribute.KeyValue(nil), route...), kv...)...))}
	}
	outcome := attribute.Key(AttrOutcome)
	reason := attribute.Key(AttrReason)
	set(iPreflightAllowed, outcome.String(OutcomePreflightAllowed))
	set(iRefusedOrigin, outcome.String(OutcomePreflightRefused), reason.String("origin"))
	set(iRefusedMethod, outcome.String(OutcomePreflightRefused), reason.String("method"))
	set(iRefusedHeader, outcome.String(OutcomePreflightRefused), reason.String("header"))
	set(iRefusedMalformed, outcome.String(OutcomePreflightRefused), reason.String("malformed"))
	set(iActualGranted, outcome.String(OutcomeActualGranted))
	set(iActualNotGranted, outcome.String(OutcomeActualNotGranted))
	set(iCrossOriginRefused, outcome.String(OutcomeCrossOriginRefused))
	set(iCrossOriginReported, outcome.String(OutcomeCrossOriginReported))
	return c
}

// Preflight counts a preflight answered with out.
func (c *Counts) Preflight(ctx context.Context, out Outcome) {
	if c == nil {
		return
	}
	i := iPreflightAllowed
	switch out.Reason {
	case OriginNotAllowed:
		i = iRefusedOrigin
	case MethodNotAllowed:
		i = iRefusedMethod
	case HeaderNotAllowed:
		i = iRefusedHeader
	case MalformedRequest:
		i = iRefusedMalformed
	}
	c.counter.Add(ctx, 1, c.opts[i]...)
}

// Actual counts an actual request that carried an Origin, granted or not.
func (c *Counts) Actual(ctx context.Context, granted bool) {
	if c == nil {
		return
	}
	i := iActualNotGranted
	if granted {
		i = iActualGranted
	}
	c.counter.Add(ctx, 1, c.opts[i]...)
}

// CrossOrigin counts a request the protection refused or reported.
func (c *Counts) CrossOrigin(ctx context.Context, v Verdict) {
	if c == nil || v == Pass {
		return
	}
	i := iCrossOriginRefused
	if v == Report {
		i = iCrossOriginReported
	}
	c.counter.Add(ctx, 1, c.opts[i]...)
}
