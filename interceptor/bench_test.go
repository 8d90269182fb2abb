package interceptor_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/corstest"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func benchRequest(method, path string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, "https://api.example.com"+path, nil)
	for i := 0; i < len(kv); i += 2 {
		r.Header[kv[i]] = []string{kv[i+1]}
	}
	return r
}

// Requests of each scenario, to PutFlavor (service origins, method
// headers and credentials, file max age).
var (
	put              = testv1connect.FlavorServicePutFlavorProcedure
	benchPreflight   = benchRequest(http.MethodOptions, put, "Origin", appOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "connect-protocol-version,content-type,x-request-id")
	benchRefusedPre  = benchRequest(http.MethodOptions, put, "Origin", evilOrigin, "Access-Control-Request-Method", "POST")
	benchRefusedHdr  = benchRequest(http.MethodOptions, put, "Origin", appOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-other")
	benchActual      = benchRequest(http.MethodPost, put, "Origin", appOrigin, "Content-Type", "application/proto")
	benchActualGRPC  = benchRequest(http.MethodPost, put, "Origin", appOrigin, "Content-Type", "application/grpc-web+proto")
	benchRefused     = benchRequest(http.MethodPost, put, "Origin", evilOrigin, "Content-Type", "application/proto")
	benchNoOrigin    = benchRequest(http.MethodPost, put, "Content-Type", "application/proto")
	benchUnknownPath = benchRequest(http.MethodPost, "/other.v1.Service/Method", "Origin", appOrigin)
)

func BenchmarkMiddleware(b *testing.B) {
	mw, err := interceptor.New()
	if err != nil {
		b.Fatal(err)
	}
	h := mw.Handler(noop)
	for _, bc := range []struct {
		name string
		r    *http.Request
	}{
		{"preflight", benchPreflight},
		{"refused_preflight", benchRefusedPre},
		{"actual", benchActual},
		{"actual_grpc_web", benchActualGRPC},
		{"refused_actual", benchRefused},
		{"no_origin", benchNoOrigin},
		{"unknown_path", benchUnknownPath},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(corstest.NewDiscardWriter(), bc.r)
			}
		})
	}
	b.Run("header_map_only", func(b *testing.B) { // the harness's own cost
		b.ReportAllocs()
		for b.Loop() {
			noop.ServeHTTP(corstest.NewDiscardWriter(), benchActual)
		}
	})
}

// TestAllocationBudget holds the whole middleware to its allocation budget:
// at most one allocation of ours per response, none on a refused preflight
// or where it passes requests through. The header map is reused (cleared),
// so only our allocations count.
func TestAllocationBudget(t *testing.T) {
	// WithLogger(nil) is no logger: refused preflights stay free.
	mw, err := interceptor.New(protocors.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(noop)
	big := make(http.Header, 16)
	w := &corstest.DiscardWriter{H: big}
	tests := []struct {
		name string
		r    *http.Request
		max  float64
	}{
		{"preflight", benchPreflight, 1},
		{"refused preflight (origin)", benchRefusedPre, 0},
		{"refused preflight (header)", benchRefusedHdr, 0},
		{"actual", benchActual, 1},
		{"actual gRPC-Web", benchActualGRPC, 1},
		{"refused actual", benchRefused, 1},
		{"no origin", benchNoOrigin, 1},
		{"unknown path", benchUnknownPath, 0},
	}
	for _, tt := range tests {
		got := testing.AllocsPerRun(200, func() {
			clear(big)
			h.ServeHTTP(w, tt.r)
		})
		if got > tt.max {
			t.Errorf("%s: %v allocations, want at most %v", tt.name, got, tt.max)
		}
	}
}
