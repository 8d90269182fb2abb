package interceptor_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/conformance"
	_ "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// FuzzHandler sends arbitrary CORS request headers through the whole
// middleware: it must never panic, never let a preflight for a
// CORS-enabled procedure reach the handler, and every response must keep
// the protocol's invariants.
func FuzzHandler(f *testing.F) {
	procedures := []string{
		"/protocors.test.v1.FlavorService/GetFlavor",
		"/protocors.test.v1.FlavorService/PutFlavor", // the one with credentials
		"/protocors.test.v1.FlavorService/DeleteFlavor",
		"/protocors.test.v1.FlavorService/ListFlavors",
		"/protocors.test.v1.ResourceService/GetResource",
		"/protocors.test.v1.PingService/Ping",
		"/nope.Nope/Nope",
	}
	f.Add(uint8(1), "OPTIONS", "https://app.example.com", "POST", "x-request-id,content-type")
	f.Add(uint8(3), "OPTIONS", "https://a.example.org", "GET", "")
	f.Add(uint8(0), "GET", "https://APP.example.com", "", "")
	f.Add(uint8(4), "POST", "null", "PUT, DELETE", ",,,")
	f.Add(uint8(1), "OPTIONS", "https://app.example.com\r\nX: 1", "post", "authorization")
	mw, err := interceptor.New()
	if err != nil {
		f.Fatal(err)
	}
	var reached int
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.Header().Add("Vary", "Accept-Encoding")
		_, _ = w.Write([]byte("ok"))
	}))
	f.Fuzz(func(t *testing.T, which uint8, method, origin, acrm, acrh string) {
		path := procedures[int(which)%len(procedures)]
		r, ok := conformance.FuzzRequest(method, path, origin, acrm, acrh)
		if !ok {
			return
		}
		reached = 0
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		enabled := strings.Contains(path, "FlavorService") && !strings.HasSuffix(path, "DeleteFlavor") || strings.Contains(path, "ResourceService")
		preflight := method == http.MethodOptions && origin != "" && acrm != ""
		if preflight && enabled && reached != 0 {
			t.Fatalf("a preflight for %s reached the handler", path)
		}
		conformance.Invariants(t, strings.HasSuffix(path, "PutFlavor"), r, w.Result().Header)
	})
}
