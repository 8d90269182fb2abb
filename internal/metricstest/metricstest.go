// Package metricstest records what protocors adds to its OpenTelemetry
// counters in tests. Its Provider implements the OpenTelemetry metric API
// (go.opentelemetry.io/otel/metric), which is all the library depends on,
// so the library's go.mod needs no SDK; the example (its own module)
// exercises the SDK and its Prometheus exporter for real.
package metricstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/metric/noop"
)

// Provider is a metric.MeterProvider that sums what is added to each
// Int64Counter, by instrument name and attribute set. Other instruments
// are no-ops.
type Provider struct {
	embedded.MeterProvider

	mu       sync.Mutex
	sums     map[string]map[attribute.Distinct]int64
	sets     map[attribute.Distinct]attribute.Set
	negative []string // counters given a negative increment
}

// NewProvider returns an empty Provider.
func NewProvider() *Provider {
	return &Provider{
		sums: make(map[string]map[attribute.Distinct]int64),
		sets: make(map[attribute.Distinct]attribute.Set),
	}
}

// Meter returns a meter whose Int64Counters record into p.
func (p *Provider) Meter(string, ...metric.MeterOption) metric.Meter {
	return meter{p: p}
}

type meter struct {
	noop.Meter
	p *Provider
}

func (m meter) Int64Counter(name string, _ ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return counter{p: m.p, name: name}, nil
}

type counter struct {
	noop.Int64Counter
	p    *Provider
	name string
}

func (c counter) Enabled(context.Context) bool { return true }

func (c counter) Add(_ context.Context, incr int64, opts ...metric.AddOption) {
	set := metric.NewAddConfig(opts).Attributes()
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if incr < 0 {
		c.p.negative = append(c.p.negative, c.name)
		return
	}
	if c.p.sums[c.name] == nil {
		c.p.sums[c.name] = make(map[attribute.Distinct]int64)
	}
	c.p.sums[c.name][set.Equivalent()] += incr
	c.p.sets[set.Equivalent()] = set
}

// Decisions returns the protocors.decisions counter by attribute set, each
// set written "k=v,k=v" in key order. A negative increment (a counter is
// monotonic) fails t.
func Decisions(t testing.TB, p *Provider) map[string]int64 {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.negative) > 0 {
		t.Fatalf("negative increments to the counters %v", p.negative)
	}
	got := map[string]int64{}
	for d, n := range p.sums["protocors.decisions"] {
		var kv []string
		set := p.sets[d]
		for _, a := range set.ToSlice() {
			kv = append(kv, fmt.Sprintf("%s=%s", a.Key, a.Value.String()))
		}
		got[strings.Join(kv, ",")] += n
	}
	return got
}

// Show lists counts one a line, sorted, for failure messages.
func Show(m map[string]int64) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		lines = append(lines, fmt.Sprintf("  %d %s", m[k], k))
	}
	return strings.Join(lines, "\n")
}
