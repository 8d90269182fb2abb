package gateway_test

import (
	"fmt"
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

// Reconfigure reuses the route table and its analysis when it believes the
// inputs unchanged. Differential: from every configuration to every other,
// a Reconfigured middleware answers every request exactly as New with the
// new options does, and fails exactly when New fails.
func TestReconfigureAnswersAsNew(t *testing.T) {
	const a, b, c = "https://a.example", "https://b.example", "https://c.example"
	creds := &corspb.Policy{AllowOriginSets: []string{"admin"}, AllowCredentials: proto.Bool(true), AllowHeaders: []string{"Authorization"}}
	files := specFiles(t, []rpcSpec{
		{service: "Items", name: "Get", method: "GET", template: "/v1/items/{id}", policy: &corspb.Policy{AllowOriginSets: []string{"admin"}}},
		{service: "Items", name: "Delete", method: "DELETE", template: "/v1/items/{id}", policy: creds},
		{service: "Items", name: "Update", method: "PATCH", template: "/v1/{name=items/*}", body: true, policy: &corspb.Policy{AllowOriginSets: []string{"public"}, AllowHeaders: []string{"X-A"}}},
		{service: "Items", name: "Cancel", method: "POST", template: "/v1/{name=items/*}:cancel", body: true},
		{service: "Files", name: "Read", method: "GET", template: "/v2/{name=files/**}", policy: &corspb.Policy{AllowOrigins: []string{"*"}}},
		{service: "Files", name: "Write", method: "POST", template: "/v2/{name=files/**}", body: true, policy: &corspb.Policy{AllowOriginSets: []string{"public"}}},
	})
	type config struct {
		name string
		opts []gateway.Option
	}
	// Every configuration serves the same routes (Reconfigure refuses to
	// drop one), a WithRoute route among them, under its own policy.
	cfg := func(admin, public string, route *corspb.Policy, more ...gateway.Option) []gateway.Option {
		return append([]gateway.Option{
			protocors.WithFiles(files), protocors.WithOriginSet("admin", admin), protocors.WithOriginSet("public", public),
			gateway.WithRoute("PUT", "/v1/items/{id}", route),
		}, more...)
	}
	configs := []config{
		{"alike", cfg(a, a, nil)},
		{"apart", cfg(a, b, nil)},
		{"wider", cfg(a, c, nil)},
		{"default origins", cfg(a, b, nil, protocors.WithOrigins(c))},
		{"all characters", cfg(a, b, nil, gateway.WithUnescapingMode(runtime.UnescapingModeAllCharacters))},
		{"strict", cfg(a, b, nil, gateway.WithStrictDeepWildcardMatching())},
		{"no override", cfg(a, b, nil, gateway.WithDisableHTTPMethodOverride())},
		{"no fallback", cfg(a, b, nil, gateway.WithDisablePathLengthFallback())},
		{"extra route", cfg(a, b, &corspb.Policy{AllowOrigins: []string{b}})},
		{"extra route, other policy", cfg(a, b, &corspb.Policy{AllowOrigins: []string{a}, AllowHeaders: []string{"X-B"}})},
		{"extra route, star", cfg(a, b, &corspb.Policy{AllowOrigins: []string{"*"}})},
		{"debug", cfg(a, b, nil, protocors.WithDebug(true))},
		{"report only", cfg(a, b, nil, protocors.WithCrossOriginReportOnly(true))},
		{"unknown paths", cfg(a, b, nil, protocors.WithUnknownPathProtection(true))},
	}
	requests := diffRequests([]string{a, b, c})
	answers := func(h http.Handler) []string {
		out := make([]string, len(requests))
		for i, mk := range requests {
			r := mk()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			hd := w.Header()
			out[i] = fmt.Sprintf("%s %s %v: %d acao=%q acac=%q acam=%q acah=%q acma=%q aceh=%q vary=%q", r.Method, r.URL, r.Header, w.Code,
				hd.Values("Access-Control-Allow-Origin"), hd.Values("Access-Control-Allow-Credentials"), hd.Values("Access-Control-Allow-Methods"),
				hd.Values("Access-Control-Allow-Headers"), hd.Values("Access-Control-Max-Age"), hd.Values("Access-Control-Expose-Headers"), hd.Values("Vary"))
		}
		return out
	}
	ran := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) })
	for _, from := range configs {
		for _, to := range configs {
			mw, err := gateway.New(from.opts...)
			if err != nil {
				t.Fatalf("New(%s): %v", from.name, err)
			}
			fresh, newErr := gateway.New(to.opts...)
			reErr := mw.Reconfigure(to.opts...)
			if (newErr == nil) != (reErr == nil) {
				t.Errorf("%s -> %s: New says %v, Reconfigure %v", from.name, to.name, newErr, reErr)
				continue
			}
			if newErr != nil {
				continue
			}
			want, got := answers(fresh.Handler(ran)), answers(mw.Handler(ran))
			for i := range want {
				if want[i] != got[i] {
					t.Errorf("%s -> %s:\n New: %s\n got: %s", from.name, to.name, want[i], got[i])
					break
				}
			}
		}
	}
}

// diffRequests are preflights and actual requests to the paths of
// TestReconfigureAnswersAsNew, from each origin and without one.
func diffRequests(origins []string) []func() *http.Request {
	paths := []string{"/v1/items/7", "/v1/items/7:cancel", "/v1/items/a%2Fb", "/v2/files", "/v2/files/x/y", "/v3/none"}
	var out []func() *http.Request
	for _, path := range paths {
		for _, origin := range append(origins, "") {
			for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				for _, hs := range []string{"", "content-type", "x-a", "x-b", "authorization", "x-http-method-override"} {
					if origin == "" {
						break
					}
					out = append(out, func() *http.Request {
						r := httptest.NewRequest(http.MethodOptions, path, nil)
						r.Header.Set("Origin", origin)
						r.Header.Set("Access-Control-Request-Method", method)
						if hs != "" {
							r.Header.Set("Access-Control-Request-Headers", hs)
						}
						return r
					})
				}
				for _, extra := range []string{"", "cookie", "form", "override"} {
					out = append(out, func() *http.Request {
						r := httptest.NewRequest(method, path, strings.NewReader("a=b"))
						if origin != "" {
							r.Header.Set("Origin", origin)
						}
						switch extra {
						case "cookie":
							r.Header.Set("Cookie", "s=1")
						case "form", "override":
							r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
							if extra == "override" {
								r.Header.Set("X-HTTP-Method-Override", "DELETE")
							}
						}
						return r
					})
				}
			}
		}
	}
	return out
}
