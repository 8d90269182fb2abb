package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/conformance"
	_ "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// FuzzHandler sends arbitrary paths and CORS request headers through the
// whole middleware: it must never panic, a 204 must come from the
// middleware alone, and every response must keep the protocol's invariants.
func FuzzHandler(f *testing.F) {
	f.Add("/v1/flavors/vanilla", "OPTIONS", "https://app.example.com", "PUT", "x-request-id,content-type")
	f.Add("/v1/flavors/vanilla", "OPTIONS", "https://app.example.com", "DELETE", "")
	f.Add("/v1/shops/s1/flavors", "GET", "https://a.example.org", "", "")
	f.Add("/v1/projects/p/resources/a/b:inspect", "OPTIONS", "https://x.example", "GET", "x-a")
	f.Add("/v1/gadgets:search", "SEARCH", "https://APP.example.com", "", "")
	f.Add("/v1/files/%2F%zz/..", "POST", "null", "PUT, DELETE", ",,,")
	mw, err := gateway.New()
	if err != nil {
		f.Fatal(err)
	}
	var reached int
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		_, _ = w.Write([]byte("ok"))
	}))
	f.Fuzz(func(t *testing.T, path, method, origin, acrm, acrh string) {
		r, ok := conformance.FuzzRequest(method, path, origin, acrm, acrh)
		if !ok {
			return
		}
		reached = 0
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code == http.StatusNoContent && reached != 0 {
			t.Fatal("the handler ran and the middleware answered 204")
		}
		// Only PutFlavor (PUT /v1/flavors/{name}) has credentials.
		credentials := strings.HasPrefix(path, "/v1/flavors/")
		conformance.Invariants(t, credentials, r, w.Result().Header)
	})
}
