package gateway_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/corstest"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// Fake servers: each answers with the RPC's name so tests can tell which
// handler the mux ran.

type flavors struct {
	testv1.UnimplementedFlavorServiceServer
}

func (flavors) GetFlavor(ctx context.Context, r *testv1.GetFlavorRequest) (*testv1.Flavor, error) {
	if r.GetName() == "missing" {
		return nil, status.Error(codes.NotFound, "no such flavor")
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-trace-id", "t-1"))
	return &testv1.Flavor{Name: "GetFlavor"}, nil
}

func (flavors) PutFlavor(context.Context, *testv1.PutFlavorRequest) (*testv1.Flavor, error) {
	return &testv1.Flavor{Name: "PutFlavor"}, nil
}

func (flavors) DeleteFlavor(context.Context, *testv1.DeleteFlavorRequest) (*testv1.DeleteFlavorResponse, error) {
	return &testv1.DeleteFlavorResponse{}, nil
}

func (flavors) ListFlavors(context.Context, *testv1.ListFlavorsRequest) (*testv1.ListFlavorsResponse, error) {
	return &testv1.ListFlavorsResponse{Flavors: []*testv1.Flavor{{Name: "ListFlavors"}}}, nil
}

type resources struct {
	testv1.UnimplementedResourceServiceServer
}

func (resources) GetResource(context.Context, *testv1.ResourceRequest) (*testv1.ResourceResponse, error) {
	return &testv1.ResourceResponse{Name: "GetResource"}, nil
}

func (resources) PostResource(context.Context, *testv1.ResourceRequest) (*testv1.ResourceResponse, error) {
	return &testv1.ResourceResponse{Name: "PostResource"}, nil
}

type pings struct {
	testv1.UnimplementedPingServiceServer
}

func (pings) Ping(context.Context, *testv1.PingRequest) (*testv1.PingResponse, error) {
	return &testv1.PingResponse{Text: "Ping"}, nil
}

type gadgets struct {
	testv1.UnimplementedGadgetServiceServer
}

func (gadgets) GetGadget(context.Context, *testv1.GadgetRequest) (*testv1.Gadget, error) {
	return &testv1.Gadget{Name: "GetGadget"}, nil
}

func (gadgets) UpdateGadget(context.Context, *testv1.GadgetRequest) (*testv1.Gadget, error) {
	return &testv1.Gadget{Name: "UpdateGadget"}, nil
}

func (gadgets) DeleteGadget(context.Context, *testv1.GadgetRequest) (*testv1.Gadget, error) {
	return &testv1.Gadget{Name: "DeleteGadget"}, nil
}

func (gadgets) CreateGadget(context.Context, *testv1.GadgetRequest) (*testv1.Gadget, error) {
	return &testv1.Gadget{Name: "CreateGadget"}, nil
}

func (gadgets) SearchGadgets(context.Context, *testv1.SearchGadgetsRequest) (*testv1.SearchGadgetsResponse, error) {
	return &testv1.SearchGadgetsResponse{Gadgets: []*testv1.Gadget{{Name: "SearchGadgets"}}}, nil
}

// gatewayMux registers every test service on a real grpc-gateway mux.
func gatewayMux(tb testing.TB, opts ...runtime.ServeMuxOption) *runtime.ServeMux {
	tb.Helper()
	ctx := context.Background()
	mux := runtime.NewServeMux(opts...)
	for _, err := range []error{
		testv1.RegisterFlavorServiceHandlerServer(ctx, mux, flavors{}),
		testv1.RegisterResourceServiceHandlerServer(ctx, mux, resources{}),
		testv1.RegisterPingServiceHandlerServer(ctx, mux, pings{}),
		testv1.RegisterGadgetServiceHandlerServer(ctx, mux, gadgets{}),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return mux
}

func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

const (
	app   = "https://app.example.com"
	admin = "https://admin.example.com"
	evil  = "https://evil.example.net"
)

type exchange struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    string

	status  int
	rpc     string            // the RPC whose answer the body must hold; "" for none
	present map[string]string // exact single values
	absent  []string
	expose  []string            // members of Access-Control-Expose-Headers
	members map[string][]string // members of other list headers
}

var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
}

