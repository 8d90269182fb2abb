package interceptor_test

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/conformance"
)

// TestConformance runs the shared CORS cases with each case's policy written
// as options on a descriptor built at run time.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Side{
		Name: "connect",
		New: func(files *protoregistry.Files, protect bool) (func(http.Handler) http.Handler, error) {
			mw, err := interceptor.New(protocors.WithFiles(files), protocors.WithCrossOriginProtection(protect))
			if err != nil {
				return nil, err
			}
			return mw.Handler, nil
		},
	})
}
