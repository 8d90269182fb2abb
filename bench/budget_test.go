package bench_test

import (
	"net/http"
	"testing"
)

// TestScenarios checks that every row answers every scenario as intended,
// so the benchmarks compare like with like: a peer that refused what we
// grant would look cheap for the wrong reason.
func TestScenarios(t *testing.T) {
	for _, s := range scenarios {
		for _, rw := range rows {
			in, ok := s.instance(t, rw)
			if !ok {
				continue
			}
			t.Run(s.name+"/"+rw.name, func(t *testing.T) {
				w := new(recorder)
				in.serve(w)
				acao := w.h.Get("Access-Control-Allow-Origin")
				t.Logf("%d %q", w.code, acao)
				if rw.name == "bare" {
					return
				}
				got := granted
				if acao == "" {
					got = refused
				}
				if s.want != either && got != s.want {
					t.Errorf("%s: status %d, Access-Control-Allow-Origin %q: %v, want %v", rw.name, w.code, acao, got, s.want)
				}
				if s.preflite && s.want == granted && (w.code < 200 || w.code > 299) {
					t.Errorf("status %d for a granted preflight", w.code)
				}
				if s.body != nil && w.code != http.StatusOK {
					t.Errorf("status %d for a Connect call, want 200", w.code)
				}
			})
		}
	}
}
