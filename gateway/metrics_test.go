package gateway_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/metricstest"
)

// TestMetrics runs a scripted sequence of requests against the test
// protos' routes and a WithRoute route, and checks the exact counts and
// attributes of every decision.
func TestMetrics(t *testing.T) {
	for _, report := range []bool{false, true} {
		meters := metricstest.NewProvider()
		mw, err := gateway.New(
			protocors.WithMeterProvider(meters),
			protocors.WithCrossOriginReportOnly(report),
			gateway.WithRoute("POST", "/healthz", &corspb.Policy{AllowOrigins: []string{app}}),
		)
		if err != nil {
			t.Fatal(err)
		}
		h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		send := func(method, path string, headers ...string) {
			r := httptest.NewRequest(method, path, nil)
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		send("OPTIONS", "/v1/flavors/x", "Origin", app, "Access-Control-Request-Method", "GET")
		send("OPTIONS", "/v1/flavors/x", "Origin", evil, "Access-Control-Request-Method", "GET")
		send("OPTIONS", "/v1/flavors/x", "Origin", app, "Access-Control-Request-Method", "DELETE") // DeleteFlavor: enabled false
		send("OPTIONS", "/v1/flavors/x", "Origin", app, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-nope")
		send("OPTIONS", "/v1/flavors/x", "Origin", app, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "a b")
		send("GET", "/v1/flavors/x", "Origin", app)
		send("GET", "/v1/flavors/x", "Origin", evil)
		send("DELETE", "/v1/flavors/x", "Origin", app, "Sec-Fetch-Site", "cross-site")
		send("POST", "/healthz", "Origin", app, "Sec-Fetch-Site", "cross-site")
		send("GET", "/v1/flavors/x") // no Origin: not counted

		get := "http.request.method=GET,http.route=/v1/flavors/{name},%s,rpc.method=GetFlavor,rpc.service=protocors.test.v1.FlavorService,rpc.system=grpc"
		del := "http.request.method=DELETE,http.route=/v1/flavors/{name},%s,rpc.method=DeleteFlavor,rpc.service=protocors.test.v1.FlavorService,rpc.system=grpc"
		protection := "protocors.outcome=cross_origin_refused"
		if report {
			protection = "protocors.outcome=cross_origin_reported"
		}
		want := map[string]int64{
			fmt.Sprintf(get, "protocors.outcome=preflight_allowed"):                            1,
			fmt.Sprintf(get, "protocors.outcome=preflight_refused,protocors.reason=origin"):    1,
			fmt.Sprintf(get, "protocors.outcome=preflight_refused,protocors.reason=header"):    1,
			fmt.Sprintf(get, "protocors.outcome=preflight_refused,protocors.reason=malformed"): 1,
			fmt.Sprintf(del, "protocors.outcome=preflight_refused,protocors.reason=method"):    1,
			fmt.Sprintf(get, "protocors.outcome=actual_granted"):                               1,
			fmt.Sprintf(get, "protocors.outcome=actual_not_granted"):                           1,
			fmt.Sprintf(del, protection):                                                       1,
			"http.request.method=POST,http.route=/healthz,protocors.outcome=actual_granted":    1,
		}
		if got := metricstest.Decisions(t, meters); !maps.Equal(got, want) {
			t.Errorf("report only %t: counts\n%s\nwant\n%s", report, metricstest.Show(got), metricstest.Show(want))
		}
	}
}
