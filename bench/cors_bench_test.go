package bench_test

import (
	"net/http"
	"testing"
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
	if rw.gateway {
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
