package bench_test

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
)

func init() {
	addOurs(
		row{name: "connect", protects: true, wrap: connectRow(protocors.WithCrossOriginProtection(true))},
		row{name: "connect-noprotect", actualOnly: true, wrap: connectRow(protocors.WithCrossOriginProtection(false))},
		row{name: "connect-metrics", protects: true, wrap: connectRow(protocors.WithMeterProvider(benchMeters))},
	)
	constructors = append(constructors,
		constructor{name: "connect", new: func(files *protoregistry.Files) error {
			_, err := interceptor.New(protocors.WithFiles(files))
			return err
		}},
		constructor{name: "connect-reconfigure", new: func() func(*protoregistry.Files) error {
			var m *interceptor.Middleware
			return func(files *protoregistry.Files) error {
				if m == nil {
					var err error
					m, err = interceptor.New(protocors.WithFiles(files))
					return err
				}
				return m.Reconfigure(protocors.WithFiles(files))
			}
		}()},
	)
}

// connectRow is interceptor.Middleware reading the policy from the
// service option of a descriptor built at run time, with the cross-origin
// request protection on or off.
func connectRow(opts ...protocors.Option) func(testing.TB, spec, http.Handler) http.Handler {
	return func(tb testing.TB, s spec, next http.Handler) http.Handler {
		m, err := interceptor.New(protocors.WithFiles(benchFiles(tb, 1, s.proto())), protocors.WithOptions(opts...))
		if err != nil {
			tb.Fatal(err)
		}
		return m.Handler(next)
	}
}
