package bench_test

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"
)

// instance is one row set up for one scenario.
type instance struct {
	h    http.Handler
	r    *http.Request
	body []byte
}

func (s scenario) instance(tb testing.TB, rw row) (instance, bool) {
	return s.instanceRecording(tb, rw, nil)
}

// instanceRecording is instance with the wrapped handler setting *ran when
// ran is not nil, so a test can tell whether the request reached it.
func (s scenario) instanceRecording(tb testing.TB, rw row, ran *bool) (instance, bool) {
	if rw.gateway && s.connectOnly || rw.actualOnly && s.preflite {
		return instance{}, false
	}
	next := http.Handler(bare)
	if s.next != nil {
		next = s.next()
	}
	if ran != nil {
		inner := next
		next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*ran = true
			inner.ServeHTTP(w, r)
		})
	}
	path := echoProcedure
	switch {
	case rw.path != "":
		path = rw.path
	case rw.gateway:
		path = echoPath
	}
	return instance{h: rw.wrap(tb, s.spec, next), r: s.req(path), body: s.body}, true
}

// serve handles one request the way net/http would hand it over: a new
// header map, the body rewound.
func (in *instance) serve(w *recorder) {
	w.reset()
	if in.body != nil {
		in.r.Body.(*body).Reset(in.body)
	}
	in.h.ServeHTTP(w, in.r)
}

// BenchmarkCORS runs every scenario for every row, rows interleaved within
// a scenario. Sub-benchmark names are CORS/scenario=<s>/impl=<row>, so
// benchstat can put rows side by side (-row /scenario -col /impl); the
// "bare" row is the harness's own cost, which cmd/table subtracts.
func BenchmarkCORS(b *testing.B) {
	for _, s := range scenarios {
		b.Run("scenario="+s.name, func(b *testing.B) {
			for _, rw := range rows {
				in, ok := s.instance(b, rw)
				if !ok {
					continue
				}
				b.Run("impl="+rw.name, func(b *testing.B) {
					w := new(recorder)
					b.ReportAllocs()
					for b.Loop() {
						in.serve(w)
					}
				})
			}
		})
	}
}

// sideBySideBlock is how many requests a row serves before the next row
// takes over in BenchmarkSideBySide: long enough for the clock's own cost
// to vanish (one reading per block, under a nanosecond a request), short
// enough (tens of microseconds) that most blocks run without being
// preempted, and that drift on a shared machine hits every row alike.
const sideBySideBlock = 64

// BenchmarkSideBySide runs every row of a scenario in turn, a block of
// requests each, in a new random order every round, for the whole
// benchmark time, and reports each row's median time per request over its
// blocks as the metric "<row>-ns/req". BenchmarkCORS times rows one after
// another, seconds apart, so on a shared machine a ratio of two of its
// rows carries the drift between them; here every row is measured in the
// same milliseconds, so the ratios cmd/table prints from it (overhead over
// the "bare" row, ours over a peer) hold still from pass to pass. The
// median, not the mean: on a machine shared with other tenants, a block
// that loses the processor for a scheduler time slice (milliseconds,
// against tens of microseconds for the block) would otherwise charge it
// to whichever row happened to run, and one such block moves a row's mean
// by more than the differences measured here. What the median leaves out
// is the garbage collector's pauses and assists, which land on a few
// blocks; the allocations behind them are what BenchmarkCORS reports and
// TestAllocationBudget bounds.
func BenchmarkSideBySide(b *testing.B) {
	for _, s := range scenarios {
		b.Run("scenario="+s.name, func(b *testing.B) {
			var names []string
			var ins []instance
			for _, rw := range rows {
				if in, ok := s.instance(b, rw); ok {
					names = append(names, rw.name)
					ins = append(ins, in)
				}
			}
			blocks := make([][]time.Duration, len(ins))
			w := new(recorder)
			// A new order every round: a row must not always follow the
			// same neighbour, whose memory traffic would leave it the same
			// caches every time.
			rng := rand.New(rand.NewPCG(1, 2))
			order := make([]int, len(ins))
			for i := range order {
				order[i] = i
			}
			for b.Loop() {
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				for _, j := range order {
					in := &ins[j]
					start := time.Now()
					for range sideBySideBlock {
						in.serve(w)
					}
					blocks[j] = append(blocks[j], time.Since(start))
				}
			}
			for j, name := range names {
				slices.Sort(blocks[j])
				med := blocks[j][len(blocks[j])/2]
				b.ReportMetric(float64(med.Nanoseconds())/sideBySideBlock, name+"-ns/req")
			}
		})
	}
}
