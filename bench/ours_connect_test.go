package bench_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/protocors/protocors/interceptor"
)

func init() {
	rows = slices.Insert(rows, 1, row{name: "connect", wrap: connectRow})
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
