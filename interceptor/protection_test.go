package interceptor_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

// TestCrossOriginProtection: an unsafe request the browser marks
// cross-origin, from an origin the procedure's policy does not allow, is
// refused before the handler; everything else reaches it.
func TestCrossOriginProtection(t *testing.T) {
	const (
		get    = testv1connect.FlavorServiceGetFlavorProcedure    // app origin; Connect GET allowed
		del    = testv1connect.FlavorServiceDeleteFlavorProcedure // enabled: false
		ping   = testv1connect.PingServicePingProcedure           // no policy
		list   = testv1connect.FlavorServiceListFlavorsProcedure  // app and *.example.org
		anyOne = testv1connect.ResourceServiceGetResourceProcedure
	)
	tests := []struct {
		name    string
		method  string
		path    string
		headers []string
		status  int // 0: reached the handler
	}{
		{"text/plain POST from a refused origin", "POST", get, []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, 403},
		{"POST to a procedure without CORS", "POST", del, []string{"Origin", appOrigin, "Sec-Fetch-Site", "cross-site"}, 403},
		{"POST to a service without any policy", "POST", ping, []string{"Origin", appOrigin, "Sec-Fetch-Site", "same-site"}, 403},
		{"method-level origins are the procedure's", "POST", list, []string{"Origin", shopOrigin, "Sec-Fetch-Site", "cross-site"}, 0},
		{"the service's origins do not cover a method that names its own", "POST", get, []string{"Origin", shopOrigin, "Sec-Fetch-Site", "cross-site"}, 403},
		{"older browser: Origin's host is not Host", "POST", get, []string{"Origin", evilOrigin}, 403},
		{"allowed origin", "POST", get, []string{"Origin", appOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json"}, 0},
		{"any origin (*)", "POST", anyOne, []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, 0},
		{"Connect GET is safe", "GET", get, []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, 0},
		{"same origin", "POST", ping, []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"}, 0},
		{"same origin by Host", "POST", ping, []string{"Origin", "http://example.com"}, 0},
		{"non-browser client", "POST", ping, []string{"Content-Type", "application/proto"}, 0},
		{"native gRPC client", "POST", ping, []string{"Content-Type", "application/grpc"}, 0},
		{"unknown path is not ours to refuse", "POST", "/protocors.test.v1.FlavorService/Nope", []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, 0},
	}
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader("{}"))
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.status != 0 && (w.Code != tt.status || ran) {
				t.Errorf("status %d, handler ran %t; want %d before the handler", w.Code, ran, tt.status)
			}
			if tt.status == 403 {
				assertBareRefusal(t, w.Result().Header)
			}
			if tt.status == 0 && !ran {
				t.Errorf("status %d: the handler did not run", w.Code)
			}
		})
	}
}

func TestCrossOriginReportOnlyAndLog(t *testing.T) {
	for _, tt := range []struct {
		opts []interceptor.Option
		ran  bool
		log  string
	}{
		{nil, false, `msg="protocors: cross-origin request refused" procedure=/protocors.test.v1.PingService/Ping origin=https://evil.example.net method=POST sec_fetch_site=cross-site`},
		{[]interceptor.Option{protocors.WithCrossOriginReportOnly(true)}, true, `msg="protocors: cross-origin request would be refused (report only)" procedure=/protocors.test.v1.PingService/Ping`},
		{[]interceptor.Option{protocors.WithCrossOriginProtection(false)}, true, ""},
	} {
		var buf bytes.Buffer
		mw, err := interceptor.New(append(tt.opts, protocors.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))...)
		if err != nil {
			t.Fatal(err)
		}
		ran := false
		h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
		r := httptest.NewRequest("POST", testv1connect.PingServicePingProcedure, nil)
		r.Header.Set("Origin", evilOrigin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if ran != tt.ran {
			t.Errorf("%d options: handler ran %t, want %t", len(tt.opts), ran, tt.ran)
		}
		if tt.log == "" && buf.Len() > 0 || !strings.Contains(buf.String(), tt.log) {
			t.Errorf("%d options: log %q, want %q", len(tt.opts), buf.String(), tt.log)
		}
	}
}

// TestConnectGETExposesConnectHeaders: a GET is always the Connect
// protocol, whatever Content-Type it carries.
func TestConnectGETExposesConnectHeaders(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", testv1connect.FlavorServiceGetFlavorProcedure+"?encoding=json&message={}", nil)
	r.Header.Set("Origin", appOrigin)
	r.Header.Set("Content-Type", "application/grpc")
	w := httptest.NewRecorder()
	mw.Handler(reached).ServeHTTP(w, r)
	if got := w.Header().Get("Access-Control-Expose-Headers"); strings.Contains(got, "Grpc-Status") {
		t.Errorf("Connect GET exposes %q, the gRPC list", got)
	}
}

// assertBareRefusal checks that a request the protection refused got the
// refusal alone: no Access-Control-* header and no Vary. The 403 is
// decided before the policy writes anything, so a flood of forged
// requests costs no header values (and a 403 to an unsafe method is not
// stored by caches, so it needs no Vary).
func assertBareRefusal(t *testing.T, h http.Header) {
	t.Helper()
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			t.Errorf("refusal carries %s: %q", k, h[k])
		}
	}
}