func TestGatewayMux(t *testing.T) {
	mw, err := gateway.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw.Handler(gatewayMux(t)))
	tests := []exchange{
		{
			name: "preflight GET answered with only GET (PUT and DELETE have other answers)", method: "OPTIONS", path: "/v1/flavors/vanilla",
			headers: corstest.PreflightHeaders(app, "GET"),
			status:  204, present: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "GET", "Access-Control-Max-Age": "300"},
			absent: []string{"Access-Control-Allow-Credentials"},
		},
		{
			name: "preflight PUT with its own policy: credentials, X-Request-Id, Content-Type (body)", method: "OPTIONS", path: "/v1/flavors/vanilla",
			headers: corstest.PreflightHeaders(app, "PUT", "content-type", "x-request-id"),
			status:  204, present: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Credentials": "true"},
			members: map[string][]string{"Access-Control-Allow-Headers": {"Content-Type", "X-Request-Id"}},
		},
		{
			name: "preflight GET asking for Content-Type: no body on that route", method: "OPTIONS", path: "/v1/flavors/vanilla",
			headers: corstest.PreflightHeaders(app, "GET", "content-type"),
			status:  403, absent: corsHeaders,
		},
		{
			name: "preflight DELETE (enabled: false) refused where other methods have CORS", method: "OPTIONS", path: "/v1/flavors/vanilla",
			headers: corstest.PreflightHeaders(app, "DELETE"),
			status:  403, absent: corsHeaders,
		},
		{
			name: "preflight from a disallowed origin", method: "OPTIONS", path: "/v1/flavors/vanilla",
			headers: corstest.PreflightHeaders(evil, "GET"),
			status:  403, absent: corsHeaders,
		},
		{
			name: "preflight on the additional binding, wildcard origin of ListFlavors", method: "OPTIONS", path: "/v1/shops/corner/flavors",
			headers: corstest.PreflightHeaders("https://shop.example.org", "GET"),
			status:  204, present: map[string]string{"Access-Control-Allow-Origin": "https://shop.example.org", "Access-Control-Allow-Methods": "GET"},
		},
		{
			name: "preflight for ** and a verb under origins *", method: "OPTIONS", path: "/v1/projects/p/resources/a/b:inspect",
			headers: corstest.PreflightHeaders(evil, "GET"),
			status:  204, present: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET"},
		},
		{
			name: "preflight for an unknown path reaches the mux", method: "OPTIONS", path: "/v1/nothing",
			headers: corstest.PreflightHeaders(app, "GET"),
			status:  404, absent: corsHeaders,
		},
		{
			name: "preflight for PingService (no policy) reaches the mux", method: "OPTIONS", path: "/v1/ping",
			headers: corstest.PreflightHeaders(app, "POST"),
			status:  501, absent: corsHeaders,
		},
		{
			name: "GET, PATCH and DELETE share one answer; POST has another", method: "OPTIONS", path: "/v1/gadgets/g1",
			headers: corstest.PreflightHeaders(app, "DELETE"),
			status:  204, present: map[string]string{"Access-Control-Allow-Methods": "DELETE, GET, PATCH", "Access-Control-Max-Age": "600"},
		},
		{
			// A cached header grant is good for any method at the URL, and
			// POST is never preflighted: the POST RPC here refuses app's
			// origin, so the grant must not be cached.
			name: "a header grant another safelisted-method RPC at the URL refuses is not cached", method: "OPTIONS", path: "/v1/gadgets/g1",
			headers: corstest.PreflightHeaders(app, "GET", "x-request-id"),
			status:  204, present: map[string]string{"Access-Control-Allow-Methods": "GET, PATCH, DELETE", "Access-Control-Allow-Headers": "x-request-id", "Access-Control-Max-Age": "0"},
		},
		{
			name: "the requested method comes first", method: "OPTIONS", path: "/v1/gadgets/g1",
			headers: corstest.PreflightHeaders(app, "PATCH", "content-type"),
			status:  204, present: map[string]string{"Access-Control-Allow-Methods": "PATCH, GET, DELETE", "Access-Control-Allow-Headers": "content-type"},
		},
		{
			name: "POST on the same path under its own origins", method: "OPTIONS", path: "/v1/gadgets/g1",
			headers: corstest.PreflightHeaders(admin, "POST"),
			status:  204, present: map[string]string{"Access-Control-Allow-Origin": admin, "Access-Control-Allow-Methods": "POST"},
		},
		{
			name: "POST from an origin only the other methods allow", method: "OPTIONS", path: "/v1/gadgets/g1",
			headers: corstest.PreflightHeaders(app, "POST"),
			status:  403, absent: corsHeaders,
		},
		{
			name: "custom method with a verb, and GET on the same path", method: "OPTIONS", path: "/v1/gadgets:search",
			headers: corstest.PreflightHeaders(app, "SEARCH"),
			status:  204, present: map[string]string{"Access-Control-Allow-Methods": "SEARCH, GET"},
		},
		{
			name: "actual GET decorated, metadata header exposed", method: "GET", path: "/v1/flavors/vanilla",
			headers: map[string]string{"Origin": app},
			status:  200, rpc: "GetFlavor",
			present: map[string]string{"Access-Control-Allow-Origin": app, "Vary": "Origin", "Grpc-Metadata-X-Trace-Id": "t-1"},
			expose:  []string{"X-Trace-Id", "Grpc-Metadata-X-Trace-Id"},
			absent:  []string{"Access-Control-Allow-Credentials"},
		},
		{
			name: "error response from the server still decorated", method: "GET", path: "/v1/flavors/missing",
			headers: map[string]string{"Origin": app},
			status:  404, present: map[string]string{"Access-Control-Allow-Origin": app},
		},
		{
			name: "actual GET from a disallowed origin reaches the server undecorated", method: "GET", path: "/v1/flavors/vanilla",
			headers: map[string]string{"Origin": evil},
			status:  200, rpc: "GetFlavor", present: map[string]string{"Vary": "Origin"}, absent: corsHeaders,
		},
		{
			name: "actual PUT with credentials", method: "PUT", path: "/v1/flavors/vanilla", body: `{"name":"x"}`,
			headers: map[string]string{"Origin": app, "Content-Type": "application/json"},
			status:  200, rpc: "PutFlavor", present: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true"},
		},
		{
			name: "DeleteFlavor (enabled: false) passes through untouched", method: "DELETE", path: "/v1/flavors/vanilla",
			headers: map[string]string{"Origin": app, "Sec-Fetch-Site": "same-origin"}, // served from the API's own origin
			status:  200, absent: append([]string{"Vary"}, corsHeaders...),
		},
		{
			name: "DeleteFlavor (enabled: false) refuses a cross-origin DELETE", method: "DELETE", path: "/v1/flavors/vanilla",
			headers: map[string]string{"Origin": app},
			status:  403, absent: append([]string{"Vary"}, corsHeaders...),
		},
		{
			name: "PingService passes through untouched", method: "POST", path: "/v1/ping", body: `{}`,
			headers: map[string]string{"Content-Type": "application/json"},
			status:  200, rpc: "Ping", absent: append([]string{"Vary"}, corsHeaders...),
		},
		{
			name: "PingService refuses a cross-site POST", method: "POST", path: "/v1/ping", body: `{}`,
			headers: map[string]string{"Origin": app, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
			status:  403, absent: append([]string{"Vary"}, corsHeaders...),
		},
		{
			name: "origins * on every response, Origin or not", method: "POST", path: "/v1/files/a/b", body: `{}`,
			status: 200, rpc: "PostResource", present: map[string]string{"Access-Control-Allow-Origin": "*"},
		},
		{
			name: "form POST runs the GET route, decorated by its policy", method: "POST", path: "/v1/flavors/vanilla", body: "a=b",
			headers: map[string]string{"Origin": app, "Content-Type": "application/x-www-form-urlencoded"},
			status:  200, rpc: "GetFlavor", present: map[string]string{"Access-Control-Allow-Origin": app}, absent: []string{"Access-Control-Allow-Credentials"},
		},
		{
			name: "X-HTTP-Method-Override on a form POST runs PUT", method: "POST", path: "/v1/flavors/vanilla", body: "a=b",
			headers: map[string]string{"Origin": app, "Content-Type": "application/x-www-form-urlencoded", "X-HTTP-Method-Override": "put"},
			status:  200, rpc: "PutFlavor", present: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true"},
		},
		{
			name: "X-HTTP-Method-Override without a form is ignored, as by the mux", method: "POST", path: "/v1/flavors/vanilla", body: "{}",
			headers: map[string]string{"Origin": app, "Content-Type": "application/json", "X-HTTP-Method-Override": "PUT"},
			status:  501, absent: corsHeaders,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkResponse(t, resp.StatusCode, resp.Header, string(body), tt)
		})
	}
}

