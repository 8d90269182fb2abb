package bench_test

import (
	"slices"
	"strings"
	"testing"
)

// TestNoSharedValues is the conformance suite's "outer middleware mutates
// the CORS header values after the call" case, run on every row and
// scenario of the benchmarks: a middleware that overwrites element 0 of
// each Vary and Access-Control-* value slice of one response must not
// change the next response. This is why our rows allocate a header value
// per response where rs/cors allocates none: rs/cors hands every response
// the same package-level slices (Vary: Origin on every actual request, and
// more), which is what makes its no_origin row free; one mutation then
// shows on every later response of the process. It also answers preflights
// with the request's own Origin and Access-Control-Request-* slices, so a
// mutation of the response rewrites the request. The test records which
// peers share, so the claim in README.md stays checked.
func TestNoSharedValues(t *testing.T) {
	sharing := map[string][]string{}
	for _, s := range scenarios {
		for _, rw := range rows {
			in, ok := s.instance(t, rw)
			if !ok || rw.name == "bare" {
				continue
			}
			first, second := new(recorder), new(recorder)
			in.serve(first)
			before := in.r.Header.Clone()
			for k, v := range first.h {
				if (k == "Vary" || strings.HasPrefix(k, "Access-Control-")) && len(v) > 0 {
					v[0] = "mutated-by-an-outer-middleware"
				}
			}
			for k, v := range in.r.Header {
				if b := before[k]; len(v) > 0 && (len(b) == 0 || v[0] != b[0]) {
					// The response's value is the request's own slice.
					sharing[rw.name] = append(sharing[rw.name], s.name+": request's "+k)
				}
			}
			in.serve(second)
			for k, v := range second.h {
				if len(v) > 0 && v[0] == "mutated-by-an-outer-middleware" {
					sharing[rw.name] = append(sharing[rw.name], s.name+": "+k)
				}
			}
		}
	}
	for name, leaks := range sharing {
		t.Logf("%s shares header values between responses: %s", name, strings.Join(leaks, ", "))
	}
	for _, rw := range rows {
		if rw.name != "rs-cors" && rw.name != "jub0bs-cors" && len(sharing[rw.name]) > 0 {
			t.Errorf("%s shares header values between responses: %v", rw.name, sharing[rw.name])
		}
	}
	if !slices.Contains(sharing["rs-cors"], "no_origin: Vary") {
		t.Error("rs/cors no longer shares its Vary value between responses: revisit the no_origin note in README.md")
	}
}
