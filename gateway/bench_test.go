package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/corstest"
)

var okHandler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// manyRoutes builds a middleware with n routes shaped like a real API: GET,
// PATCH and DELETE on n/3 collections under one policy. It returns the path
// of an item in the last collection added.
func manyRoutes(tb testing.TB, n int) (*gateway.Middleware, string) {
	tb.Helper()
	pol := &corspb.Policy{
		AllowOrigins:  []string{"https://app.example.com", "https://*.example.org"},
		AllowHeaders:  []string{"X-Request-Id"},
		ExposeHeaders: []string{"X-Trace-Id"},
		MaxAgeSeconds: new(uint32(600)),
	}
	opts := []gateway.Option{protocors.WithFiles(new(protoregistry.Files))}
	var last string
	for i := 0; len(opts)-1 < n; i++ {
		tmpl := fmt.Sprintf("/v1/projects/{project}/coll%d/{name}", i)
		for _, m := range []string{"GET", "PATCH", "DELETE"} {
			opts = append(opts, gateway.WithRoute(m, tmpl, pol))
		}
		last = fmt.Sprintf("/v1/projects/p1/coll%d/item", i)
	}
	mw, err := gateway.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return mw, last
}

func requests(path string) map[string]*http.Request {
	pf := httptest.NewRequest("OPTIONS", path, nil)
	pf.Header.Set("Origin", "https://app.example.com")
	pf.Header.Set("Access-Control-Request-Method", "PATCH")
	pf.Header.Set("Access-Control-Request-Headers", "content-type,x-request-id")
	refused := pf.Clone(pf.Context())
	refused.Header.Set("Origin", "https://evil.example.net")
	actual := httptest.NewRequest("GET", path, nil)
	actual.Header.Set("Origin", "https://app.example.com")
	wrongMethod := pf.Clone(pf.Context())
	wrongMethod.Header.Set("Access-Control-Request-Method", "PUT")
	other := httptest.NewRequest("GET", "/v2/nothing/here", nil)
	other.Header.Set("Origin", "https://app.example.com")
	return map[string]*http.Request{"preflight": pf, "refused": refused, "unbound-method": wrongMethod, "actual": actual, "unknown": other}
}

// BenchmarkMiddleware measures a request through the middleware with a new
// header map per request, as net/http makes; allocs/op include that map.
func BenchmarkMiddleware(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		mw, path := manyRoutes(b, n)
		h := mw.Handler(okHandler)
		reqs := requests(path)
		for _, kind := range []string{"preflight", "refused", "actual", "unknown"} {
			r := reqs[kind]
			b.Run(fmt.Sprintf("%s/routes=%d", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					h.ServeHTTP(corstest.NewDiscardWriter(), r)
				}
			})
		}
	}
}

// TestAllocationBudget: beyond net/http's header map, a response costs at
// most one allocation of ours, a refused preflight or an unknown route none.
func TestAllocationBudget(t *testing.T) {
	mw, path := manyRoutes(t, 1000)
	h := mw.Handler(okHandler)
	budget := map[string]float64{"preflight": 1, "refused": 0, "unbound-method": 0, "actual": 1, "unknown": 0}
	for kind, r := range requests(path) {
		w := corstest.NewDiscardWriter()
		if _, ok := budget[kind]; !ok {
			t.Fatalf("no budget for %s", kind)
		}
		allocs := testing.AllocsPerRun(200, func() {
			clear(w.H)
			h.ServeHTTP(w, r)
		})
		if allocs > budget[kind] {
			t.Errorf("%s: %v allocations, budget %v", kind, allocs, budget[kind])
		}
	}
	// The preflight above is answered with all three methods.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, requests(path)["preflight"])
	if got := w.Header().Get("Access-Control-Allow-Methods"); got != "PATCH, GET, DELETE" {
		t.Errorf("Allow-Methods %q", got)
	}
}
