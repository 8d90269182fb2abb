package gateway_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// The attacks of issue "safe whatever the Content-Type, the credentials or
// the debug switch", each against a real grpc-gateway mux. Each failed
// before the shared request path (internal/core/gate.go) closed it.

// Hole 3: a simple request (text/plain fetch with credentials: "include",
// navigator.sendBeacon) carries the user's cookies without a preflight.
// The preflighted form of the same call is blocked by the browser when the
// policy does not allow credentials, so the simple form must not run
// either: "*" means any origin, without the user's credentials.
func TestAttackCredentialsWithoutPreflight(t *testing.T) {
	const sibling = "https://www.api.example.com" // same site as the API
	routes := []secRoute{
		{"POST", "/v1/notes", "CreateNote", &corspb.Policy{AllowOrigins: []string{"*"}}},
		{"POST", "/v1/orders", "PlaceOrder", &corspb.Policy{AllowOrigins: []string{pageOrigin, sibling}}},
		{"POST", "/v1/cart", "AddToCart", &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowCredentials: proto.Bool(true)}},
		// A token API: any origin, the page sends its own bearer token.
		{"POST", "/v1/tokens", "TokenCall", &corspb.Policy{AllowOrigins: []string{"*"}, AllowHeaders: []string{"Authorization"}}},
	}
	cert := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{}}}
	tests := []struct {
		name    string
		opts    []gateway.Option
		path    string
		rpc     string
		headers []string
		tls     *tls.ConnectionState
		status  int
		runs    int32
	}{
		{name: `"*", same-site page, cookie`, path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", sibling, "Sec-Fetch-Site", "same-site", "Content-Type", "text/plain;charset=UTF-8", "Cookie", "session=s3cr3t"}, status: 403},
		{name: `"*", sendBeacon from another site, cookie`, path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain;charset=UTF-8", "Cookie", "session=s3cr3t"}, status: 403},
		{name: `"*", HTTP authentication`, path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain", "Authorization", "Basic dTpw"}, status: 403},
		{name: `"*", TLS client certificate`, path: "/v1/notes", rpc: "CreateNote", tls: cert,
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, status: 403},
		{name: "Basic auth where the policy lists Authorization", path: "/v1/tokens", rpc: "TokenCall",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain", "Authorization", "Basic dTpw"}, status: 403},
		{name: "Negotiate where the policy lists Authorization", path: "/v1/tokens", rpc: "TokenCall",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain", "Authorization", "negotiate YIIx"}, status: 403},
		{name: "bearer token where the policy does not list Authorization", path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json", "Authorization", "Bearer t0k3n"}, status: 403},
		{name: "listed origin without allow_credentials, cookie", path: "/v1/orders", rpc: "PlaceOrder",
			headers: []string{"Origin", sibling, "Sec-Fetch-Site", "same-site", "Content-Type", "text/plain", "Cookie", "session=s3cr3t"}, status: 403},
		{name: "older browser without Sec-Fetch-Site, cookie", path: "/v1/orders", rpc: "PlaceOrder",
			headers: []string{"Origin", pageOrigin, "Content-Type", "text/plain", "Cookie", "session=s3cr3t"}, status: 403},

		// What must still work.
		{name: "bearer token the page set, the policy lists Authorization", path: "/v1/tokens", rpc: "TokenCall",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json", "Authorization", "Bearer t0k3n"}, status: 200, runs: 1},
		{name: `"*" without credentials`, path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", sibling, "Sec-Fetch-Site", "same-site", "Content-Type", "text/plain"}, status: 200, runs: 1},
		{name: "allow_credentials, cookie", path: "/v1/cart", rpc: "AddToCart",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json", "Cookie", "session=s3cr3t"}, status: 200, runs: 1},
		{name: "same-origin page, cookie", path: "/v1/orders", rpc: "PlaceOrder",
			headers: []string{"Origin", "https://api.example.com", "Sec-Fetch-Site", "same-origin", "Content-Type", "text/plain", "Cookie", "session=s3cr3t"}, status: 200, runs: 1},
		{name: "non-browser client, cookie", path: "/v1/orders", rpc: "PlaceOrder",
			headers: []string{"Content-Type", "application/json", "Cookie", "session=s3cr3t"}, status: 200, runs: 1},
		{name: "report only", opts: []gateway.Option{protocors.WithCrossOriginReportOnly(true)}, path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain", "Cookie", "session=s3cr3t"}, status: 200, runs: 1},
		{name: "protection off", opts: []gateway.Option{protocors.WithCrossOriginProtection(false)}, path: "/v1/notes", rpc: "CreateNote",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain", "Cookie", "session=s3cr3t"}, status: 200, runs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecServer(t, routes, tt.opts...)
			r := httptest.NewRequest("POST", "https://api.example.com"+tt.path, strings.NewReader(`{}`))
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Add(tt.headers[i], tt.headers[i+1])
			}
			r.TLS = tt.tls
			w := httptest.NewRecorder()
			s.h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d (body %q)", w.Code, tt.status, w.Body.String())
			}
			if got := s.ran(tt.rpc); got != tt.runs {
				t.Errorf("%s ran %d times, want %d", tt.rpc, got, tt.runs)
			}
		})
	}
}

// Hole 4: with WithDebug, the refusal of X-HTTP-Method-Override (made
// because another RPC at the URL would refuse the request) was written by
// the asked route's debug answer, which lists every requested header its
// own policy allows: the override header included. The browser then sent
// the form POST with the override, and DeleteItem ran.
func TestAttackDebugGrantsRefusedOverride(t *testing.T) {
	update := &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"X-HTTP-Method-Override"}}
	routes := []secRoute{
		{"POST", "/v1/items/{id}", "UpdateItem", update},
		{"DELETE", "/v1/items/{id}", "DeleteItem", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}},
	}
	for _, debug := range []bool{false, true} {
		s := newSecServer(t, routes, protocors.WithDebug(debug))
		for _, headers := range []string{"x-http-method-override", "content-type,x-http-method-override"} {
			w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", headers)
			granted := slicesContainsFold(w.Header().Values("Access-Control-Allow-Headers"), "x-http-method-override")
			if w.Code/100 == 2 && w.Header().Get("Access-Control-Allow-Origin") != "" && granted {
				t.Errorf("debug %t, %q: the answer grants the override header: %d %v", debug, headers, w.Code, w.Header())
			}
		}
		// What the browser would then send: refused, as no preflight granted it.
		w := s.do("POST", "/v1/items/1", "a=b", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site",
			"Content-Type", "application/x-www-form-urlencoded", "X-HTTP-Method-Override", "DELETE")
		if w.Code != 403 || s.ran("DeleteItem") != 0 {
			t.Errorf("debug %t: form POST with the override: %d, DeleteItem ran %d times", debug, w.Code, s.ran("DeleteItem"))
		}
	}
}

func slicesContainsFold(lines []string, name string) bool {
	for _, line := range lines {
		for el := range strings.SplitSeq(line, ",") {
			if strings.EqualFold(strings.TrimSpace(el), name) {
				return true
			}
		}
	}
	return false
}

// Told that the mux ignores X-HTTP-Method-Override while it honours it,
// the middleware took a form POST for UpdateItem, whose policy allows the
// page, and the mux ran DeleteItem. A browser sends that header only after
// a preflight granted it, so a cross-origin request carrying it where the
// middleware believes override is off is refused.
func TestAttackOverrideBelievedOff(t *testing.T) {
	routes := []secRoute{
		{"POST", "/v1/items/{id}", "UpdateItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"*"}}},
		{"DELETE", "/v1/items/{id}", "DeleteItem", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}},
		{"GET", "/v1/items/{id}", "GetItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}}},
	}
	for name, opt := range map[string]gateway.Option{
		"WithDisableHTTPMethodOverride": gateway.WithDisableHTTPMethodOverride(),
		"WithDisablePathLengthFallback": gateway.WithDisablePathLengthFallback(),
	} {
		// The mux keeps its defaults: override and fallback on.
		s := newSecServer(t, routes, opt)
		for _, path := range []string{"/v1/items/1"} {
			w := s.do("POST", path, "a=b", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site",
				"Content-Type", "application/x-www-form-urlencoded", "X-HTTP-Method-Override", "DELETE")
			if w.Code != 403 || s.ran("DeleteItem") != 0 {
				t.Errorf("%s: form POST with the override: %d, DeleteItem ran %d times", name, w.Code, s.ran("DeleteItem"))
			}
		}
		// A non-browser client that sends it is not judged.
		if w := s.do("POST", "/v1/items/1", "a=b", "Content-Type", "application/x-www-form-urlencoded", "X-HTTP-Method-Override", "DELETE"); w.Code == 403 {
			t.Errorf("%s: a request without Origin and Sec-Fetch-Site was refused", name)
		}
	}
}

// WithUnknownPathProtection extends the protection to a handler the
// middleware was not told about (a HandlePath route not given with
// WithRoute), as net/http.CrossOriginProtection protects every path.
func TestUnknownPathProtection(t *testing.T) {
	for _, on := range []bool{false, true} {
		mux := runtime.NewServeMux()
		ran := 0
		for _, p := range []string{"/v1/notes", "/admin/reset"} {
			if err := mux.HandlePath("POST", p, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) { ran++ }); err != nil {
				t.Fatal(err)
			}
		}
		mw, err := gateway.New(gateway.WithRoute("POST", "/v1/notes", &corspb.Policy{AllowOrigins: []string{pageOrigin}}),
			protocors.WithUnknownPathProtection(on))
		if err != nil {
			t.Fatal(err)
		}
		h := mw.Handler(mux)
		send := func(path string, headers ...string) int {
			r := httptest.NewRequest("POST", "https://api.example.com"+path, strings.NewReader("{}"))
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code
		}
		want := 200
		if on {
			want = 403
		}
		if got := send("/admin/reset", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"); got != want {
			t.Errorf("on %t: cross-site POST to an unknown path: %d, want %d", on, got, want)
		}
		for _, h := range [][]string{
			{"Origin", "https://api.example.com", "Sec-Fetch-Site", "same-origin"},
			{"Content-Type", "application/json"},
		} {
			if got := send("/admin/reset", h...); got != 200 {
				t.Errorf("on %t: %v to an unknown path: %d, want 200", on, h, got)
			}
		}
		if got := send("/v1/notes", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"); got != 200 {
			t.Errorf("on %t: the known route from its allowed origin: %d", on, got)
		}
	}
}

// Hole 5: request values were logged whole, the origin twice, so one
// request with a 500 kB Origin of 0xFF bytes wrote 6 MB of JSON log.
func TestLogAmplification(t *testing.T) {
	routes := []secRoute{
		{"POST", "/v1/icecream/{flavor}:restock", "RestockIceCream", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}},
		{"GET", "/v1/icecream/{flavor}", "GetIceCream", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}},
	}
	huge := strings.Repeat("\xff", 500<<10)
	half := strings.Repeat("\xff", 250<<10)
	tests := []struct {
		name    string
		method  string
		path    string
		headers []string
	}{
		{"refused preflight", "OPTIONS", "/v1/icecream/vanilla:restock", []string{"Origin", huge, "Access-Control-Request-Method", "POST"}},
		{"preflight refused for a header", "OPTIONS", "/v1/icecream/vanilla:restock", []string{"Origin", factoryOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", huge}},
		{"preflight refused for a method", "OPTIONS", "/v1/icecream/vanilla:restock", []string{"Origin", factoryOrigin, "Access-Control-Request-Method", huge}},
		{"protection refusal", "POST", "/v1/icecream/vanilla:restock", []string{"Origin", half, "Sec-Fetch-Site", half, "Content-Type", "text/plain"}},
		{"several Origin lines", "POST", "/v1/icecream/vanilla:restock", []string{"Origin", half, "Origin", half, "Content-Type", "text/plain"}},
		{"not granted (Debug)", "GET", "/v1/icecream/" + strings.Repeat("v", 100<<10), []string{"Origin", huge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := newSecServer(t, routes, protocors.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			s.do(tt.method, tt.path, "{}", tt.headers...)
			if buf.Len() == 0 {
				t.Fatal("nothing logged")
			}
			if lines := strings.Count(buf.String(), "\n"); lines != 1 {
				t.Errorf("%d log lines, want 1:\n%.300s", lines, buf.String())
			}
			// Each request value at most 512 bytes, escaped to at most 6
			// characters each: a few values and the route fit in 16 kB.
			if buf.Len() > 16<<10 {
				t.Errorf("one request wrote %d bytes of log", buf.Len())
			}
		})
	}
}

// An allowed preflight whose answer is made uncacheable says why at Debug,
// in the words `protocors explain` uses; a refusal made for another RPC at
// the URL names that RPC.
func TestPreflightConflictLogged(t *testing.T) {
	routes := []secRoute{
		{"GET", "/v1/items/{id}", "GetItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}}},
		{"PUT", "/v1/items/{id}", "UpdateItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"X-Foo", "X-HTTP-Method-Override"}}},
		{"POST", "/v1/items/{id}", "PostItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"X-HTTP-Method-Override"}}},
	}
	var buf bytes.Buffer
	s := newSecServer(t, routes, protocors.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-foo")
	if w.Code != 204 || w.Header().Get("Access-Control-Max-Age") != "0" {
		t.Fatalf("preflight: %d %v, want 204 with Max-Age 0", w.Code, w.Header())
	}
	want := `level=DEBUG msg="protocors: CORS preflight answer made uncacheable" route="PUT /v1/items/{id}" rpc="" path=/v1/items/1 method=PUT reason="Access-Control-Max-Age: 0 (the browser may not cache this answer): the mux also runs gateway.WithRoute GET /v1/items/{id} for GET /v1/items/{id} at this URL, and its policy does not allow header x-foo; a cached answer would let the page send it a GET without a new preflight"`
	if !strings.Contains(buf.String(), want) || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("log:\n%s\nwant one line:\n%s", buf.String(), want)
	}
	buf.Reset()
	w = s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-http-method-override")
	if w.Code != 403 {
		t.Fatalf("override preflight: %d, want 403", w.Code)
	}
	if want := `refused_by="gateway.WithRoute GET /v1/items/{id} (GET /v1/items/{id})"`; !strings.Contains(buf.String(), want) || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("log:\n%s\nwant one line with %s", buf.String(), want)
	}
}
