package core_test

import (
	"net/http"
	"testing"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/corstest"
)

func BenchmarkEngine(b *testing.B) {
	p := mustCompile(b, core.Config{
		Origins:         []string{"https://app.example.com", "https://*.example.org"},
		Credentials:     true,
		AllowHeaders:    []string{"X-Request-Id"},
		ProtocolHeaders: []string{"Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms"},
		MaxAge:          600,
	})
	preflight := request(http.MethodOptions, "Origin", appOrigin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "connect-protocol-version,content-type,x-request-id")
	refusedPreflight := request(http.MethodOptions, "Origin", "https://evil.example.net", "Access-Control-Request-Method", "POST")
	actual := request(http.MethodPost, "Origin", appOrigin)
	refused := request(http.MethodPost, "Origin", "https://evil.example.net")
	noOrigin := request(http.MethodPost)
	qPreflight, qRefusedPreflight, qActual, qRefused, qNoOrigin := core.ReadRequest(preflight), core.ReadRequest(refusedPreflight), core.ReadRequest(actual), core.ReadRequest(refused), core.ReadRequest(noOrigin)
	b.Run("preflight", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Preflight(corstest.NewDiscardWriter(), &qPreflight, core.Answer{Methods: "POST"})
		}
	})
	b.Run("refused_preflight", func(b *testing.B) {
		b.ReportAllocs()
		w := corstest.NewDiscardWriter()
		for b.Loop() {
			p.Preflight(w, &qRefusedPreflight, core.Answer{Methods: "POST"})
		}
	})
	b.Run("actual", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Actual(make(http.Header), &qActual, "X-Trace-Id")
		}
	})
	b.Run("refused_actual", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Actual(make(http.Header), &qRefused, "X-Trace-Id")
		}
	})
	b.Run("no_origin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Actual(make(http.Header), &qNoOrigin, "X-Trace-Id")
		}
	})
	b.Run("header_map_only", func(b *testing.B) { // the harness's own cost
		b.ReportAllocs()
		for b.Loop() {
			h := make(http.Header)
			h["X"] = nil
		}
	})
}

// TestAllocationBudget holds the request path to its allocation budget: one
// allocation of ours per response (the value chunk; the header map's own
// growth is net/http's), none on a refused preflight.
func TestAllocationBudget(t *testing.T) {
	p := mustCompile(t, core.Config{Origins: []string{appOrigin}, Credentials: true, AllowHeaders: []string{"X-Request-Id"}, MaxAge: 600})
	preflight := request(http.MethodOptions, "Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-request-id")
	refusedPreflight := request(http.MethodOptions, "Origin", "https://evil.example.net", "Access-Control-Request-Method", "PUT")
	refusedHeader := request(http.MethodOptions, "Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "X-Other")
	actual := request(http.MethodGet, "Origin", appOrigin)
	qPreflight, qRefusedPreflight, qRefusedHeader, qActual := core.ReadRequest(preflight), core.ReadRequest(refusedPreflight), core.ReadRequest(refusedHeader), core.ReadRequest(actual)
	big := make(http.Header, 16) // big enough that our keys never grow it
	w := &corstest.DiscardWriter{}
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"preflight", 1, func() { clear(big); w.H = big; p.Preflight(w, &qPreflight, core.Answer{Methods: "PUT"}) }},
		{"refused preflight", 0, func() { clear(big); w.H = big; p.Preflight(w, &qRefusedPreflight, core.Answer{Methods: "PUT"}) }},
		{"refused header", 0, func() { clear(big); w.H = big; p.Preflight(w, &qRefusedHeader, core.Answer{Methods: "PUT"}) }},
		{"refused method", 0, func() { clear(big); w.H = big; p.Preflight(w, &qPreflight, core.Answer{Methods: ""}) }},
		{"actual", 1, func() { clear(big); p.Actual(big, &qActual, "X-Trace-Id") }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.f); got > tt.max {
			t.Errorf("%s: %v allocations, want at most %v", tt.name, got, tt.max)
		}
	}
}
