package core_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

// A Vary slice set before the middleware writes (an outer middleware's,
// shared between its responses, with room to spare) is never written into:
// the engine's Vary goes into a new backing array.
func TestVaryNeverWritesIntoAnotherSlice(t *testing.T) {
	e, err := core.Compile(core.Config{Origins: []string{"https://app.example.com"}, MaxAge: -1, Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	shared := make([]string, 1, 4)
	shared[0] = "Accept-Encoding"
	backing := shared[:cap(shared)]
	check := func(name string) {
		t.Helper()
		for i, v := range backing[1:] {
			if v != "" {
				t.Errorf("%s wrote %q into the shared Vary slice's spare room at %d", name, v, i+1)
			}
		}
	}
	newRequest := func(method string, kv ...string) *core.Request {
		r := httptest.NewRequest(method, "/", nil)
		for i := 0; i+1 < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		q := core.ReadRequest(r)
		return &q
	}
	for _, tt := range []struct {
		name string
		run  func(h http.Header)
	}{
		{"Decorate, granted", func(h http.Header) {
			e.Decorate(h, newRequest("GET", "Origin", "https://app.example.com"), "", true)
		}},
		{"Decorate, not granted", func(h http.Header) {
			e.Decorate(h, newRequest("GET", "Origin", "https://evil.example.net"), "", false)
		}},
		{"Preflight", func(h http.Header) {
			w := httptest.NewRecorder()
			for k, v := range h {
				w.Header()[k] = v
			}
			e.Preflight(w, newRequest("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST"), core.Answer{Methods: "POST"})
		}},
		{"Refuse (debug)", func(h http.Header) {
			w := httptest.NewRecorder()
			for k, v := range h {
				w.Header()[k] = v
			}
			e.Refuse(w, newRequest("OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT"), core.Outcome{Reason: core.MethodNotAllowed, Value: "PUT"}, "")
		}},
	} {
		h := http.Header{"Vary": shared}
		tt.run(h)
		check(tt.name)
	}
}
