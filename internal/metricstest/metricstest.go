// Package metricstest reads the protocors.decisions counter in tests, with
// the OpenTelemetry SDK's manual reader.
package metricstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Decisions collects reader and returns protocors.decisions by attribute
// set, each set written "k=v,k=v" in key order.
func Decisions(t testing.TB, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "protocors.decisions" {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok || !sum.IsMonotonic {
				t.Fatalf("protocors.decisions is %T, want a monotonic int64 sum", m.Data)
			}
			for _, dp := range sum.DataPoints {
				var kv []string
				for _, a := range dp.Attributes.ToSlice() {
					kv = append(kv, fmt.Sprintf("%s=%s", a.Key, a.Value.String()))
				}
				got[strings.Join(kv, ",")] += dp.Value
			}
		}
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