func checkResponse(t *testing.T, code int, h http.Header, body string, tt exchange) {
	t.Helper()
	if code != tt.status {
		t.Errorf("status %d, want %d (body %q)", code, tt.status, body)
	}
	if tt.rpc != "" && !strings.Contains(body, `"`+tt.rpc+`"`) {
		t.Errorf("body %q is not %s's answer", body, tt.rpc)
	}
	for k, v := range tt.present {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want exactly %q", k, got, v)
		}
	}
	for _, k := range tt.absent {
		if got := h.Values(k); len(got) > 0 {
			t.Errorf("%s = %q, want none", k, got)
		}
	}
	members := map[string][]string{"Access-Control-Expose-Headers": tt.expose}
	for k, v := range tt.members {
		members[k] = v
	}
	for k, wants := range members {
		var names []string
		for _, v := range h.Values(k) {
			for _, n := range strings.Split(v, ",") {
				names = append(names, strings.ToLower(strings.TrimSpace(n)))
			}
		}
		for _, want := range wants {
			if !slices.Contains(names, strings.ToLower(want)) {
				t.Errorf("%s %q lacks %s", k, names, want)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []gateway.Option
		want []string
	}{
		{"empty WithOrigins", []gateway.Option{protocors.WithOrigins()}, []string{"no origins given"}},
		{"nil registry", []gateway.Option{protocors.WithFiles(nil)}, []string{"WithFiles(nil)"}},
		{"bad default origin", []gateway.Option{protocors.WithOrigins("https://ok.example", "https://Bad.example/")}, []string{`runtime default: allow_origins[1] "https://Bad.example/"`}},
		{"credentials with * through the default", []gateway.Option{protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{"*"}, AllowCredentials: new(true)})},
			[]string{`runtime default: allow_origins[0] "*"`}},
		{"bad route template", []gateway.Option{gateway.WithRoute("GET", "/v1/{oops", nil)}, []string{`gateway.WithRoute GET /v1/{oops: path template "/v1/{oops"`}},
		{"bad route method", []gateway.Option{gateway.WithRoute("GET /x", "/x", nil)}, []string{`method "GET /x"`}},
		{"route enabled without origins", []gateway.Option{gateway.WithRoute("GET", "/healthz", &corspb.Policy{MaxAgeSeconds: new(uint32(5))})}, []string{"gateway.WithRoute GET /healthz: allow_origins"}},
		{"route policy invalid", []gateway.Option{gateway.WithRoute("GET", "/healthz", &corspb.Policy{AllowOrigins: []string{"https://*.com"}})}, []string{`gateway.WithRoute GET /healthz: allow_origins[0] "https://*.com"`}},
		{"bad mode", []gateway.Option{gateway.WithUnescapingMode(runtime.UnescapingMode(9))}, []string{"WithUnescapingMode(9)"}},
		{"negative mode", []gateway.Option{gateway.WithUnescapingMode(runtime.UnescapingMode(-1))}, []string{"WithUnescapingMode(-1)"}},
		// 256 would pass as the default mode if the mode were narrowed to a byte.
		{"mode past a byte", []gateway.Option{gateway.WithUnescapingMode(runtime.UnescapingMode(256))}, []string{"WithUnescapingMode(256)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gateway.New(tt.opts...)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestWithRoute adds a HandlePath route with its own policy and one without
// any (which shadows nothing here, and passes through).
func TestWithRoute(t *testing.T) {
	mux := gatewayMux(t)
	ok := func(w http.ResponseWriter, _ *http.Request, _ map[string]string) { _, _ = io.WriteString(w, "custom") }
	if err := mux.HandlePath("GET", "/v1/custom/{x}", ok); err != nil {
		t.Fatal(err)
	}
	if err := mux.HandlePath("POST", "/v1/custom/{x}", ok); err != nil {
		t.Fatal(err)
	}
	mw, err := gateway.New(
		gateway.WithRoute("GET", "/v1/custom/{x}", &corspb.Policy{AllowOrigins: []string{app}, ExposeHeaders: []string{"X-Custom"}}),
		gateway.WithRoute("POST", "/v1/custom/{x}", nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(mux)
	for _, tt := range []exchange{
		{name: "preflight", method: "OPTIONS", path: "/v1/custom/1", headers: corstest.PreflightHeaders(app, "GET"), status: 204,
			present: map[string]string{"Access-Control-Allow-Methods": "GET"}},
		{name: "preflight for the route without policy", method: "OPTIONS", path: "/v1/custom/1", headers: corstest.PreflightHeaders(app, "POST"), status: 403, absent: corsHeaders},
		{name: "actual", method: "GET", path: "/v1/custom/1", headers: map[string]string{"Origin": app}, status: 200,
			present: map[string]string{"Access-Control-Allow-Origin": app}, expose: []string{"X-Custom", "Grpc-Metadata-X-Custom"}},
		{name: "POST passes through", method: "POST", path: "/v1/custom/1", headers: map[string]string{"Origin": app, "Sec-Fetch-Site": "same-origin"}, status: 200, absent: corsHeaders},
		{name: "cross-site POST refused", method: "POST", path: "/v1/custom/1", headers: map[string]string{"Origin": app, "Sec-Fetch-Site": "cross-site"}, status: 403, absent: corsHeaders},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			checkResponse(t, w.Code, w.Header(), w.Body.String(), tt)
		})
	}
}

// TestDefaultPolicy: WithOrigins makes PingService CORS-enabled, but
// DeleteFlavor stays off (enabled: false).
func TestDefaultPolicy(t *testing.T) {
	mw, err := gateway.New(protocors.WithOrigins(admin))
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(gatewayMux(t))
	for _, tt := range []exchange{
		{name: "ping now enabled", method: "OPTIONS", path: "/v1/ping", headers: corstest.PreflightHeaders(admin, "POST", "content-type"), status: 204,
			present: map[string]string{"Access-Control-Allow-Origin": admin, "Access-Control-Allow-Methods": "POST"}},
		{name: "proto origins win over the default", method: "OPTIONS", path: "/v1/flavors/x", headers: corstest.PreflightHeaders(admin, "GET"), status: 403},
		{name: "delete still off", method: "OPTIONS", path: "/v1/flavors/x", headers: corstest.PreflightHeaders(app, "DELETE"), status: 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			checkResponse(t, w.Code, w.Header(), w.Body.String(), tt)
		})
	}
}

func TestLoggerAndDebug(t *testing.T) {
	var buf bytes.Buffer
	mw, err := gateway.New(protocors.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))), protocors.WithDebug(true))
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(gatewayMux(t))
	r := httptest.NewRequest("OPTIONS", "/v1/flavors/vanilla", nil)
	for k, v := range corstest.PreflightHeaders(app, "DELETE") {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	// Debug: the origin is granted, the method is not, so the browser says so.
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != app || w.Header().Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("debug refusal: %d %v", w.Code, w.Header())
	}
	// The log names the route that was asked about (DeleteFlavor, enabled:
	// false), not the route whose policy refused it.
	for _, want := range []string{"CORS preflight refused", `route="DELETE /v1/flavors/{name}" rpc=protocors.test.v1.FlavorService.DeleteFlavor`, "method=DELETE", `reason="method not allowed"`, "path=/v1/flavors/vanilla", "origin=" + app} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
}

// TestUnescapingMode: "/v1/flavors/a%2Fb" is a flavor only where the mux
// matches the raw path without splitting "%2F".
func TestUnescapingMode(t *testing.T) {
	for _, tt := range []struct {
		mode   runtime.UnescapingMode
		status int
	}{
		{runtime.UnescapingModeLegacy, 404}, // matches the unescaped "/v1/flavors/a/b"
		{runtime.UnescapingModeAllExceptReserved, 204},
		{runtime.UnescapingModeAllExceptSlash, 204},
		{runtime.UnescapingModeAllCharacters, 404},
	} {
		mw, err := gateway.New(gateway.WithUnescapingMode(tt.mode))
		if err != nil {
			t.Fatal(err)
		}
		srv := newServer(t, mw.Handler(gatewayMux(t, runtime.WithUnescapingMode(tt.mode))))
		req, _ := http.NewRequest("OPTIONS", srv.URL+"/v1/flavors/a%2Fb", nil)
		for k, v := range corstest.PreflightHeaders(app, "GET") {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("mode %d: status %d, want %d", tt.mode, resp.StatusCode, tt.status)
		}
	}
}
