package gateway_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// The attacks of issue "a page reaches exactly the RPCs the proto opens to
// it", each against a real grpc-gateway mux. Routes come from HandlePath
// and WithRoute (same routes, same order), so each test states its
// policies next to the attack.

const (
	pageOrigin    = "https://app.example.com"     // the page's origin
	factoryOrigin = "https://factory.example.com" // the only origin RestockIceCream allows
)

type secRoute struct {
	method, template, rpc string
	policy                *corspb.Policy
}

// secServer is a mux and the middleware in front of it, with a count of
// each RPC's handler runs.
type secServer struct {
	h    http.Handler
	runs map[string]*atomic.Int32
}

func newSecServer(t *testing.T, routes []secRoute, opts ...gateway.Option) *secServer {
	t.Helper()
	mux := runtime.NewServeMux()
	s := &secServer{runs: make(map[string]*atomic.Int32)}
	for _, rt := range routes {
		n := s.runs[rt.rpc]
		if n == nil {
			n = new(atomic.Int32)
			s.runs[rt.rpc] = n
		}
		rpc := rt.rpc
		if err := mux.HandlePath(rt.method, rt.template, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
			n.Add(1)
			_, _ = w.Write([]byte(rpc))
		}); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, gateway.WithRoute(rt.method, rt.template, rt.policy))
	}
	mw, err := gateway.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	s.h = mw.Handler(mux)
	return s
}

func (s *secServer) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://api.example.com"+path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func (s *secServer) ran(rpc string) int32 { return s.runs[rpc].Load() }

var disabled = &corspb.Policy{Enabled: proto.Bool(false)}

// Attack 1: a simple request (no preflight) from an origin the RPC's
// policy refuses. grpc-gateway decodes a text/plain JSON body, so before
// the protection RestockIceCream ran.
func TestAttackSimpleRequestCSRF(t *testing.T) {
	routes := []secRoute{
		{"POST", "/v1/icecream/{flavor}:restock", "RestockIceCream", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}},
		{"GET", "/v1/icecream/{flavor}", "GetIceCream", &corspb.Policy{AllowOrigins: []string{pageOrigin}}},
		{"POST", "/v1/ping", "Ping", nil}, // no CORS policy at all
	}
	const restock = "/v1/icecream/vanilla:restock"
	tests := []struct {
		name    string
		opts    []gateway.Option
		method  string
		path    string
		body    string
		headers []string
		rpc     string // the RPC whose runs are counted
		status  int
		runs    int32
	}{
		{name: "text/plain POST, cross-site", method: "POST", path: restock, body: `{"scoops":1000}`, rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain;charset=UTF-8"}, status: 403},
		{name: "text/plain POST, same-site", method: "POST", path: restock, body: `{"scoops":1000}`, rpc: "RestockIceCream",
			headers: []string{"Origin", "https://www.api.example.com", "Sec-Fetch-Site", "same-site", "Content-Type", "text/plain"}, status: 403},
		{name: "multipart POST", method: "POST", path: restock, body: "--b\r\n\r\n{}\r\n--b--\r\n", rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "multipart/form-data; boundary=b"}, status: 403},
		{name: "urlencoded POST carrying JSON", method: "POST", path: restock, body: `{"scoops":1000}`, rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/x-www-form-urlencoded"}, status: 403},
		{name: "older browser without Sec-Fetch-Site", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Content-Type", "text/plain"}, status: 403},
		{name: "POST to an RPC without any CORS policy", method: "POST", path: "/v1/ping", body: `{}`, rpc: "Ping",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, status: 403},
		{name: "Origin null (sandboxed page)", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", "null", "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, status: 403},

		// What must still work.
		{name: "the allowed origin", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", factoryOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json"}, status: 200, runs: 1},
		{name: "same-origin page", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", "https://api.example.com", "Sec-Fetch-Site", "same-origin", "Content-Type", "text/plain"}, status: 200, runs: 1},
		{name: "same origin by Host, no Sec-Fetch-Site", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", "https://api.example.com", "Content-Type", "text/plain"}, status: 200, runs: 1},
		{name: "user-initiated navigation (Sec-Fetch-Site none)", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Sec-Fetch-Site", "none", "Content-Type", "application/x-www-form-urlencoded"}, status: 200, runs: 1},
		{name: "non-browser client (curl)", method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Content-Type", "application/json"}, status: 200, runs: 1},
		{name: "form POST falling back to a GET RPC (safe method)", method: "POST", path: "/v1/icecream/vanilla", body: "a=b", rpc: "GetIceCream",
			headers: []string{"Origin", "https://evil.example.net", "Sec-Fetch-Site", "cross-site", "Content-Type", "application/x-www-form-urlencoded"}, status: 200, runs: 1},
		{name: "protection off", opts: []gateway.Option{protocors.WithCrossOriginProtection(false)}, method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, status: 200, runs: 1},
		{name: "report only", opts: []gateway.Option{protocors.WithCrossOriginReportOnly(true)}, method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, status: 200, runs: 1},
		{name: "report only has no effect with the protection off",
			opts:   []gateway.Option{protocors.WithCrossOriginProtection(false), protocors.WithCrossOriginReportOnly(true)},
			method: "POST", path: restock, body: `{}`, rpc: "RestockIceCream",
			headers: []string{"Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, status: 200, runs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecServer(t, routes, tt.opts...)
			w := s.do(tt.method, tt.path, tt.body, tt.headers...)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d (body %q)", w.Code, tt.status, w.Body.String())
			}
			if got := s.ran(tt.rpc); got != tt.runs {
				t.Errorf("%s ran %d times, want %d", tt.rpc, got, tt.runs)
			}
			if w.Code == 403 {
				// The refusal alone: decided before the policy writes
				// anything (no Access-Control-*, no Vary).
				for k := range w.Header() {
					if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
						t.Errorf("refusal carries %s: %q", k, w.Header()[k])
					}
				}
			}
		})
	}
}

// The protection's refusals and reports are logged with the RPC, so an
// operator can find the page that sends them.
func TestCrossOriginLogged(t *testing.T) {
	routes := []secRoute{{"POST", "/v1/icecream/{flavor}:restock", "RestockIceCream", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}}}
	for _, report := range []bool{false, true} {
		var buf bytes.Buffer
		s := newSecServer(t, routes, protocors.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))), protocors.WithCrossOriginReportOnly(report))
		s.do("POST", "/v1/icecream/vanilla:restock", "{}", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site")
		want := `msg="protocors: cross-origin request refused" route="POST /v1/icecream/{flavor}:restock" rpc="" path=/v1/icecream/vanilla:restock origin=https://app.example.com method=POST sec_fetch_site=cross-site`
		if report {
			want = strings.Replace(want, "cross-origin request refused", "cross-origin request would be refused (report only)", 1)
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report only %t: log\n%s\nwant a line with\n%s", report, buf.String(), want)
		}
	}
}

