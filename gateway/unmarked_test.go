package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// TestUnmarkedRequests: a request no browser marked (no Origin, no
// Sec-Fetch-Site) whose method caches never reuse reaches the mux
// untouched, without the route being looked up; a GET still gets
// Vary: Origin, a request Sec-Fetch-Site marks cross-site is still judged,
// and once a "*" policy is in the table, whose Access-Control-Allow-Origin
// goes on every response, every request finds its route again.
func TestUnmarkedRequests(t *testing.T) {
	page := &corspb.Policy{AllowOrigins: []string{pageOrigin}}
	things := []secRoute{
		{"POST", "/v1/things/{name}", "UpdateThing", page},
		{"GET", "/v1/things/{name}", "GetThing", page},
	}
	open := append(things[:len(things):len(things)], secRoute{"PUT", "/v1/open/{name}", "PutOpen", &corspb.Policy{AllowOrigins: []string{"*"}}})
	for _, tc := range []struct {
		name           string
		routes         []secRoute
		method, path   string
		headers        []string
		status         int
		rpc            string // whose handler must run; "" for none
		vary, allowOrg string
	}{
		{"POST without Origin: untouched", things, "POST", "/v1/things/t1", nil, 200, "UpdateThing", "", ""},
		{"PUT without Origin to no route: untouched", things, "PUT", "/v1/things/t1", nil, 501, "", "", ""},
		{"GET without Origin: Vary", things, "GET", "/v1/things/t1", nil, 200, "GetThing", "Origin", ""},
		{"POST marked cross-site without Origin: refused", things, "POST", "/v1/things/t1", []string{"Sec-Fetch-Site", "cross-site"}, 403, "", "", ""},
		{"POST marked same-origin without Origin: judged, passes", things, "POST", "/v1/things/t1", []string{"Sec-Fetch-Site", "same-origin"}, 200, "UpdateThing", "Origin", ""},
		{"POST from the page: granted", things, "POST", "/v1/things/t1", []string{"Origin", pageOrigin}, 200, "UpdateThing", "Origin", pageOrigin},
		{"a * policy in the table: POST without Origin finds its route", open, "POST", "/v1/things/t1", nil, 200, "UpdateThing", "Origin", ""},
		{"a * policy in the table: its route answers * without Origin", open, "PUT", "/v1/open/o1", nil, 200, "PutOpen", "", "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Only these routes: the default registry holds test protos
			// with "*" policies.
			s := newSecServer(t, tc.routes, protocors.WithFiles(new(protoregistry.Files)))
			w := s.do(tc.method, tc.path, "{}", tc.headers...)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			for _, rt := range tc.routes {
				want := int32(0)
				if rt.rpc == tc.rpc {
					want = 1
				}
				if got := s.ran(rt.rpc); got != want {
					t.Errorf("%s ran %d times, want %d", rt.rpc, got, want)
				}
			}
			if got := w.Header().Get("Vary"); got != tc.vary {
				t.Errorf("Vary %q, want %q", got, tc.vary)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allowOrg {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrg)
			}
			if w.Code == http.StatusForbidden && len(w.Header()["Vary"]) > 0 {
				t.Errorf("refusal with Vary %q", w.Header()["Vary"])
			}
		})
	}
}

// TestUnmarkedAfterReconfigure: Reconfigure to a "*" policy makes a
// request without Origin find its route again, so it gets that policy's
// Access-Control-Allow-Origin: *; and back.
func TestUnmarkedAfterReconfigure(t *testing.T) {
	mux := runtime.NewServeMux()
	if err := mux.HandlePath("POST", "/v1/things/{name}", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {}); err != nil {
		t.Fatal(err)
	}
	only := func(origin string) []gateway.Option {
		return []gateway.Option{protocors.WithFiles(new(protoregistry.Files)),
			gateway.WithRoute("POST", "/v1/things/{name}", &corspb.Policy{AllowOrigins: []string{origin}})}
	}
	mw, err := gateway.New(only(pageOrigin)...)
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(mux)
	for i, origin := range []string{pageOrigin, "*", pageOrigin} {
		if i > 0 {
			if err := mw.Reconfigure(only(origin)...); err != nil {
				t.Fatal(err)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "https://api.example.com/v1/things/t1", nil))
		want := ""
		if origin == "*" {
			want = "*"
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != want || w.Code != 200 {
			t.Errorf("policy %q: status %d, Access-Control-Allow-Origin %q, want 200, %q", origin, w.Code, got, want)
		}
	}
}
