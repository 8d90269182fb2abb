package bench_test

import (
	"net/http"
	"testing"
)

// TestScenarios checks that every row answers every scenario as intended,
// so the benchmarks compare like with like: a peer that refused what we
// grant would look cheap for the wrong reason. Refused means no
// Access-Control-Allow-Origin; on an actual request it also checks where
// the request ended: a forbidden scenario (cross-origin, unsafe, origin
// refused) must get 403 without reaching the handler from a row that
// protects, and must reach the handler (200) from every other row, as must
// every other actual request: otherwise a row would be timed skipping or
// running a handler the others do not.
func TestScenarios(t *testing.T) {
	for _, s := range scenarios {
		for _, rw := range rows {
			var ran bool
			in, ok := s.instanceRecording(t, rw, &ran)
			if !ok {
				continue
			}
			t.Run(s.name+"/"+rw.name, func(t *testing.T) {
				w := new(recorder)
				in.serve(w)
				acao := w.h.Get("Access-Control-Allow-Origin")
				t.Logf("%d %q, handler ran: %v", w.code, acao, ran)
				if rw.name == "bare" {
					return
				}
				if !s.preflite {
					wantCode, wantRan := http.StatusOK, true
					if s.forbidden && rw.protects {
						wantCode, wantRan = http.StatusForbidden, false
					}
					if w.code != wantCode || ran != wantRan {
						t.Errorf("%s: status %d, handler ran %v; want %d, handler ran %v", rw.name, w.code, ran, wantCode, wantRan)
					}
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

// ours names the rows whose allocations this module holds to the allocation
// budget: both middlewares, with the cross-origin request protection on and
// off.
func ours(name string) bool {
	switch name {
	case "connect", "gateway", "connect-noprotect", "gateway-noprotect", "connect-metrics", "gateway-metrics",
		"gateway-var", "gateway-name", "gateway-verb":
		return true
	}
	return false
}

// TestAllocationBudget fails when one of our middlewares allocates more
// than the budget allows on a scenario: at most one allocation beyond the
// bare handler's (the header value chunk), and none at all of ours on a
// refused preflight, which is then cheaper than the bare handler: the floor
// is the harness's new header map alone.
func TestAllocationBudget(t *testing.T) {
	w := new(recorder)
	floor := testing.AllocsPerRun(200, w.reset)
	for _, s := range scenarios {
		bareIn, _ := s.instance(t, rows[0])
		base := testing.AllocsPerRun(200, func() { bareIn.serve(w) })
		for _, rw := range rows {
			if !ours(rw.name) {
				continue
			}
			in, ok := s.instance(t, rw)
			if !ok {
				continue
			}
			got := testing.AllocsPerRun(200, func() { in.serve(w) })
			limit, what := base+1, "the bare handler's + 1"
			if s.preflite && s.want == refused {
				limit, what = floor, "the header map's own"
			}
			if got > limit {
				t.Errorf("%s/%s: %v allocs/op, budget %v (%s)", s.name, rw.name, got, limit, what)
			}
		}
	}
}