// Attack 2: X-HTTP-Method-Override on a form POST runs the handler of the
// method it names. Before the fix the preflight for POST was answered under
// UpdateItem's policy, which allows the header, and the mux then ran
// DeleteItem, which has CORS turned off.
func TestAttackMethodOverride(t *testing.T) {
	for _, allowHeaders := range [][]string{{"X-HTTP-Method-Override"}, {"*"}} {
		update := &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: allowHeaders}
		routes := []secRoute{
			{"POST", "/v1/items/{id}", "UpdateItem", update},
			{"PUT", "/v1/items/{id}", "ReplaceItem", update},
			{"DELETE", "/v1/items/{id}", "DeleteItem", disabled},
		}
		s := newSecServer(t, routes)
		name := strings.Join(allowHeaders, ",")

		w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "x-http-method-override")
		if w.Code != 403 || w.Header().Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("%s: preflight for POST with x-http-method-override: %d %v, want 403 without grants", name, w.Code, w.Header())
		}
		// Asked for with another method, the header would be cached for the
		// URL and serve a later form POST: refused too.
		w = s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "x-http-method-override")
		if w.Code != 403 {
			t.Errorf("%s: preflight for PUT with x-http-method-override: %d, want 403", name, w.Code)
		}
		// The same preflight without the override header is granted.
		if w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST"); w.Code != 204 {
			t.Errorf("%s: plain POST preflight: %d, want 204", name, w.Code)
		}
		// Had the browser sent the form POST anyway (a cached grant, an
		// older answer), the protection refuses it: DELETE is unsafe and
		// DeleteItem's policy allows no origin.
		w = s.do("POST", "/v1/items/1", "a=b", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site",
			"Content-Type", "application/x-www-form-urlencoded", "X-HTTP-Method-Override", "DELETE")
		if w.Code != 403 || s.ran("DeleteItem") != 0 {
			t.Errorf("%s: form POST overridden to DELETE: %d, DeleteItem ran %d times; want 403 and never", name, w.Code, s.ran("DeleteItem"))
		}
	}

	// Where every RPC at the path allows the request, the override header
	// is granted.
	pol := &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"X-HTTP-Method-Override"}}
	s := newSecServer(t, []secRoute{{"POST", "/v1/items/{id}", "UpdateItem", pol}, {"DELETE", "/v1/items/{id}", "DeleteItem", pol}})
	w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "x-http-method-override")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Headers") != "x-http-method-override" {
		t.Errorf("override where every RPC allows it: %d %v, want 204 granting the header", w.Code, w.Header())
	}
}

