package interceptor_test

import (
	"bytes"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
	"github.com/protocors/protocors/internal/metricstest"
)

func send(h http.Handler, method, procedure string, headers ...string) {
	r := httptest.NewRequest(method, procedure, strings.NewReader("{}"))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
}

// TestMetrics runs a scripted sequence of requests and checks the exact
// counts and attributes of every decision.
func TestMetrics(t *testing.T) {
	const get = testv1connect.FlavorServiceGetFlavorProcedure
	rpc := "rpc.method=GetFlavor,rpc.service=protocors.test.v1.FlavorService,rpc.system=connect_rpc"
	for _, report := range []bool{false, true} {
		meters := metricstest.NewProvider()
		var logs bytes.Buffer
		mw, err := interceptor.New(
			protocors.WithMeterProvider(meters),
			protocors.WithCrossOriginReportOnly(report),
			protocors.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		)
		if err != nil {
			t.Fatal(err)
		}
		h := mw.Handler(reached)
		pre := func(origin, method, headers string) {
			send(h, "OPTIONS", get, "Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", headers)
		}
		pre(appOrigin, "POST", "content-type")
		pre(appOrigin, "GET", "")
		pre(evilOrigin, "POST", "")
		pre(appOrigin, "PUT", "")
		pre(appOrigin, "POST", "x-nope")
		pre(appOrigin, "POST", "a b")
		send(h, "POST", get, "Origin", appOrigin, "Content-Type", "application/json")
		send(h, "GET", get, "Origin", evilOrigin)                                  // safe: reaches the handler, not granted
		send(h, "POST", get, "Origin", evilOrigin, "Sec-Fetch-Site", "cross-site") // the protection
		send(h, "POST", get, "Content-Type", "application/json")                   // no Origin: not a CORS request, not counted

		protection := "outcome=cross_origin_refused"
		if report {
			protection = "outcome=cross_origin_reported"
		}
		want := map[string]int64{
			"protocors.outcome=preflight_allowed," + rpc:                            2,
			"protocors.outcome=preflight_refused,protocors.reason=origin," + rpc:    1,
			"protocors.outcome=preflight_refused,protocors.reason=method," + rpc:    1,
			"protocors.outcome=preflight_refused,protocors.reason=header," + rpc:    1,
			"protocors.outcome=preflight_refused,protocors.reason=malformed," + rpc: 1,
			"protocors.outcome=actual_granted," + rpc:                               1,
			"protocors.outcome=actual_not_granted," + rpc:                           1,
			"protocors." + protection + "," + rpc:                                   1,
		}
		got := metricstest.Decisions(t, meters)
		if !maps.Equal(got, want) {
			t.Errorf("report only %t: counts\n%s\nwant\n%s", report, metricstest.Show(got), metricstest.Show(want))
		}
		for _, line := range []string{
			`level=INFO msg="protocors: CORS preflight refused" procedure=/protocors.test.v1.FlavorService/GetFlavor origin=https://evil.example.net method=POST reason="origin not allowed"`,
			`level=DEBUG msg="protocors: cross-origin request not granted" procedure=/protocors.test.v1.FlavorService/GetFlavor origin=https://evil.example.net method=GET`,
			`level=INFO msg="protocors: cross-origin request`,
		} {
			if !strings.Contains(logs.String(), line) {
				t.Errorf("log lacks %s:\n%s", line, logs.String())
			}
		}
	}
}
