package bench_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

func init() {
	addOurs(
		row{name: "gateway", gateway: true, protects: true, wrap: gatewayRow(protocors.WithCrossOriginProtection(true))},
		row{name: "gateway-noprotect", gateway: true, actualOnly: true, wrap: gatewayRow(protocors.WithCrossOriginProtection(false))},
		row{name: "gateway-metrics", gateway: true, protects: true, wrap: gatewayRow(protocors.WithMeterProvider(benchMeters))},
	)
	for _, t := range templated {
		addOurs(row{name: t.row, gateway: true, protects: true, path: t.path, wrap: thingsRow})
	}
	constructors = append(constructors,
		constructor{name: "gateway", new: func(files *protoregistry.Files) error {
			_, err := gateway.New(protocors.WithFiles(files))
			return err
		}},
		constructor{name: "gateway-resources", rule: resourceRule, new: func(files *protoregistry.Files) error {
			_, err := gateway.New(protocors.WithFiles(files))
			return err
		}},
		constructor{name: "gateway-reconfigure", new: func() func(*protoregistry.Files) error {
			var m *gateway.Middleware
			return func(files *protoregistry.Files) error {
				if m == nil {
					var err error
					m, err = gateway.New(protocors.WithFiles(files))
					return err
				}
				return m.Reconfigure(protocors.WithFiles(files))
			}
		}()},
	)
}

// gatewayRow is gateway.Middleware over the same descriptor as connectRow,
// serving the method's http rule, echoPath, with the cross-origin request
// protection on or off.
func gatewayRow(opts ...protocors.Option) func(testing.TB, spec, http.Handler) http.Handler {
	return func(tb testing.TB, s spec, next http.Handler) http.Handler {
		m, err := gateway.New(protocors.WithFiles(benchFiles(tb, 1, s.proto())), protocors.WithOptions(opts...))
		if err != nil {
			tb.Fatal(err)
		}
		return m.Handler(next)
	}
}

// templated are the rows on gateway routes with path variables, as 1,901
// of the 2,510 http rules of the public APIs we checked have (Cloud Run,
// KMS, Storage control, Yandex Cloud): a variable, an AIP-style resource
// name, and a custom verb after a variable. Each row serves its request
// path from the middleware over thingsFiles, where all three routes and
// the literal echoPath sit side by side, as in a real API: the lookup of
// /v1/things/t1 has to tell it from /v1/things/t1:cancel.
var templated = []struct{ row, rule, path string }{
	{"gateway-var", "/v1/things/{name}", "/v1/things/t1"},
	{"gateway-name", "/v1/{name=projects/*/things/*}", "/v1/projects/p1/things/t1"},
	{"gateway-verb", "/v1/things/{name}:cancel", "/v1/things/t1:cancel"},
}

// thingsFiles is the registry of the templated rows: one service, its
// first method bound to echoPath, then one method per templated route,
// every one "post" with a body, under policy.
func thingsFiles(tb testing.TB, policy *corspb.Policy) *protoregistry.Files {
	return benchFilesWith(tb, 1+len(templated), policy, func(i int) *annotations.HttpRule {
		path := echoPath
		if i > 0 {
			path = templated[i-1].rule
		}
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: path}, Body: "*"}
	})
}

// thingsRow is gateway.Middleware over thingsFiles, with the default
// options (the cross-origin request protection on).
func thingsRow(tb testing.TB, s spec, next http.Handler) http.Handler {
	m, err := gateway.New(protocors.WithFiles(thingsFiles(tb, s.proto())))
	if err != nil {
		tb.Fatal(err)
	}
	return m.Handler(next)
}

// routeCounts are the route table sizes BenchmarkGatewayRoutes compares.
var routeCounts = []int{10, 100, 1000}

// routeInstances builds, for n routes, a preflight and an actual request
// to the last route.
func routeInstances(tb testing.TB, n int) map[string]instance {
	m, err := gateway.New(protocors.WithFiles(benchFiles(tb, n, specOne.proto())))
	if err != nil {
		tb.Fatal(err)
	}
	h := m.Handler(bare)
	path := fmt.Sprintf("/v1/r%05d/vanilla", n-1)
	return map[string]instance{
		"preflight": {h: h, r: preflight(appOrigin, "content-type")(path)},
		"actual":    {h: h, r: actual("Origin", appOrigin)(path)},
	}
}

// resourceInstances builds, for n routes in AIP-style resources (see
// resourceRule), a preflight for PATCH and a PATCH to the first resource:
// the one registered first, which the mux, trying the latest registration
// first, reaches last.
func resourceInstances(tb testing.TB, n int) map[string]instance {
	m, err := gateway.New(protocors.WithFiles(benchFilesWith(tb, n, specOne.proto(), resourceRule)))
	if err != nil {
		tb.Fatal(err)
	}
	h := m.Handler(bare)
	path := "/v1/projects/p1/r00000/vanilla"
	pre := newRequest(http.MethodOptions, path, "Origin", appOrigin,
		"Access-Control-Request-Method", http.MethodPatch, "Access-Control-Request-Headers", "content-type")
	return map[string]instance{
		"preflight": {h: h, r: pre},
		"actual":    {h: h, r: newRequest(http.MethodPatch, path, "Origin", appOrigin, "Content-Type", "application/json")},
	}
}

// BenchmarkGatewayResources is BenchmarkGatewayRoutes for AIP-style
// resources, where every route starts "/v1/{name=projects/*/...}": the
// table must follow the path past the variable to stay flat.
func BenchmarkGatewayResources(b *testing.B) { benchRouting(b, resourceInstances) }

// BenchmarkGatewayRoutes measures the gateway middleware's route lookup as
// its table grows: one rule per method, the request matching the last.
func BenchmarkGatewayRoutes(b *testing.B) { benchRouting(b, routeInstances) }

// benchRouting times, for each table size, the preflight and the actual
// request that build makes.
func benchRouting(b *testing.B, build func(testing.TB, int) map[string]instance) {
	for _, n := range routeCounts {
		ins := build(b, n)
		for _, kind := range []string{"preflight", "actual"} {
			in := ins[kind]
			b.Run(fmt.Sprintf("routes=%d/kind=%s", n, kind), func(b *testing.B) {
				w := new(recorder)
				b.ReportAllocs()
				for b.Loop() {
					in.serve(w)
				}
			})
		}
	}
}

// TestGatewayRoutes checks that the routing benchmark's requests are
// granted, so it measures a match and not a miss.
func TestGatewayRoutes(t *testing.T) {
	for _, n := range routeCounts {
		for layout, build := range map[string]func(testing.TB, int) map[string]instance{"routes": routeInstances, "resources": resourceInstances} {
			for kind, in := range build(t, n) {
				w := new(recorder)
				in.serve(w)
				if got := w.h.Get("Access-Control-Allow-Origin"); got != appOrigin {
					t.Errorf("%s, %d routes, %s: status %d, Access-Control-Allow-Origin %q, want %q", layout, n, kind, w.code, got, appOrigin)
				}
				if kind == "preflight" && !strings.Contains(w.h.Get("Access-Control-Allow-Methods"), in.r.Header.Get("Access-Control-Request-Method")) {
					t.Errorf("%s, %d routes: Access-Control-Allow-Methods %q", layout, n, w.h.Get("Access-Control-Allow-Methods"))
				}
			}
		}
	}
}