// Attack 3: the mux decides "form" with mime.ParseMediaType, which trims
// Unicode spaces and lower-cases beyond ASCII. Before the fix the
// middleware did not see a form, decorated the response with UpdateItem's
// grant, and the mux ran DeleteItem.
func TestAttackFormDetection(t *testing.T) {
	routes := []secRoute{
		{"POST", "/v1/items/{id}", "UpdateItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowCredentials: proto.Bool(true)}},
		{"DELETE", "/v1/items/{id}", "DeleteItem", disabled},
	}
	for _, ct := range []string{
		"\u00a0application/x-www-form-urlencoded",
		"application/x-www-form-urlencoded\u3000",
		"\u0085application/x-www-form-urlencoded; charset=utf-8",
		"APPLİCATION/X-WWW-FORM-URLENCODED", // U+0130 lower-cases to 'i'
		"application/x-www-form-urlencoded\u2003",
	} {
		s := newSecServer(t, routes, protocors.WithCrossOriginProtection(false))
		w := s.do("POST", "/v1/items/1", "a=b", "Origin", pageOrigin, "Content-Type", ct, "X-HTTP-Method-Override", "DELETE")
		if s.ran("DeleteItem") != 1 {
			t.Fatalf("%q: the mux did not run DeleteItem; the test no longer exercises the override", ct)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%q: DeleteItem's response carries UpdateItem's grant (Allow-Origin %q)", ct, got)
		}
		// With the protection on (the default) DeleteItem does not run.
		s = newSecServer(t, routes)
		if w := s.do("POST", "/v1/items/1", "a=b", "Origin", pageOrigin, "Content-Type", ct, "X-HTTP-Method-Override", "DELETE"); w.Code != 403 || s.ran("DeleteItem") != 0 {
			t.Errorf("%q: with the protection: %d, DeleteItem ran %d times; want 403 and never", ct, w.Code, s.ran("DeleteItem"))
		}
	}
}

// Attack 4: a browser caches a preflight's header grants for every method
// at the URL and never preflights POST. Before the fix, a PUT preflight
// granting X-Foo for 600 s let the page send a POST with X-Foo to
// ArchiveItem, which has CORS turned off.
func TestAttackPreflightCache(t *testing.T) {
	put := &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"X-Foo"}, MaxAgeSeconds: proto.Uint32(600)}
	tests := []struct {
		name   string
		post   *corspb.Policy // ArchiveItem's policy
		maxAge string
	}{
		{"POST RPC without CORS", disabled, "0"},
		{"POST RPC for another origin", &corspb.Policy{AllowOrigins: []string{factoryOrigin}, AllowHeaders: []string{"X-Foo"}}, "0"},
		{"POST RPC without the header", &corspb.Policy{AllowOrigins: []string{pageOrigin}}, "0"},
		{"POST RPC under the same policy", put, "600"},
		{"POST RPC allowing as much", &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"x-foo"}, MaxAgeSeconds: proto.Uint32(5)}, "600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecServer(t, []secRoute{
				{"PUT", "/v1/items/{id}", "UpdateItem", put},
				{"POST", "/v1/items/{id}", "ArchiveItem", tt.post},
			})
			w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "PUT",
				"Access-Control-Request-Headers", "x-foo")
			if w.Code != 204 || w.Header().Get("Access-Control-Allow-Headers") != "x-foo" {
				t.Fatalf("PUT preflight: %d %v, want 204 granting x-foo", w.Code, w.Header())
			}
			if got := w.Header().Values("Access-Control-Max-Age"); len(got) != 1 || got[0] != tt.maxAge {
				t.Errorf("Access-Control-Max-Age %q, want %q", got, tt.maxAge)
			}
			// The POST a cached grant would let through is refused anyway
			// where ArchiveItem's policy refuses the origin.
			w = s.do("POST", "/v1/items/1", "{}", "Origin", pageOrigin, "Sec-Fetch-Site", "cross-site", "X-Foo", "1", "Content-Type", "text/plain")
			if refuses := tt.post == disabled || tt.post.GetAllowOrigins()[0] != pageOrigin; refuses && (w.Code != 403 || s.ran("ArchiveItem") != 0) {
				t.Errorf("POST with X-Foo: %d, ArchiveItem ran %d times; want 403 and never", w.Code, s.ran("ArchiveItem"))
			}
		})
	}
	// GET is safelisted too, and the protection does not guard it.
	s := newSecServer(t, []secRoute{
		{"PUT", "/v1/items/{id}", "UpdateItem", put},
		{"GET", "/v1/items/{id}", "GetItem", &corspb.Policy{AllowOrigins: []string{pageOrigin}}},
	})
	w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-foo")
	if got := w.Header().Get("Access-Control-Max-Age"); w.Code != 204 || got != "0" {
		t.Errorf("PUT preflight with a GET RPC that refuses X-Foo: %d, Max-Age %q; want 204 and 0", w.Code, got)
	}
	// Without requested headers nothing but the method is cached.
	w = s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "PUT")
	if got := w.Header().Get("Access-Control-Max-Age"); w.Code != 204 || got != "600" {
		t.Errorf("PUT preflight without headers: %d, Max-Age %q; want 204 and 600", w.Code, got)
	}
}
