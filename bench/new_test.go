package bench_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// newMethods is the registry size New is measured at.
const newMethods = 10000

// newTarget is the time New must stay under at newMethods methods (the
// target README.md's New table states).
const newTarget = 100 * time.Millisecond

// constructor builds one of our middlewares from a registry.
type constructor struct {
	name string
	new  func(*protoregistry.Files) error
	// rule, if set, binds method i instead of benchFiles' literal rules.
	rule func(i int) *annotations.HttpRule
}

// files returns the registry c is measured over.
func (c constructor) files(tb testing.TB) *protoregistry.Files {
	if c.rule != nil {
		return benchFilesWith(tb, newMethods, specOne.proto(), c.rule)
	}
	return benchFiles(tb, newMethods, specOne.proto())
}

// constructors are appended by ours_*_test.go.
var constructors []constructor

// BenchmarkNew measures building a middleware over newMethods methods in
// 100 services, each with its own http rule; B/op is the memory New
// allocates.
func BenchmarkNew(b *testing.B) {
	for _, c := range constructors {
		files := c.files(b)
		b.Run(fmt.Sprintf("impl=%s/methods=%d", c.name, newMethods), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.new(files); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNewAt10kMethods reports New's time and memory at newMethods methods.
// It fails only at ten times newTarget, so a noisy machine does not
// make it flaky; the benchmark and README.md hold the real figure.
func TestNewAt10kMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a large registry")
	}
	for _, c := range constructors {
		files := c.files(t)
		best := time.Duration(1<<63 - 1)
		var alloc uint64
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			if err := c.new(files); err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			runtime.ReadMemStats(&after)
			if d < best {
				best, alloc = d, after.TotalAlloc-before.TotalAlloc
			}
		}
		t.Logf("%s: New at %d methods: %.1f ms, %.1f MB allocated (target %v)",
			c.name, newMethods, float64(best)/1e6, float64(alloc)/(1<<20), newTarget)
		if best > 10*newTarget {
			t.Errorf("%s: New at %d methods took %v, ten times the target of %v", c.name, newMethods, best, newTarget)
		}
	}
}
