package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// TestGatewayReconfigure: a Handler made before Reconfigure serves the new
// configuration; a refused one leaves the old in place with New's error.
func TestGatewayReconfigure(t *testing.T) {
	pol := &corspb.Policy{AllowOriginSets: []string{"console"}}
	opts := func(origins ...string) []gateway.Option {
		return []gateway.Option{
			protocors.WithFiles(new(protoregistry.Files)),
			protocors.WithOriginSet("console", origins...),
			gateway.WithRoute("PUT", "/v1/items/{id}", pol),
		}
	}
	mw, err := gateway.New(opts("https://a.example.com")...)
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(http.NotFoundHandler())
	grants := func(origin string) bool {
		r := httptest.NewRequest("OPTIONS", "/v1/items/1", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "PUT")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code == 204
	}
	if !grants("https://a.example.com") || grants("https://b.example.com") {
		t.Fatal("before Reconfigure")
	}
	if err := mw.Reconfigure(opts("https://b.example.com")...); err != nil {
		t.Fatal(err)
	}
	if grants("https://a.example.com") || !grants("https://b.example.com") {
		t.Error("after Reconfigure")
	}
	bad := opts("https://b.example.com", "HTTPS://C.example.com")
	err = mw.Reconfigure(bad...)
	_, newErr := gateway.New(bad...)
	if err == nil || newErr == nil || err.Error() != newErr.Error() {
		t.Fatalf("Reconfigure: %v; New: %v; want the same error", err, newErr)
	}
	if !grants("https://b.example.com") {
		t.Error("a failed Reconfigure changed what is served")
	}
}

// TestNoHTTPRules: a descriptor source without any google.api.http rule
// (the generated package was not imported) is an error that says how to
// fix it, not an empty table that lets every preflight reach the mux.
func TestNoHTTPRules(t *testing.T) {
	_, err := gateway.New(protocors.WithFiles(new(protoregistry.Files)), protocors.WithOrigins("https://a.example.com"))
	if err == nil || !strings.Contains(err.Error(), "no RPC in the descriptor source has a google.api.http rule") || !strings.Contains(err.Error(), "import the Go package generated") {
		t.Errorf("New without rules: %v", err)
	}
	if _, err := gateway.New(protocors.WithFiles(new(protoregistry.Files)), gateway.WithRoute("GET", "/healthz", nil)); err != nil {
		t.Errorf("WithRoute routes only: %v", err)
	}
}
