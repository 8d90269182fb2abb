package bench_test

import (
	"net/http"
	"slices"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/interceptor"
)

func init() {
	rows = slices.Insert(rows, 1, row{name: "connect", wrap: connectRow})
	constructors = append(constructors, constructor{"connect", func(files *protoregistry.Files) error {
		_, err := interceptor.New(interceptor.WithFiles(files))
		return err
	}})
}

// connectRow is interceptor.Middleware reading the policy from the
// service option of a descriptor built at run time.
func connectRow(tb testing.TB, s spec, next http.Handler) http.Handler {
	m, err := interceptor.New(interceptor.WithFiles(benchFiles(tb, 1, s.proto())))
	if err != nil {
		tb.Fatal(err)
	}
	return m.Handler(next)
}
