package interceptor_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
)

// A grpc-gateway mux mounted with the Connect middleware's Wrap: the panic
// names that cause and the gateway middleware, not a missing service "v1".
func TestWrapRESTPrefix(t *testing.T) {
	mw, err := interceptor.New(protocors.WithFiles(pingFiles(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/", "/api/v1/", "/v1", "/rest/"} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if err == nil {
					t.Fatalf("Wrap(%q) did not panic with an error", path)
				}
				for _, want := range []string{"REST path prefix", "gateway.New", ".Handler(gwmux)"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Wrap(%q) panic %q does not say %q", path, err, want)
					}
				}
				if strings.Contains(err.Error(), "is not in the descriptor source") {
					t.Errorf("Wrap(%q) panic %q blames the descriptor source", path, err)
				}
			}()
			mw.Wrap(path, http.NotFoundHandler())
		}()
	}
	// A service path that is not in the source keeps its own cause.
	if err := mw.CheckService("/protocors.test.v1.FlavorService/"); err == nil || strings.Contains(err.Error(), "REST") {
		t.Errorf("CheckService of a missing service: %v", err)
	}
}
