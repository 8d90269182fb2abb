package route_test

import (
	"testing"

	"github.com/protocors/protocors/internal/route"
)

// thingsAPI is a small API of the shapes most real http rules have: a
// literal route, a variable, an AIP-style resource name and a custom verb
// after a variable, which bench/'s templated rows route through.
var thingsAPI = []spec{
	{"POST", "/v1/echo"},
	{"POST", "/v1/things/{name}"},
	{"GET", "/v1/things/{name}"},
	{"POST", "/v1/{name=projects/*/things/*}"},
	{"POST", "/v1/things/{name}:cancel"},
}

// BenchmarkLookupTemplated times Lookup (an actual request) and LookupAll
// (a preflight) of one path per templated shape in a small table, where
// the lookup itself, not the table's size, is the cost.
func BenchmarkLookupTemplated(b *testing.B) {
	tb := ourTable(b, thingsAPI, false)
	buf := make([]int, len(tb.Methods()))
	for _, path := range []string{"/v1/echo", "/v1/things/t1", "/v1/projects/p1/things/t1", "/v1/things/t1:cancel"} {
		b.Run("one"+path, func(b *testing.B) {
			for b.Loop() {
				p, _ := route.PathOf(path, "", route.ModeLegacy)
				if _, res := tb.Lookup("POST", &p); res != route.Found {
					b.Fatal("no match")
				}
			}
		})
		b.Run("all"+path, func(b *testing.B) {
			for b.Loop() {
				p, _ := route.PathOf(path, "", route.ModeLegacy)
				tb.LookupAll(&p, buf)
			}
		})
	}
}
