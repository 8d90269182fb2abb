package gateway_test

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/conformance"
)

// TestConformance runs the shared CORS cases with each case's policy written
// as options on a descriptor built at run time, its RPCs bound to REST routes
// with google.api.http rules.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Side{
		Name: "gateway",
		New: func(files *protoregistry.Files, protect bool) (func(http.Handler) http.Handler, error) {
			mw, err := gateway.New(protocors.WithFiles(files), protocors.WithCrossOriginProtection(protect))
			if err != nil {
				return nil, err
			}
			return mw.Handler, nil
		},
	})
}
